/**
 * What a duration option may be: what the runtime's timers keep and what the server
 * reads, checked once at declaration so that a value out of range is named there
 * instead of misbehaving later (a timer that fires at once, a config the server
 * refuses as "invalid JSON").
 *
 * @module
 */

/**
 * The longest delay a timer keeps (`setTimeout`), ms: about 24.8 days. A longer one
 * fires after 1 ms, in every runtime.
 */
export const MAX_TIMER = 2 ** 31 - 1;

/**
 * The longest duration the server reads, ms: it keeps durations as int64 nanoseconds
 * (about 292 years); a larger number makes the request "invalid JSON" to it.
 */
export const MAX_SERVER_DURATION = 9_223_372_036_854;

/** The shortest stream `max_age` and `duplicate_window` the server accepts, ms. */
export const MIN_STREAM_DURATION = 100;

/** The range of one duration option. */
export interface DurationRange {
  /** The smallest value allowed, ms. @default 0, excluded (a positive duration) */
  readonly min?: number;
  /** The largest finite value allowed, ms: {@linkcode MAX_TIMER} or {@linkcode MAX_SERVER_DURATION}. */
  readonly max: number;
  /** What `Infinity` means for this option; `Infinity` is refused when absent. */
  readonly infinity?: string;
}

/**
 * Check a duration option; throw a `RangeError` naming it, its range and the limit's reason.
 *
 * @param where who has the option, e.g. `Invalid option of actor "send-welcome"`
 * @param key the option's name
 * @param value the value given (`undefined` passes: the default applies)
 * @param range the values allowed
 */
export function checkDuration(
  where: string,
  key: string,
  value: unknown,
  range: DurationRange,
): void {
  if (value === undefined) return;
  const { min, max, infinity } = range;
  if (value === Infinity && infinity !== undefined) return;
  const ok = typeof value === "number" && Number.isFinite(value) &&
    (min === undefined ? value > 0 : value >= min) && value <= max;
  if (ok) return;
  const low = min === undefined ? "positive milliseconds" : `milliseconds from ${min}`;
  const why = max === MAX_TIMER
    ? "about 24.8 days, the longest timer the runtime keeps"
    : max === MAX_SERVER_DURATION
    ? "about 292 years, the server's int64 nanoseconds"
    : undefined;
  throw new RangeError(
    `${where}: ${key} must be ${low} up to ${max}${why ? ` (${why})` : ""}` +
      (infinity === undefined ? "" : `, or Infinity (${infinity})`) +
      `, got ${typeof value === "string" ? JSON.stringify(value) : String(value)}`,
  );
}

/**
 * Milliseconds to the whole nanoseconds the server reads (a fraction of a nanosecond
 * would make the number unreadable to it).
 *
 * @param ms a duration checked by {@linkcode checkDuration}
 * @returns nanoseconds
 */
export function toNanos(ms: number): number {
  return Math.round(ms * 1e6);
}
