/**
 * Run one handler call: job signal (timeout + shutdown), sync and async handlers,
 * and the pulse that keeps the message ours while it runs.
 *
 * @module
 */
import { JobTimeoutError } from "../errors.ts";
import type { Actor, Job } from "./actor.ts";

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
 * @param controller aborted by the listener on shutdown (after the grace period)
 * @param pulse called every `ackWait / 2` while the handler runs (if the actor pulses)
 */
export async function runHandler(
  actor: Actor<unknown, unknown>,
  message: unknown,
  job: Omit<Job, "signal">,
  controller: AbortController,
  pulse: () => void,
): Promise<Outcome> {
  const start = performance.now();
  const signal = controller.signal;
  const timer = setTimeout(
    () => controller.abort(new JobTimeoutError(actor.name, actor.jobTimeout)),
    actor.jobTimeout,
  );
  const pulser = actor.pulse ? setInterval(pulse, actor.ackWait / 2) : undefined;
  try {
    const result = actor.handler(message, { ...job, signal });
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
