/**
 * Reading a stored dead letter: the fields through `parseDeadLetter` (the format's one
 * reader), and the original headers with every value, for a redrive that re-emits them as
 * they were.
 *
 * @module
 */
import type { StoredMsg } from "@nats-io/jetstream";
import { type DeadLetter, parseDeadLetter } from "../actors/dead_letter.ts";

const DEAD = "walnats-dead-";
const DEAD_NATS = "walnats-dead-nats-";

/** A dead letter as read from its stream. */
export interface ReadDeadLetter extends DeadLetter {
  /**
   * The original headers, every value of each, without `Walnats-Dead-*`; the original's
   * `Nats-*` headers (such as its uid, `Nats-Msg-Id`) under their own names again.
   */
  readonly allHeaders: readonly (readonly [string, readonly string[]])[];
}

/**
 * Read a stored dead letter.
 * @throws {TypeError} the message is not a dead letter (a `Walnats-Dead-*` header is missing)
 */
export function readDeadLetter(msg: StoredMsg): ReadDeadLetter {
  const letter = parseDeadLetter(msg);
  const allHeaders: [string, string[]][] = [];
  for (const [key, values] of msg.header ?? []) {
    const lower = key.toLowerCase();
    if (lower.startsWith(DEAD_NATS)) allHeaders.push([key.slice(DEAD.length), [...values]]);
    // The dead letter's own `Nats-*` headers (its uid) are not the original's.
    else if (!lower.startsWith(DEAD) && !lower.startsWith("nats-")) {
      allHeaders.push([key, [...values]]);
    }
  }
  return { ...letter, allHeaders };
}
