/**
 * The run stage: one handler call with its job clock (timeout and pulses), whatever the
 * handler is: a function on the main thread (sync or async), a worker handler imported
 * on the main thread, or a worker handler run in a thread or process pool; inside the
 * middlewares' `aroundJob` wrappers when the actor has any.
 *
 * The call reports its end to a callback instead of resolving a promise: for the common
 * job (a function handler) no async frame waits on the handler, which saves memory and
 * time per job in flight.
 *
 * @module
 */
import { JobTimeoutError } from "../errors.ts";
import type { Actor, Context, Handler } from "./actor.ts";
import type { Job } from "./job.ts";
import { isWorkerHandler, type WorkerHandler } from "./workers/worker_handler.ts";
import type { WorkerPools } from "./workers/worker_pool.ts";
import { type JobClock, JobControl } from "./job_control.ts";
import { type ProgressBoard, reportProgress } from "./job_progress.ts";
import { progressJson, type ProgressValue } from "../progress.ts";
import { jobScope } from "./context.ts";
import { TRACE } from "../headers.ts";
import type { Delivery } from "./delivery.ts";
import type { Permit } from "./priority.ts";
import type { Attempts } from "./attempts.ts";

/** A job from the start of its handler call to its settlement. */
export class RunningJob extends JobControl {
  /** The middlewares' context, when the actor has middlewares. */
  context: Context | undefined = undefined;
  /** Where the runner keeps it among its running jobs (-1: not there). */
  index = -1;
  #attempt = 0;
  readonly #attempts: Attempts;

  /**
   * @param received the delivered message
   * @param permit its slots, given back when the job is settled
   * @param pulse whether to pulse the message while the job runs (the actor's `pulse`)
   * @param attempts counts the actor's attempts (see {@linkcode attempt})
   */
  constructor(
    readonly received: Delivery,
    readonly permit: Permit,
    pulse: boolean,
    attempts: Attempts,
  ) {
    super(pulse ? received : undefined);
    this.#attempts = attempts;
  }

  /** Which attempt this is (1 for the first), worked out on first use. */
  get attempt(): number {
    return this.#attempt ||= this.#attempts.of(this.received, this.received.delayUntil);
  }
}

/** Told once how a job's handler call ended: its value, or what it threw or was aborted with. */
export type Ended = (job: RunningJob, ok: boolean, value: unknown) => void;

/** The `job` argument of a handler: its signal is made only if the handler reads it. */
export class JobArgument implements Job {
  readonly #job: RunningJob;
  readonly #board: ProgressBoard;

  constructor(job: RunningJob, board: ProgressBoard) {
    this.#job = job;
    this.#board = board;
  }

  get attempt(): number {
    return this.#job.attempt;
  }

  get traceId(): string | undefined {
    return this.#job.received.headers?.get(TRACE) || undefined;
  }

  get metadata(): Job["metadata"] {
    return this.#job.received.metadata;
  }

  get signal(): AbortSignal {
    return this.#job.signal;
  }

