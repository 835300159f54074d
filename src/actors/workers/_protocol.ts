/**
 * What the listener and its workers say to each other, and how errors cross
 * (structured clone keeps neither custom classes nor their fields).
 *
 * @module
 */
import { JobTimeoutError, RetryLaterError, UnrecoverableError } from "../../errors.ts";
import type { JobMetadata } from "../job.ts";

/** Why a job's signal aborted, as a worker can rebuild it. */
export const AbortKind = { OTHER: 0, TIMEOUT: 1, SHUTDOWN: 2 } as const;
/** One of {@linkcode AbortKind}. */
export type AbortKind = typeof AbortKind[keyof typeof AbortKind];

/** Listener → worker: run a job. */
export interface RunRequest {
  readonly type: "run";
  /** Unique in the listener; the answer carries it. */
  readonly id: number;
  readonly module: string;
  readonly name: string;
  readonly message: unknown;
  readonly attempt: number;
  readonly traceId: string | undefined;
  readonly metadata: JobMetadata;
  /** For the worker to rebuild the timeout's abort reason. */
  readonly actor: string;
  readonly jobTimeout: number;
}

/** Listener → worker: the job's signal aborted (Web Workers only). */
export interface AbortRequest {
  readonly type: "abort";
  readonly id: number;
  readonly kind: AbortKind;
}

/** Listener → Web Worker, first message: the shared abort flag. */
export interface InitRequest {
  readonly type: "init";
  /** `Int32Array` of 2 over a `SharedArrayBuffer`: [aborted job id, abort kind]. */
  readonly flag: SharedArrayBuffer;
}

/** What the listener sends. */
export type ToWorker = RunRequest | AbortRequest | InitRequest;

/** Worker → listener: a job ended. */
export type DoneReply =
  | { readonly type: "done"; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly type: "done"; readonly id: number; readonly ok: false; readonly error: ErrorData };

/** Worker → listener: the worker is about to exit on its own (`close()`, `exit()`). */
export interface ExitNotice {
  readonly type: "exit";
  readonly code: number;
}

/** Worker → listener: job `id` reported progress (checked JSON), which the listener publishes. */
export interface ProgressNotice {
  readonly type: "progress";
  readonly id: number;
  readonly json: string;
}

/** What a worker sends. */
export type FromWorker = DoneReply | ExitNotice | ProgressNotice;

/** An error as it crosses: what settlement and logs need. */
export interface ErrorData {
  readonly name: string;
  readonly message: string;
  readonly stack?: string | undefined;
  /** `RetryLaterError.delay`. */
  readonly delay?: number;
  readonly cause?: ErrorData;
}

/** Flatten an error (or anything thrown) for postMessage. */
export function toErrorData(error: unknown, depth = 0): ErrorData {
  if (!(error instanceof Error)) {
    return { name: "Error", message: typeof error === "string" ? error : safeString(error) };
  }
  const data: { -readonly [K in keyof ErrorData]: ErrorData[K] } = {
    name: error.name,
    message: error.message,
    stack: error.stack,
  };
  if (error instanceof RetryLaterError) data.delay = error.delay;
  if (error.cause !== undefined && depth < 4) data.cause = toErrorData(error.cause, depth + 1);
  return data;
}

/**
 * Rebuild an error: the classes that steer settlement ({@linkcode UnrecoverableError},
 * {@linkcode RetryLaterError}) and built-in ones keep their class; others become an
 * `Error` with the original name. The stack is the worker's.
 */
export function fromErrorData(data: ErrorData): Error {
  const options = data.cause ? { cause: fromErrorData(data.cause) } : undefined;
  let error: Error;
  if (data.name === "UnrecoverableError") {
    error = new UnrecoverableError(data.message, options);
  } else if (data.name === "RetryLaterError" && typeof data.delay === "number") {
    error = new RetryLaterError(data.delay, data.message, options);
  } else if (data.name === "JobTimeoutError") {
    error = new JobTimeoutError("", 0);
    error.message = data.message;
  } else {
    const builtin = (globalThis as Record<string, unknown>)[data.name];
    error = typeof builtin === "function" && builtin.prototype instanceof Error
      ? new (builtin as ErrorConstructor)(data.message, options)
      : new Error(data.message, options);
  }
  Object.defineProperty(error, "name", {
    value: data.name,
    writable: true,
    configurable: true,
    enumerable: false,
  });
  if (data.stack !== undefined) {
    Object.defineProperty(error, "stack", {
      value: data.stack,
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
  return error;
}

/** The abort reason a worker gives its job's signal. */
export function abortReason(kind: AbortKind, actor: string, jobTimeout: number): Error {
  if (kind === AbortKind.TIMEOUT) return new JobTimeoutError(actor, jobTimeout);
  const error = new Error(
    kind === AbortKind.SHUTDOWN ? "The listener is shutting down" : "The job was aborted",
  );
  error.name = kind === AbortKind.SHUTDOWN ? "ShutdownError" : "AbortError";
  return error;
}

/** How the listener tells a worker why its job's signal aborted. */
export function abortKind(reason: unknown): AbortKind {
  if (reason instanceof JobTimeoutError) return AbortKind.TIMEOUT;
  if (reason instanceof Error && reason.name === "ShutdownError") return AbortKind.SHUTDOWN;
  return AbortKind.OTHER;
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
