/**
 * Helpers shared by the built-in middlewares: the facts of a job as plain data,
 * and the target a filtering middleware forwards failures to.
 *
 * @module
 */
import type { FailureContext, Middleware } from "../actors/actor.ts";
import type { Context } from "../actors/actor.ts";

/**
 * Where a filtering middleware (`ErrorThreshold`, `Frequency`) sends the failures
 * it lets through: another middleware's `onFailure`, or a function.
 *
 * @example Alert through a function
 * ```ts
 * import { ErrorThreshold, type FailureTarget } from "@walnats/walnats";
 *
 * const alert: FailureTarget = ({ actor, error }) => console.error(`${actor.name} fails`, error);
 * const threshold = new ErrorThreshold(alert, { total: 10 });
 * ```
 */
export type FailureTarget = Middleware | ((context: FailureContext) => void | Promise<void>);

/** Call the target's failure hook (its promise is returned, so its errors reach the listener). */
export function forwardFailure(
  target: FailureTarget,
  context: FailureContext,
): void | Promise<void> {
  if (typeof target === "function") return target(context);
  return target.onFailure?.(context);
}

/** `error.name` for errors (`"TypeError"`, `"JobTimeoutError"`), else the value's type. */
export function errorType(error: unknown): string {
  if (error instanceof Error) return error.name || error.constructor.name || "Error";
  return error === null ? "null" : typeof error;
}

/** The duration the scheduler adds to a failure after the handler ran. */
export function durationOf(context: Context): number | undefined {
  const duration = (context as { duration?: unknown }).duration;
  return typeof duration === "number" ? duration : undefined;
}

/** The error of a failure as JSON-friendly data. */
export function errorData(error: unknown): { type: string; message: string } {
  return {
    type: errorType(error),
    message: error instanceof Error ? error.message : String(error),
  };
}

/** @throws {TypeError} when `target` is neither a middleware nor a function */
export function checkTarget(who: string, target: unknown): void {
  if (typeof target !== "function" && (typeof target !== "object" || target === null)) {
    throw new TypeError(`Invalid target of ${who}: expected a middleware or a function`);
  }
}
