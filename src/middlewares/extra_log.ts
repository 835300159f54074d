/**
 * `ExtraLog`: one structured (JSON) log record per job event.
 *
 * @module
 */
import type { Context, FailureContext, Middleware, SuccessContext } from "../actors/actor.ts";
import type { Logger } from "../_logger.ts";
import { durationOf, errorData } from "./_job.ts";

/**
 * Options of {@linkcode ExtraLog}.
 *
 * @example Log job starts and messages too
 * ```ts
 * import { ExtraLog } from "@walnats/walnats";
 *
 * const log = new ExtraLog({ start: true, message: true });
 * ```
 */
export interface ExtraLogOptions {
  /**
   * Where records go: `info` for start and success, `error` for failures, with the
   * record as the data argument. Without a logger each record is printed as one
   * JSON line (`console.log`, failures `console.error`), ready for a log shipper.
   * @default one JSON line on the console
   */
  readonly logger?: Logger;
  /** Log the start of each job too. @default true */
  readonly start?: boolean;
  /** Include the decoded message in the record (mind secrets and size). @default false */
  readonly message?: boolean;
}

/**
 * One record written by {@linkcode ExtraLog}. Durations are milliseconds.
 *
 * @example Build the record of a job
 * ```ts
 * import { type Context, ExtraLog, type ExtraLogRecord } from "@walnats/walnats";
 *
 * const log = new ExtraLog();
 * const startRecord = (context: Context): ExtraLogRecord => log.record("start", context);
 * ```
 */
export interface ExtraLogRecord {
  /** When the record was made, ISO 8601. */
  readonly time: string;
  /** `"info"` for start and success, `"error"` for failure. */
  readonly level: "info" | "error";
  /** A human summary: `"job started"`, `"job succeeded"`, `"job failed"`. */
  readonly msg: string;
  /** Which hook wrote it. */
  readonly phase: "start" | "success" | "failure";
  /** The actor name. */
  readonly actor: string;
  /** The event name. */
  readonly event: string;
  /** The attempt, from 1. */
  readonly attempt: number;
  /** The message's sequence number in the stream. */
  readonly streamSeq: number;
  /** The `Walnats-Trace` header, when set. */
  readonly traceId?: string;
  /** How long the handler ran (success, and failures after the handler ran). */
  readonly duration?: number;
  /** Why the job failed. */
  readonly error?: { readonly type: string; readonly message: string };
  /** The decoded message (with `message: true`). */
  readonly message?: unknown;
}

/**
 * Logs each job event as one structured record: actor, event, attempt, stream
 * sequence, trace id, duration and error. Use it where logs are parsed (JSON lines,
 * a structured logger); use {@linkcode TextLog} where people read them.
 *
 * @example JSON lines on the console
 * ```ts
 * import * as v from "valibot";
 * import { Actor, Event, ExtraLog } from "@walnats/walnats";
 *
 * const userCreated = new Event("user-created", v.object({ id: v.number() }));
 * const greet = new Actor("greet-user", userCreated, () => {}, {
 *   middlewares: [new ExtraLog({ start: false })],
 * });
 * // {"time":"…","level":"info","msg":"job succeeded","phase":"success","actor":"greet-user",…}
 * ```
 */
export class ExtraLog implements Middleware {
  readonly #logger: Logger | undefined;
  readonly #start: boolean;
  readonly #message: boolean;

  /**
   * Log job events as records.
   *
   * @param options where to log, and what
   */
  constructor(options: ExtraLogOptions = {}) {
    this.#logger = options.logger;
    this.#start = options.start ?? true;
    this.#message = options.message ?? false;
  }

  /** Log that a job started (unless `start: false`). */
  onStart(context: Context): void {
    if (this.#start) this.#write(this.record("start", context));
  }

  /** Log that a job succeeded, with its duration. */
  onSuccess(context: SuccessContext): void {
    this.#write(this.record("success", context));
  }

  /** Log that a job failed, with the error. */
  onFailure(context: FailureContext): void {
    this.#write(this.record("failure", context));
  }

  /**
   * Build the record of one job event (what the hooks write).
   *
   * @param phase which hook
   * @param context the hook's context
   * @returns the record
   */
  record(phase: "start" | "success" | "failure", context: Context): ExtraLogRecord {
    const duration = durationOf(context);
    const failure = phase === "failure";
    return {
      time: new Date().toISOString(),
      level: failure ? "error" : "info",
      msg: failure ? "job failed" : phase === "start" ? "job started" : "job succeeded",
      phase,
      actor: context.actor.name,
      event: context.actor.event.name,
      attempt: context.attempts,
      streamSeq: context.metadata.streamSeq,
      ...(context.traceId !== undefined && { traceId: context.traceId }),
      ...(duration !== undefined && { duration: Math.round(duration * 1000) / 1000 }),
      ...(failure && { error: errorData((context as FailureContext).error) }),
      ...(this.#message && { message: context.message }),
    };
  }

  #write(record: ExtraLogRecord): void {
    const data = record as unknown as Record<string, unknown>;
    if (this.#logger) {
      if (record.level === "error") this.#logger.error(record.msg, data);
      else this.#logger.info(record.msg, data);
    } else if (record.level === "error") {
      console.error(JSON.stringify(record));
    } else {
      console.log(JSON.stringify(record));
    }
  }
}
