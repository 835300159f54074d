/**
 * Run one handler call: job signal (timeout + shutdown), sync and async handlers,
 * worker handlers in their pool, and the pulse that keeps the message ours while it runs.
 *
 * @module
 */
import { JobTimeoutError } from "../errors.ts";
import type { Actor, Handler } from "./actor.ts";
import type { Job } from "./job.ts";
import { isWorkerHandler, type WorkerHandler } from "./workers/worker_handler.ts";
import type { WorkerPools } from "./workers/worker_pool.ts";
import type { JobClock, JobControl } from "./job_control.ts";
import { type ProgressBoard, reportProgress } from "./job_progress.ts";
import { progressJson, type ProgressValue } from "../progress.ts";
import type { MsgHdrs } from "@nats-io/nats-core";

/** How a handler call ended. */
export type Outcome =
  | { readonly ok: true; readonly value: unknown; readonly duration: number }
  | { readonly ok: false; readonly error: unknown; readonly duration: number };

/** The `job` argument of a handler: its signal is made only if the handler reads it. */
export class JobArgument implements Job {
  readonly attempt: number;
  readonly traceId: string | undefined;
  readonly metadata: Job["metadata"];
  readonly #control: JobControl;
  readonly #board: ProgressBoard;
  readonly #headers: MsgHdrs | undefined;

  constructor(
    attempt: number,
    traceId: string | undefined,
    metadata: Job["metadata"],
    control: JobControl,
    board: ProgressBoard,
    headers: MsgHdrs | undefined,
  ) {
    this.attempt = attempt;
    this.traceId = traceId;
    this.metadata = metadata;
    this.#control = control;
    this.#board = board;
    this.#headers = headers;
  }

  get signal(): AbortSignal {
    return this.#control.signal;
  }

  progress(value: ProgressValue): void {
    const json = progressJson(value, this.#board.actor);
    reportProgress(this.#control, this.#board, this.attempt, this.metadata, this.#headers, json);
  }
}

/** What a job is besides its message and control: the `job` argument's facts, and where progress goes. */
export interface JobFields {
  readonly attempt: number;
  readonly traceId: string | undefined;
  readonly metadata: Job["metadata"];
  readonly headers: MsgHdrs | undefined;
  readonly board: ProgressBoard;
}

/**
 * Call the handler. The job is aborted (its signal, and the wait for its result) after
 * `jobTimeout` by the actor's clock, or by the listener on shutdown; either ends the
 * wait at once (a handler that ignores its signal keeps running, but its result is no
 * longer awaited). A sync handler that overran `jobTimeout` is reported as timed out
 * when it returns. The clock pulses the job from the start until it ends.
 *
 * With `executeIn: "thread"` or `"process"` the job goes to its pool: it may wait there
 * for a free worker (pulses continue, the timeout starts when a worker takes it), the
 * decoded message is cloned into the worker (bytes are moved to a thread), and an abort
 * is mirrored into a thread or kills a process.
 *
 * @param control the job's abort state, aborted by the clock or the listener
 * @param clock the actor's clock (timeouts and pulses)
 * @param pools the listener's worker pools (needed for worker execution)
 */
export async function runHandler(
  actor: Actor<unknown, unknown>,
  message: unknown,
  job: JobFields,
  control: JobControl,
  clock: JobClock,
  pools?: WorkerPools,
): Promise<Outcome> {
  let start = performance.now();
  clock.begin(control, start);
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
        control.signal,
        () => {
          start = performance.now();
          clock.startTimeout(control);
        },
        (json) => {
          // Checked in the worker; checked again here, where the bytes leave the process.
          let checked: string;
          try {
            checked = progressJson(JSON.parse(json), actor.name);
          } catch (error) {
            job.board.onError(error);
            return;
          }
          reportProgress(control, job.board, job.attempt, job.metadata, job.headers, checked);
        },
      );
      return { ok: true, value, duration: performance.now() - start };
    }
    let call: Handler<unknown, unknown>;
    if (typeof handler === "function") call = handler;
    else {
      call = await importHandler(handler);
      start = performance.now();
    }
    clock.startTimeout(control, start);
    const result = call(
      message,
      new JobArgument(job.attempt, job.traceId, job.metadata, control, job.board, job.headers),
    );
    if (!(result instanceof Promise)) {
      const duration = performance.now() - start;
      if (duration > actor.jobTimeout) {
        return { ok: false, error: new JobTimeoutError(actor.name, actor.jobTimeout), duration };
      }
      return { ok: true, value: result, duration };
    }
    const value = await control.race(result);
    return { ok: true, value, duration: performance.now() - start };
  } catch (error) {
    return { ok: false, error, duration: performance.now() - start };
  } finally {
    clock.end(control);
    control.endProgress();
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
