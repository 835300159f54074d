/**
 * Stream limits of an event.
 *
 * @module
 */
import { checkDuration, MAX_SERVER_DURATION, MIN_STREAM_DURATION } from "../_duration.ts";

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
  /**
   * Drop messages older than this, in milliseconds: from 100 up to 9,223,372,036,854
   * (the server's int64 nanoseconds), or `Infinity` for no limit. @default unlimited
   */
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
  /**
   * How long `uid`s are remembered for deduplication, in milliseconds: from 100 up to
   * `age` (when set) and 9,223,372,036,854. @default 120000 (server), or `age` when shorter
   */
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
  // The server keeps both as int64 nanoseconds and refuses less than 100 ms.
  const where = `Invalid limits of event "${event}"`;
  checkDuration(where, "age", limits.age, {
    min: MIN_STREAM_DURATION,
    max: MAX_SERVER_DURATION,
    infinity: "no limit",
  });
  checkDuration(where, "duplicateWindow", limits.duplicateWindow, {
    min: MIN_STREAM_DURATION,
    max: MAX_SERVER_DURATION,
  });
  const { age, duplicateWindow } = limits;
  if (
    age !== undefined && age !== Infinity && duplicateWindow !== undefined &&
    duplicateWindow > age
  ) {
    throw new RangeError(
      `${where}: duplicateWindow (${duplicateWindow} ms) must not be longer than age ` +
        `(${age} ms): the server refuses it, since a message cannot be remembered longer than kept`,
    );
  }
  if (limits.replicas !== undefined && limits.replicas > 5) {
    throw new RangeError(
      `Invalid limits of event "${event}": replicas must be at most 5, got ${limits.replicas}`,
    );
  }
}
