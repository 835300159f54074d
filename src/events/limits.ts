/**
 * Stream limits of an event.
 *
 * @module
 */
import { checkDuration, MAX_SERVER_DURATION, MIN_STREAM_DURATION } from "../_duration.ts";

/**
 * Limits of an event's stream, all optional: how long and how much it keeps, and
 * (`retention`) whether a message goes once every actor handled it. When a limit is
 * reached, the oldest messages are dropped. Durations are milliseconds.
 *
 * @example Keep a week of messages, at most a million
 * ```ts
 * import type { Limits } from "@walnats/walnats";
 *
 * const limits: Limits = { age: 7 * 24 * 60 * 60 * 1000, messages: 1_000_000, replicas: 3 };
 * ```
 *
 * @example Keep an audit trail for 30 days, handled or not
 * ```ts
 * import type { Limits } from "@walnats/walnats";
 *
 * const limits: Limits = { retention: "limits", age: 30 * 24 * 60 * 60 * 1000 };
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
  /**
   * When the stream deletes a message, besides the limits above:
   * - `"interest"`: once every actor (durable consumer) that existed when it arrived has
   *   acknowledged it; a message emitted while the event has no actor is dropped at once.
   *   The Python walnats' streams all use it.
   * - `"limits"`: only when a limit drops it (`age`, `messages`, `bytes`), whether actors
   *   handled it or not, so an actor registered later still finds it: for audit trails and
   *   events that must wait for someone to look (dead-letter events use it). Set a limit
   *   with it, or the stream keeps every message for ever.
   *
   * JetStream's third policy, work queue, is not offered: a work-queue stream takes one
   * consumer per subject, and every actor of an event reads the event's subject, so a
   * second actor could not register (nor a Python actor beside a TypeScript one); with one
   * actor, interest retention does the same.
   *
   * `register()` refuses to change the retention of an existing stream unless
   * `allowDestructive` lists `"retention"` (and nats-server 2.9 refuses it anyway).
   * @default "interest"
   */
  readonly retention?: "interest" | "limits";
}

const RETENTIONS: readonly string[] = ["interest", "limits"];

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
      !(durations as readonly string[]).includes(key) && key !== "retention"
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
  const { retention } = limits as { retention?: unknown };
  if (retention !== undefined && !RETENTIONS.includes(retention as string)) {
    const got = typeof retention === "string" ? JSON.stringify(retention) : String(retention);
    throw new RangeError(
      `Invalid limits of event "${event}": retention must be "interest" (the default) or ` +
        `"limits", got ${got}` +
        (retention === "workqueue"
          ? ": a work-queue stream takes one consumer per subject, so a second actor of the " +
            "event could not register; with one actor, interest retention does the same"
          : ""),
    );
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
