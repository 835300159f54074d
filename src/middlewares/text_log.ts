/**
 * `TextLog`: one human-readable log line per job event.
 *
 * @module
 */
import type { Context, FailureContext, Middleware, SuccessContext } from "../actors/actor.ts";
import type { Logger } from "../_logger.ts";
import { durationOf, errorType } from "./_job.ts";

/**
 * Options of {@linkcode TextLog}.
 *
 * @example Log job starts as well
 * ```ts
 * import { TextLog } from "@walnats/walnats";
 *
 * const log = new TextLog({ start: true, logger: console });
 * ```
 */
export interface TextLogOptions {
  /**
   * Where lines go: `info` for start and success, `error` for failures.
   * @default the console (`console.info` / `console.error`)
   */
  readonly logger?: Logger;
  /** Log the start of each job too. @default true */
  readonly start?: boolean;
}

const consoleText: Logger = {
  error: (message) => console.error(message),
  warn: (message) => console.warn(message),
  info: (message) => console.info(message),
};

/**
 * Logs each job event as a sentence, for people reading a terminal:
 * `actor "greet-user" handled message 12 of "user-created" in 3.2 ms (attempt 1)`.
 * Use {@linkcode ExtraLog} where logs are parsed.
 *
 * @example Log to the console
 * ```ts
 * import * as v from "valibot";
 * import { Actor, Event, TextLog } from "@walnats/walnats";
 *
 * const userCreated = new Event("user-created", v.object({ id: v.number() }));
 * const greet = new Actor("greet-user", userCreated, () => {}, {
 *   middlewares: [new TextLog()],
 * });
 * ```
 */
export class TextLog implements Middleware {
  readonly #logger: Logger;
  readonly #start: boolean;

  /**
   * Log job events as sentences.
   *
   * @param options where to log, and whether to log starts
   */
  constructor(options: TextLogOptions = {}) {
    this.#logger = options.logger ?? consoleText;
    this.#start = options.start ?? true;
  }

  /** Log that a job started (unless `start: false`). */
  onStart(context: Context): void {
    if (this.#start) this.#logger.info(`${subject(context)} started ${about(context)}`);
  }

  /** Log that a job succeeded, with its duration. */
  onSuccess(context: SuccessContext): void {
    this.#logger.info(`${subject(context)} handled ${about(context, context.duration)}`);
  }

  /** Log that a job failed, with the error. */
  onFailure(context: FailureContext): void {
    const { error } = context;
    const reason = error instanceof Error ? `${errorType(error)}: ${error.message}` : String(error);
    const what = context.message === undefined && durationOf(context) === undefined
      ? "could not handle"
      : "failed on";
    this.#logger.error(
      `${subject(context)} ${what} ${about(context, durationOf(context))}: ${reason}`,
    );
  }
}

function subject(context: Context): string {
  return `actor "${context.actor.name}"`;
}

function about(context: Context, duration?: number): string {
  const time = duration === undefined ? "" : ` in ${duration.toFixed(1)} ms`;
  return `message ${context.metadata.streamSeq} of "${context.actor.event.name}"${time} ` +
    `(attempt ${context.attempts})`;
}
