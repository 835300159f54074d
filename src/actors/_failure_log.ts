/**
 * The failure log of one actor: every failed attempt is logged, with its stack, until a
 * failure storm would bury everything else. A token bucket lets {@linkcode FAILURE_BURST}
 * lines through at once and refills at that many per {@linkcode FAILURE_INTERVAL}; what
 * it holds back is counted and reported in one line: "… N more failures of actor X
 * suppressed in the last T s".
 *
 * @module
 */
import type { Logger } from "../_logger.ts";
import { errorStack, errorText } from "../_error_text.ts";

/** Failure lines logged in full at once, per actor. */
export const FAILURE_BURST = 10;
/** The bucket refills `FAILURE_BURST` lines per this many ms (and suppressed ones are reported at least this often). */
export const FAILURE_INTERVAL = 60_000;

/** Options of a {@linkcode FailureLog} (for tests; the listener uses the defaults). */
export interface FailureLogOptions {
  /** Lines logged in full at once. @default FAILURE_BURST */
  readonly burst?: number;
  /** Refill period of the bucket, ms. @default FAILURE_INTERVAL */
  readonly interval?: number;
  /** The current time, ms. @default performance.now */
  readonly now?: () => number;
  /** Report suppressed lines by a timer as well (off in tests with a fake clock). @default true */
  readonly timer?: boolean;
}

/** What a failed attempt's line says. */
export interface FailedAttempt {
  readonly streamSeq: number;
  readonly attempt: number;
  readonly maxAttempts: number | undefined;
  readonly error: unknown;
}

/** Rate-limited failure lines of one actor. */
export class FailureLog {
  readonly #logger: Logger;
  readonly #actor: string;
  readonly #burst: number;
  readonly #interval: number;
  readonly #now: () => number;
  readonly #useTimer: boolean;
  #tokens: number;
  #updated: number;
  /** Lines held back since `#since`. */
  #suppressed = 0;
  #since = 0;
  #last = "";
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(logger: Logger, actor: string, options: FailureLogOptions = {}) {
    this.#logger = logger;
    this.#actor = actor;
    this.#burst = options.burst ?? FAILURE_BURST;
    this.#interval = options.interval ?? FAILURE_INTERVAL;
    this.#now = options.now ?? (() => performance.now());
    this.#useTimer = options.timer ?? true;
    this.#tokens = this.#burst;
    this.#updated = this.#now();
  }

  /** Lines held back and not reported yet. */
  get suppressed(): number {
    return this.#suppressed;
  }

  /** An attempt failed and the message will be retried after `delay` ms. */
  retrying(failure: FailedAttempt, delay: number): void {
    const { streamSeq, attempt, maxAttempts, error } = failure;
    const text = errorText(error);
    const of = maxAttempts === undefined ? "" : ` of ${maxAttempts}`;
    this.#line(
      "warn",
      `attempt ${attempt}${of} of actor "${this.#actor}" failed on message ${streamSeq}; ` +
        `retrying in ${Math.round(delay)} ms: ${text}`,
      text,
      error,
      { actor: this.#actor, streamSeq, attempt, maxAttempts, delay, error: text },
    );
  }

  /** A message was terminated after `why`; `where` says where its dead letter went. */
  terminated(failure: FailedAttempt, why: string, where: string): void {
    const { streamSeq, attempt, maxAttempts, error } = failure;
    const text = errorText(error);
    this.#line(
      "error",
      `message ${streamSeq} of actor "${this.#actor}" terminated: ${why}${where}: ${text}`,
      text,
      error,
      { actor: this.#actor, streamSeq, attempt, maxAttempts, error: text },
    );
  }

  /** Another failure line (without a stack), under the same limit. */
  other(level: "warn" | "error", message: string, data: Record<string, unknown>): void {
    this.#line(level, message, message, undefined, data);
  }

  /** Report what was held back, if anything. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const count = this.#suppressed;
    if (count === 0) return;
    const seconds = Math.max(1, Math.round((this.#now() - this.#since) / 1000));
    this.#suppressed = 0;
    this.#logger.warn(
      `… ${count} more ${count === 1 ? "failure" : "failures"} of actor "${this.#actor}" ` +
        `suppressed in the last ${seconds} s (the last: ${this.#last})`,
      { actor: this.#actor, suppressed: count, seconds },
    );
  }

  #line(
    level: "warn" | "error",
    message: string,
    text: string,
    error: unknown,
    data: Record<string, unknown>,
  ): void {
    const now = this.#now();
    this.#tokens = Math.min(
      this.#burst,
      this.#tokens + ((now - this.#updated) * this.#burst) / this.#interval,
    );
    this.#updated = now;
    if (this.#suppressed > 0 && now - this.#since >= this.#interval) this.flush();
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      const stack = error === undefined ? undefined : errorStack(error);
      // The stack's first line repeats the error text.
      const frames = stack?.split("\n").filter((line) => /^\s+at\s|^\S*@/.test(line)).join("\n");
      const full = stack === undefined ? data : { ...data, stack };
      this.#logger[level](frames ? `${message}\n${frames}` : message, full);
      return;
    }
    if (this.#suppressed === 0) {
      this.#since = now;
      if (this.#useTimer) {
        this.#timer = setTimeout(() => this.flush(), this.#interval);
        unref(this.#timer);
      }
    }
    this.#suppressed += 1;
    this.#last = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  }
}

/** Do not keep the process alive for a pending report. */
function unref(timer: unknown): void {
  const t = timer as { unref?: () => void };
  if (typeof t?.unref === "function") t.unref();
  else if (typeof timer === "number") {
    (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno?.unrefTimer?.(timer);
  }
}
