/**
 * Stream limits of an event.
 *
 * @module
 */

/**
 * Limits of an event's stream, all optional. When one is reached, the oldest
 * messages are dropped. Durations are milliseconds.
 *
 * @example Keep a week of messages, at most a million
 * ```ts
 * import type { Limits } from "@walnats/walnats";
 *
 * const limits: Limits = { age: 7 * 24 * 60 * 60 * 1000, messages: 1_000_000, replicas: 3 };
 * ```
 */
export interface Limits {
  /** Drop messages older than this, in milliseconds. @default unlimited */
  readonly age?: number;
  /** At most this many actors (consumers) on the event. @default unlimited */
  readonly consumers?: number;
  /** At most this many messages in the stream. @default unlimited */
  readonly messages?: number;
  /** At most this many bytes in the stream. @default unlimited */
  readonly bytes?: number;
  /** Reject messages larger than this, in bytes. @default the server's max_payload */
  readonly messageSize?: number;
  /** Copies of the stream in a cluster (1 to 5). @default 1 */
  readonly replicas?: number;
  /** How long `uid`s are remembered for deduplication, in milliseconds. @default 120000 (server) */
  readonly duplicateWindow?: number;
}

const integers = ["consumers", "messages", "bytes", "messageSize", "replicas"] as const;
const durations = ["age", "duplicateWindow"] as const;

/**
 * Check limits; throw a `RangeError` naming the event and the field.
 *
 * @param event the event's name, for the message
 * @param limits the limits to check
 */
export function checkLimits(event: string, limits: Limits): void {
  for (const key of Object.keys(limits)) {
    if (
      !(integers as readonly string[]).includes(key) &&
      !(durations as readonly string[]).includes(key)
    ) {
      throw new TypeError(`Invalid limits of event "${event}": unknown limit "${key}"`);
    }
  }
  for (const key of integers) {
    const value = limits[key];
    if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) {
      throw new RangeError(
        `Invalid limits of event "${event}": ${key} must be a positive integer, got ${value}`,
      );
    }
  }
  for (const key of durations) {
    const value = limits[key];
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
      throw new RangeError(
        `Invalid limits of event "${event}": ${key} must be a positive number of milliseconds, got ${value}`,
      );
    }
  }
  if (limits.replicas !== undefined && limits.replicas > 5) {
    throw new RangeError(
      `Invalid limits of event "${event}": replicas must be at most 5, got ${limits.replicas}`,
    );
  }
}
