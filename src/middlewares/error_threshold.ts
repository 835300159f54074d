/**
 * `ErrorThreshold`: report failures only after N in a row.
 *
 * @module
 */
import type { Context, FailureContext, Middleware, SuccessContext } from "../actors/actor.ts";
import { checkTarget, type FailureTarget, forwardFailure } from "./_job.ts";

/**
 * Options of {@linkcode ErrorThreshold}: how many failures in a row before they are
 * reported, counted in up to three ways. A failure is reported when any configured
 * count has reached its threshold. When none is given, `actor` is 20.
 *
 * @example Alert after 5 failures of an actor in a row
 * ```ts
 * import { ErrorThreshold, TextLog } from "@walnats/walnats";
 *
 * const threshold = new ErrorThreshold(new TextLog(), { actor: 5 });
 * ```
 */
export interface ErrorThresholdOptions {
  /** Failures in a row across all actors using this middleware; any success resets it. */
  readonly total?: number;
  /** Failures in a row of one actor; a success of that actor resets it. */
  readonly actor?: number;
  /**
   * Failed attempts of one message: its attempt number (which counts across all
   * instances, as the server counts deliveries; delayed redeliveries excluded).
   */
  readonly message?: number;
}

/**
 * Lets a failure through to `target` only once failures have happened several times
 * in a row, for alerts that should not fire on every transient error. Counting is
 * per middleware instance (this process); `message` uses the attempt number and so
 * holds across instances.
 *
 * Only failures are filtered: `onStart` and `onSuccess` reach a target middleware
 * unchanged, so wrappers compose (`new ErrorThreshold(new Frequency(alert))`).
 *
 * @example Alert after five failures of an actor in a row
 * ```ts
 * import * as v from "valibot";
 * import { Actor, ErrorThreshold, Event } from "@walnats/walnats";
 *
 * const alert = new ErrorThreshold((ctx) => {
 *   console.error(`actor ${ctx.actor.name} keeps failing: ${ctx.error}`);
 * }, { actor: 5 });
 * const userCreated = new Event("user-created", v.object({ id: v.number() }));
 * const greet = new Actor("greet-user", userCreated, () => {}, { middlewares: [alert] });
 * ```
 */
export class ErrorThreshold implements Middleware {
  readonly #target: FailureTarget;
  readonly #total: number | undefined;
  readonly #actor: number | undefined;
  readonly #message: number | undefined;
  #totalFailures = 0;
  readonly #actorFailures = new Map<string, number>();

  /**
   * Hold back the failures sent to `target` until a threshold is reached.
   *
   * @param target the middleware or function that gets the failures let through
   * @param options thresholds
   * @throws {RangeError} when a threshold is not a positive integer
   * @throws {TypeError} when `target` is neither a middleware nor a function
   */
  constructor(target: FailureTarget, options: ErrorThresholdOptions = {}) {
    checkTarget("ErrorThreshold", target);
    for (const key of ["total", "actor", "message"] as const) {
      const value = options[key];
      if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) {
        throw new RangeError(
          `Invalid option "${key}" of ErrorThreshold: expected a positive integer, got ${value}`,
        );
      }
    }
    this.#target = target;
    const none = options.total === undefined && options.actor === undefined &&
      options.message === undefined;
    this.#total = options.total;
    this.#actor = none ? 20 : options.actor;
    this.#message = options.message;
  }

  /** Forward the start to a target middleware. */
  onStart(context: Context): void | Promise<void> {
    if (typeof this.#target !== "function") return this.#target.onStart?.(context);
  }

  /** Reset the counts, and forward the success to a target middleware. */
  onSuccess(context: SuccessContext): void | Promise<void> {
    this.#totalFailures = 0;
    this.#actorFailures.delete(context.actor.name);
    if (typeof this.#target !== "function") return this.#target.onSuccess?.(context);
  }

  /** Count the failure; forward it when a threshold is reached. */
  onFailure(context: FailureContext): void | Promise<void> {
    this.#totalFailures += 1;
    const name = context.actor.name;
    const actorFailures = (this.#actorFailures.get(name) ?? 0) + 1;
    this.#actorFailures.set(name, actorFailures);
    const reached = (this.#total !== undefined && this.#totalFailures >= this.#total) ||
      (this.#actor !== undefined && actorFailures >= this.#actor) ||
      (this.#message !== undefined && context.attempts >= this.#message);
    if (reached) return forwardFailure(this.#target, context);
  }
}
