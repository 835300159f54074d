/**
 * The worker side of a job, shared by Web Workers and worker processes: import the
 * handler's module (once), rebuild the job's signal, call the export, send back the
 * value or the error.
 *
 * @module
 */
import type { Job } from "../job.ts";
import { progressJson } from "../../progress.ts";
import {
  AbortKind,
  abortReason,
  type FromWorker,
  type RunRequest,
  toErrorData,
  type ToWorker,
} from "./_protocol.ts";

type Send = (message: FromWorker) => void;

/**
 * A worker posts progress at most this often, ms (the listener throttles its publishes
 * further): a handler reporting in a tight loop does not flood the channel.
 */
const PROGRESS_POST_INTERVAL = 50;

const modules = new Map<string, Promise<Record<string, unknown>>>();

function load(url: string): Promise<Record<string, unknown>> {
  let module = modules.get(url);
  if (!module) {
    module = import(url) as Promise<Record<string, unknown>>;
    // A failed import (a typo, a missing permission) is tried again by the next job.
    module.catch(() => modules.delete(url));
    modules.set(url, module);
  }
  return module;
}

/**
 * The message loop of a worker.
 * @param send posts to the listener; throws when the value cannot be cloned
 * @returns the function to call with each message from the listener
 */
export function serve(send: Send): (message: ToWorker) => void {
  /** Web Workers only: set by the listener while this worker is blocked in a job. */
  let flag: Int32Array | undefined;
  const running = new Map<number, () => void>();
  return (message) => {
    switch (message.type) {
      case "init":
        flag = new Int32Array(message.flag);
        return;
      case "abort":
        running.get(message.id)?.();
        return;
      case "run": {
        const { signal, trip } = jobSignal(message, flag);
        running.set(message.id, trip);
        run(message, signal, send).finally(() => running.delete(message.id));
        return;
      }
    }
  };
}

/**
 * A signal that aborts on the listener's abort message, and also as soon as the job
 * reads `aborted` / `reason` / `throwIfAborted()` after the listener set the shared
 * flag: a handler that blocks the worker's event loop cannot receive messages, but it
 * can poll its signal.
 */
function jobSignal(
  request: RunRequest,
  flag: Int32Array | undefined,
): { signal: AbortSignal; trip: () => void } {
  const controller = new AbortController();
  const signal = controller.signal;
  let tripped = false;
  const trip = () => {
    if (tripped) return;
    tripped = true;
    const kind = flag && Atomics.load(flag, 0) === request.id
      ? Atomics.load(flag, 1) as AbortKind
      : AbortKind.OTHER;
    controller.abort(abortReason(kind, request.actor, request.jobTimeout));
  };
  if (flag) {
    const shared = flag;
    const check = () => {
      if (!tripped && Atomics.load(shared, 0) === request.id) trip();
    };
    const proto = AbortSignal.prototype;
    const aborted = Object.getOwnPropertyDescriptor(proto, "aborted")!.get!;
    const reason = Object.getOwnPropertyDescriptor(proto, "reason")!.get!;
    Object.defineProperties(signal, {
      aborted: {
        get() {
          check();
          return aborted.call(signal);
        },
        configurable: true,
      },
      reason: {
        get() {
          check();
          return reason.call(signal);
        },
        configurable: true,
      },
      throwIfAborted: {
        value() {
          check();
          if (aborted.call(signal)) throw reason.call(signal);
        },
        configurable: true,
      },
    });
  }
  return { signal, trip };
}

async function run(request: RunRequest, signal: AbortSignal, send: Send): Promise<void> {
  let value: unknown;
  const progress = new ProgressPoster(request.id, send);
  try {
    const module = await load(request.module);
    const handler = module[request.name];
    if (typeof handler !== "function") {
      throw new TypeError(
        `Worker module "${request.module}" has no exported function "${request.name}"`,
      );
    }
    // Aborted while the module loaded: the handler would only start to be abandoned.
    signal.throwIfAborted();
    const job: Job = {
      signal,
      attempt: request.attempt,
      traceId: request.traceId,
      metadata: request.metadata,
      progress: (progressValue) => progress.report(progressJson(progressValue, request.actor)),
    };
    value = await handler(request.message, job);
  } catch (error) {
    progress.flush();
    send({ type: "done", id: request.id, ok: false, error: toErrorData(error) });
    return;
  }
  progress.flush();
  try {
    send({ type: "done", id: request.id, ok: true, value });
  } catch (error) {
    // Retrying cannot make the same code return something cloneable.
    send({
      type: "done",
      id: request.id,
      ok: false,
      error: {
        name: "UnrecoverableError",
        message: `The value returned by "${request.name}" cannot be sent from the worker: ${
          (error as Error).message
        }`,
      },
    });
  }
}

/** Posts a job's progress to the listener, at most once per interval (the last value wins). */
class ProgressPoster {
  readonly #id: number;
  readonly #send: Send;
  #json: string | undefined;
  #postedAt = Number.NEGATIVE_INFINITY;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #done = false;

  constructor(id: number, send: Send) {
    this.#id = id;
    this.#send = send;
  }

  report(json: string): void {
    if (this.#done) return;
    this.#json = json;
    if (this.#timer !== undefined) return;
    const wait = this.#postedAt + PROGRESS_POST_INTERVAL - performance.now();
    if (wait <= 0) this.#post();
    else this.#timer = setTimeout(() => this.#post(), wait);
  }

  /** The job ended: post what is pending, before the answer; take no more. */
  flush(): void {
    this.#done = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#post();
  }

  #post(): void {
    this.#timer = undefined;
    const json = this.#json;
    if (json === undefined) return;
    this.#json = undefined;
    this.#postedAt = performance.now();
    this.#send({ type: "progress", id: this.#id, json });
  }
}
