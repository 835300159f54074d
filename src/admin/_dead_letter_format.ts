/**
 * Reading a stored dead letter, whichever format wrote it: the current one (the original
 * payload byte for byte, the original headers plus `Walnats-Dead-*`, the original's
 * `Nats-*` headers renamed `Walnats-Dead-Nats-*`) and the first one (a JSON body with the
 * payload in base64). The one place that knows the formats.
 *
 * @module
 */
import type { StoredMsg } from "@nats-io/jetstream";
import { DEAD_LETTER_HEADERS, type DeadLetterReason } from "../actors/dead_letter.ts";

/** The headers of the current format beyond the first one's. */
const TIMESTAMP = "Walnats-Dead-Timestamp";
const DEAD = "walnats-dead-";
const DEAD_NATS = "walnats-dead-nats-";

/** A dead letter as read from its stream. */
export interface ReadDeadLetter {
  readonly actor: string;
  readonly event: string;
  readonly reason: DeadLetterReason | string;
  readonly error: string;
  readonly attempts: number;
  /** The original message's sequence number in its stream. */
  readonly streamSeq: number;
  /** When the original was stored, ISO 8601 (empty when unknown). */
  readonly timestamp: string;
  /**
   * The original headers, every value of each, without `Walnats-Dead-*`; the original's
   * `Nats-*` headers (such as its uid, `Nats-Msg-Id`) under their own names again.
   */
  readonly headers: readonly (readonly [string, readonly string[]])[];
  /** The original payload, byte for byte. */
  readonly payload: Uint8Array;
}

/**
 * Read a stored dead letter.
 * @throws {TypeError} the message is not a dead letter (no `Walnats-Dead-Actor` header)
 */
export function readDeadLetter(msg: StoredMsg): ReadDeadLetter {
  const h = msg.header;
  const actor = h?.get(DEAD_LETTER_HEADERS.actor) ?? "";
  if (!actor) {
    throw new TypeError(
      `Message ${msg.seq} on "${msg.subject}" is not a walnats dead letter (no ${DEAD_LETTER_HEADERS.actor} header)`,
    );
  }
  if (h.has(TIMESTAMP) || !looksLikeJson(msg.data)) {
    const headers: [string, string[]][] = [];
    for (const [key, values] of h) {
      const lower = key.toLowerCase();
      if (lower.startsWith(DEAD_NATS)) headers.push([key.slice(DEAD.length), [...values]]);
      // The dead letter's own `Nats-*` headers (its uid) are not the original's.
      else if (!lower.startsWith(DEAD) && !lower.startsWith("nats-")) {
        headers.push([key, [...values]]);
      }
    }
    return {
      actor,
      event: h.get(DEAD_LETTER_HEADERS.event),
      reason: h.get(DEAD_LETTER_HEADERS.reason),
      error: h.get(DEAD_LETTER_HEADERS.error),
      attempts: Number(h.get(DEAD_LETTER_HEADERS.attempts)) || 0,
      streamSeq: Number(h.get(DEAD_LETTER_HEADERS.streamSeq)) || 0,
      timestamp: h.get(TIMESTAMP),
      headers,
      payload: msg.data,
    };
  }
  // The first format: a JSON body.
  const body = JSON.parse(new TextDecoder().decode(msg.data)) as {
    actor: string;
    event: string;
    reason: string;
    error: string;
    attempts: number;
    streamSeq: number;
    timestamp: string;
    headers: Record<string, string>;
    payload: string;
  };
  return {
    actor: body.actor,
    event: body.event,
    reason: body.reason,
    error: body.error,
    attempts: body.attempts,
    streamSeq: body.streamSeq,
    timestamp: body.timestamp,
    headers: Object.entries(body.headers).map(([k, v]) => [k, [v]] as const),
    payload: Uint8Array.from(atob(body.payload), (c) => c.charCodeAt(0)),
  };
}

function looksLikeJson(data: Uint8Array): boolean {
  if (data[0] !== 0x7b) return false; // "{"
  try {
    const body = JSON.parse(new TextDecoder().decode(data));
    return typeof body?.payload === "string" && typeof body?.actor === "string";
  } catch {
    return false;
  }
}