  progress(value: ProgressValue): void {
    const json = progressJson(value, this.#board.actor);
    const job = this.#job;
    reportProgress(
      job,
      this.#board,
      job.attempt,
      job.received.metadata,
      job.received.headers,
      json,
    );
  }
}

/** What a handler call needs from its actor's runner. */
export interface RunDeps {
  /** Times the job out and pulses it. */
  readonly clock: JobClock;
  /** Where progress goes. */
  readonly board: ProgressBoard;
  /** The listener's worker pools (for `executeIn` "thread" and "process"). */
  readonly pools: WorkerPools | undefined;
  /** Told about an `aroundJob` wrapper that failed. */
  report(error: unknown): void;
}

/**
 * Call the actor's handler for `job` and tell `ended` how it ended, once. The job's
 * clock pulses it from now on; its timeout starts when the handler starts (for a pool,
 * when a worker takes the job). An abort (the timeout, or shutdown) ends the wait at
 * once: a handler that ignores its signal keeps running, but its result is not awaited.
 * A synchronous handler cannot be interrupted: one that overran `jobTimeout` is reported
 * as timed out when it returns.
 *
 * With `executeIn: "thread"` or `"process"` the job goes to its pool: the decoded
 * message is cloned into the worker (bytes are moved to a thread), and an abort is
 * mirrored into a thread or kills a process.
 *
 * @param now `performance.now()` as the job starts (a caller that read it a moment ago
 * passes that read)
 */
export function runJob(
  actor: Actor<unknown, unknown>,
  message: unknown,
  job: RunningJob,
  deps: RunDeps,
  ended: Ended,
  now: number = performance.now(),
): void {
  job.started = now;
  deps.clock.begin(job, now);
  const handler = actor.handler;
  if (typeof handler === "function") callFunction(actor, handler, message, job, deps, ended, now);
  else if (isWorkerHandler(handler) && actor.executeIn !== "main") {
    let running: Promise<unknown>;
    try {
      running = inPool(actor, handler, message, job, deps);
    } catch (error) {
      ended(job, false, error);
      return;
    }
    job.watch(running, ended);
  } else {
    importHandler(handler).then(
      (fn) => {
        if (job.aborted) ended(job, false, job.reason); // shutdown while importing
        else callFunction(actor, fn, message, job, deps, ended, performance.now());
      },
      (error) => ended(job, false, error),
    );
  }
}

/**
 * A function handler: called directly, or inside the job scope when the actor has
 * middlewares.
 * @param now `performance.now()`, taken by the caller a moment ago
 */
function callFunction(
  actor: Actor<unknown, unknown>,
  handler: Handler<unknown, unknown>,
  message: unknown,
  job: RunningJob,
  deps: RunDeps,
  ended: Ended,
  now: number,
): void {
  if (job.context !== undefined) {
    scoped(actor, handler, message, job, deps, ended);
    return;
  }
  let result: unknown;
  try {
    result = call(actor, handler, message, job, deps, now);
  } catch (error) {
    ended(job, false, error);
    return;
  }
  if (result instanceof Promise) job.watch(result, ended);
  else ended(job, true, result);
}

/**
 * Call a function handler with the job's timeout started.
 * @param start when the call starts (`performance.now()`)
 * @throws what the handler threw, or a {@linkcode JobTimeoutError} for a sync overrun
 */
function call(
  actor: Actor<unknown, unknown>,
  handler: Handler<unknown, unknown>,
  message: unknown,
  job: RunningJob,
  deps: RunDeps,
  start: number,
): unknown {
  deps.clock.startTimeout(job, start);
  const result = handler(message, new JobArgument(job, deps.board));
  if (!(result instanceof Promise) && performance.now() - start > actor.jobTimeout) {
    throw new JobTimeoutError(actor.name, actor.jobTimeout);
  }
  return result;
}

/** The call inside the job scope and the middlewares' `aroundJob` wrappers. */
function scoped(
  actor: Actor<unknown, unknown>,
  handler: Handler<unknown, unknown>,
  message: unknown,
  job: RunningJob,
  deps: RunDeps,
  ended: Ended,
): void {
  type Settled = { ok: boolean; value: unknown };
  const run = (): Promise<Settled> => {
    try {
      const result = call(actor, handler, message, job, deps, performance.now());
      if (!(result instanceof Promise)) return Promise.resolve({ ok: true, value: result });
      // The wrappers wait for the handler, or for its abort (the job's end).
      return job.race(result).then(
        (value) => ({ ok: true, value }),
        (value) => ({ ok: false, value }),
      );
    } catch (value) {
      return Promise.resolve({ ok: false, value });
    }
  };
  const context = job.context!;
  const settled = jobScope({ context, headers: job.received.headers }, run, deps.report);
  job.watch(settled, (job, ok, value) => {
    if (!ok) ended(job, false, value); // aborted before the wrappers returned
    else ended(job, (value as Settled).ok, (value as Settled).value);
  });
}

/** Run a worker handler in its pool: the timeout starts when a worker takes the job. */
function inPool(
  actor: Actor<unknown, unknown>,
  handler: WorkerHandler,
  message: unknown,
  job: RunningJob,
  deps: RunDeps,
): Promise<unknown> {
  const pool = deps.pools?.[actor.executeIn as "thread" | "process"];
  if (!pool) throw new TypeError(`No ${actor.executeIn} pool for actor "${actor.name}"`);
  const { received } = job;
  return pool.run(
    {
      actor: actor.name,
      jobTimeout: actor.jobTimeout,
      module: handler.module,
      name: handler.name,
      message,
      attempt: job.attempt,
      traceId: received.headers?.get(TRACE) || undefined,
      metadata: { ...received.metadata },
    },
    job.signal,
    () => deps.clock.startTimeout(job),
    (json) => {
      // Checked in the worker; checked again here, where the bytes leave the process.
      let checked: string;
      try {
        checked = progressJson(JSON.parse(json), actor.name);
      } catch (error) {
        deps.board.onError(error);
        return;
      }
      reportProgress(job, deps.board, job.attempt, received.metadata, received.headers, checked);
    },
  );
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
