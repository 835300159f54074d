/**
 * The worker side of a job, shared by Web Workers and worker processes: import the
 * handler's module (once), rebuild the job's signal, call the export, send back the
 * value or the error.
 *
 * @module
 */
import type { Job } from "../actor.ts";
import {
  AbortKind,
  abortReason,
  type FromWorker,
  type RunRequest,
  toErrorData,
  type ToWorker,
} from "./_protocol.ts";

type Send = (message: FromWorker) => void;

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
    };
    value = await handler(request.message, job);
  } catch (error) {
    send({ type: "done", id: request.id, ok: false, error: toErrorData(error) });
    return;
  }
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
