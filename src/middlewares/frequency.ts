/**
 * `Frequency`: report a kind of failure at most once per time frame.
 *
 * @module
 */
import type { Context, FailureContext, Middleware, SuccessContext } from "../actors/actor.ts";
import { checkTarget, errorType, type FailureTarget, forwardFailure } from "./_job.ts";

/**
 * Options of {@linkcode Frequency}. Durations are milliseconds.
 *
 * @example Alert at most once a minute per actor
 * ```ts
 * import { Frequency, TextLog } from "@walnats/walnats";
 *
 * const rare = new Frequency(new TextLog(), { timeFrame: 60_000, perActor: true });
 * ```
 */
export interface FrequencyOptions {
  /** Report each kind of failure at most once in this many milliseconds. @default 60000 */
  readonly timeFrame?: number;
  /** Tell failures of different actors apart. @default true */
  readonly perActor?: boolean;
  /** Tell failures with different error types (`error.name`) apart. @default true */
  readonly perErrorType?: boolean;
  /** The clock, epoch milliseconds (tests inject one). @default Date.now */
  readonly now?: () => number;
}

/**
 * Lets a failure through to `target` only if no failure of the same kind (same actor,
 * same error type, by default) went through within the time frame, so that a burst
 * of identical errors makes one alert, not a thousand. State is per middleware
 * instance (this process).
 *
 * Only failures are filtered: `onStart` and `onSuccess` reach a target middleware
 * unchanged.
 *
 * @example One alert per actor and error type every 5 minutes
 * ```ts
 * import { Frequency } from "@walnats/walnats";
 *
 * const alert = new Frequency((ctx) => {
 *   console.error(`actor ${ctx.actor.name} failed: ${ctx.error}`);
 * }, { timeFrame: 5 * 60_000 });
 * ```
 */
export class Frequency implements Middleware {
  readonly #target: FailureTarget;
  readonly #timeFrame: number;
  readonly #perActor: boolean;
  readonly #perErrorType: boolean;
  readonly #now: () => number;
  readonly #last = new Map<string, number>();

  /**
   * Throttle the failures sent to `target`.
   *
   * @param target the middleware or function that gets the failures let through
   * @param options time frame and what tells failures apart
   * @throws {RangeError} when `timeFrame` is not a positive number
   * @throws {TypeError} when `target` is neither a middleware nor a function
   */
  constructor(target: FailureTarget, options: FrequencyOptions = {}) {
    checkTarget("Frequency", target);
    const timeFrame = options.timeFrame ?? 60_000;
    if (!(Number.isFinite(timeFrame) && timeFrame > 0)) {
      throw new RangeError(
        `Invalid option "timeFrame" of Frequency: expected positive milliseconds, got ${timeFrame}`,
      );
    }
    this.#target = target;
    this.#timeFrame = timeFrame;
    this.#perActor = options.perActor ?? true;
    this.#perErrorType = options.perErrorType ?? true;
    this.#now = options.now ?? Date.now;
  }

  /** Forward the start to a target middleware. */
  onStart(context: Context): void | Promise<void> {
    if (typeof this.#target !== "function") return this.#target.onStart?.(context);
  }

  /** Forward the success to a target middleware. */
  onSuccess(context: SuccessContext): void | Promise<void> {
    if (typeof this.#target !== "function") return this.#target.onSuccess?.(context);
  }

  /** Forward the failure unless one of its kind went through within the time frame. */
  onFailure(context: FailureContext): void | Promise<void> {
    const key = `${this.#perActor ? context.actor.name : ""}\0${
      this.#perErrorType ? errorType(context.error) : ""
    }`;
    const now = this.#now();
    const last = this.#last.get(key);
    if (last !== undefined && now - last < this.#timeFrame) return;
    this.#forget(now);
    this.#last.set(key, now);
    return forwardFailure(this.#target, context);
  }

  /** Drop kinds whose time frame is over, so that the map stays small. */
  #forget(now: number): void {
    if (this.#last.size < 256) return;
    for (const [key, time] of this.#last) {
      if (now - time >= this.#timeFrame) this.#last.delete(key);
    }
  }
}
