/**
 * Run one handler call: job signal (timeout + shutdown), sync and async handlers,
 * worker handlers in their pool, and the pulse that keeps the message ours while it runs.
 *
 * @module
 */
import { JobTimeoutError } from "../errors.ts";
import type { Actor, Handler, Job } from "./actor.ts";
import { isWorkerHandler, type WorkerHandler } from "./workers/worker_handler.ts";
import type { WorkerPools } from "./workers/worker_pool.ts";

/** How a handler call ended. */
export type Outcome =
  | { readonly ok: true; readonly value: unknown; readonly duration: number }
  | { readonly ok: false; readonly error: unknown; readonly duration: number };

/**
 * Call the handler. The job's signal aborts after `jobTimeout` or when `stop` aborts;
 * either ends the wait at once (a handler that ignores its signal keeps running, but
 * its result is no longer awaited). A sync handler that overran `jobTimeout` is
 * reported as timed out when it returns.
 *
 * With `executeIn: "thread"` or `"process"` the job goes to its pool: it may wait there
 * for a free worker (pulses continue, the timeout starts when a worker takes it), the
 * decoded message is cloned into the worker (bytes are moved to a thread), and an abort
 * is mirrored into a thread or kills a process.
 *
 * @param controller aborted by the listener on shutdown (after the grace period)
 * @param pulse called every `ackWait / 2` while the handler runs (if the actor pulses)
 * @param pools the listener's worker pools (needed for worker execution)
 */
export async function runHandler(
  actor: Actor<unknown, unknown>,
  message: unknown,
  job: Omit<Job, "signal">,
  controller: AbortController,
  pulse: () => void,
  pools?: WorkerPools,
): Promise<Outcome> {
  let start = performance.now();
  const signal = controller.signal;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const startTimer = () => {
    start = performance.now();
    timer = setTimeout(
      () => controller.abort(new JobTimeoutError(actor.name, actor.jobTimeout)),
      actor.jobTimeout,
    );
  };
  const pulser = actor.pulse ? setInterval(pulse, actor.ackWait / 2) : undefined;
  try {
    const handler = actor.handler;
    if (isWorkerHandler(handler) && actor.executeIn !== "main") {
      const pool = pools?.[actor.executeIn];
      if (!pool) throw new TypeError(`No ${actor.executeIn} pool for actor "${actor.name}"`);
      const value = await pool.run(
        {
          actor: actor.name,
          jobTimeout: actor.jobTimeout,
          module: handler.module,
          name: handler.name,
          message,
          attempt: job.attempt,
          traceId: job.traceId,
          metadata: { ...job.metadata },
        },
        signal,
        startTimer,
      );
      return { ok: true, value, duration: performance.now() - start };
    }
    const call = typeof handler === "function" ? handler : await importHandler(handler);
    startTimer();
    const result = call(message, { ...job, signal });
    if (!(result instanceof Promise)) {
      const duration = performance.now() - start;
      if (duration > actor.jobTimeout) {
        return { ok: false, error: new JobTimeoutError(actor.name, actor.jobTimeout), duration };
      }
      return { ok: true, value: result, duration };
    }
    if (signal.aborted) throw signal.reason;
    const value = await new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      result.then(
        (v) => {
          signal.removeEventListener("abort", onAbort);
          resolve(v);
        },
        (e) => {
          signal.removeEventListener("abort", onAbort);
          reject(e);
        },
      );
    });
    return { ok: true, value, duration: performance.now() - start };
  } catch (error) {
    return { ok: false, error, duration: performance.now() - start };
  } finally {
    clearTimeout(timer);
    if (pulser !== undefined) clearInterval(pulser);
  }
}

/** `executeIn: "main"` with a worker handler: import the module here (once, as `import` caches). */
async function importHandler(handler: WorkerHandler): Promise<Handler<unknown, unknown>> {
  const module = await import(handler.module) as Record<string, unknown>;
  const fn = module[handler.name];
  if (typeof fn !== "function") {
    throw new TypeError(
      `Worker module "${handler.module}" has no exported function "${handler.name}"`,
    );
  }
  return fn as Handler<unknown, unknown>;
}
