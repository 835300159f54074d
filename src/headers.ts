/**
 * The wire protocol's headers, written by emit/request and read by actors.
 * Compatible with the Python walnats (docs/python.md).
 *
 * @module
 */
import { headers as natsHeaders, type MsgHdrs } from "@nats-io/nats-core";
import type { CloudEvent } from "./events/cloud_event.ts";

/** Deduplication id (JetStream's own header). */
export const MSG_ID = "Nats-Msg-Id";
/** Trace id for distributed tracing. */
export const TRACE = "Walnats-Trace";
/** UTC moment (unix seconds, decimal) until which the message is delayed. */
export const DELAY = "Walnats-Delay";
/** Inbox subject for request/response (JetStream owns the message's reply subject). */
export const REPLY = "Walnats-Reply";
/**
 * Set by walnats for Deno and Bun on a request: the caller understands a give-up reply
 * ({@linkcode RESPONSE_ERROR}). The Python walnats neither sets nor reads it, and decodes any
 * reply as the response, so an actor sends the give-up reply only to callers that set it.
 */
export const ACCEPT_ERROR = "Walnats-Accept-Error";

/**
 * Read access to a delivered message's headers (nats.js `MsgHdrs` fits).
 *
 * @example Read an optional header
 * ```ts
 * import type { MessageHeaders } from "@walnats/walnats";
 *
 * const tenant = (headers: MessageHeaders | undefined): string | undefined =>
 *   headers?.has("X-Tenant") ? headers.get("X-Tenant") : undefined;
 * ```
 */
export interface MessageHeaders {
  /**
   * The first value of a header.
   *
   * @param name the header name
   * @returns the value, `""` when absent
   */
  get(name: string): string;
  /**
   * Whether a header is present.
   *
   * @param name the header name
   * @returns whether it is present
   */
  has(name: string): boolean;
  /**
   * The header names.
   *
   * @returns the names
   */
  keys(): string[];
}

/** What emit puts into headers. */
export interface HeaderFields {
  uid?: string | undefined;
  traceId?: string | undefined;
  /** Epoch milliseconds until which the message is delayed. */
  delayUntil?: number | undefined;
  reply?: string | undefined;
  meta?: CloudEvent | Readonly<Record<string, string>> | undefined;
}

/**
 * Build the headers of a message, or `undefined` when there are none
 * (so a plain emit sends no header block at all).
 */
export function buildHeaders(fields: HeaderFields): MsgHdrs | undefined {
  const { uid, traceId, delayUntil, reply, meta } = fields;
  if (
    uid === undefined && traceId === undefined && delayUntil === undefined &&
    reply === undefined && meta === undefined
  ) return undefined;
  const h = natsHeaders();
  let cloudEventId: string | undefined;
  if (meta !== undefined) {
    const cloudEvent = "headers" in meta && typeof meta.headers === "function";
    if (cloudEvent) cloudEventId = (meta as CloudEvent).attributes.id;
    const pairs = cloudEvent
      ? (meta as CloudEvent).headers()
      : Object.entries(meta as Record<string, string>);
    for (const [name, value] of pairs) h.set(name, value);
  }
  // As the Python walnats does: without a uid, a CloudEvent's id is the dedup id, so that
  // re-sending the same CloudEvent stores it once.
  const id = uid ?? cloudEventId;
  if (id !== undefined) h.set(MSG_ID, id);
  if (traceId !== undefined) h.set(TRACE, traceId);
  if (delayUntil !== undefined) h.set(DELAY, formatDelay(delayUntil));
  if (reply !== undefined) {
    h.set(REPLY, reply);
    h.set(ACCEPT_ERROR, "1");
  }
  return h;
}

/** Epoch milliseconds → unix seconds in decimal, e.g. `1732300000.25`. */
export function formatDelay(epochMs: number): string {
  return String(Math.round(epochMs) / 1000);
}

/**
 * Read `Walnats-Delay`: epoch milliseconds, `undefined` when absent.
 * @throws {TypeError} when present but not a finite non-negative number
 */
export function parseDelay(headers: MsgHdrs | undefined): number | undefined {
  const raw = headers?.get(DELAY);
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0 || raw.trim() !== raw) {
    throw new TypeError(
      `Invalid ${DELAY} header ${JSON.stringify(raw.slice(0, 64))}: expected unix seconds`,
    );
  }
  if (seconds * 1000 > MAX_DELAY_UNTIL) {
    throw new TypeError(
      `Invalid ${DELAY} header ${JSON.stringify(raw.slice(0, 64))}: later than the year 2255`,
    );
  }
  return seconds * 1000;
}

/**
 * The latest moment a message may be delayed until, epoch ms (the year 2255): a nak
 * delay travels as int64 nanoseconds, so later ones cannot be told to the server.
 */
export const MAX_DELAY_UNTIL = 9_000_000_000_000;

/** Set on a response that carries an error message instead of a value (walnats for Deno and Bun). */
export const RESPONSE_ERROR = "Walnats-Error";

/**
 * On a message sent to a `Walnats-Reply` inbox: this is job progress (JSON), not the
 * response (walnats for Deno and Bun).
 */
export const PROGRESS = "Walnats-Progress";

/**
 * Set by walnats for Deno and Bun on a request whose caller passed `onProgress`: it tells
 * {@linkcode PROGRESS} messages from the response. Progress goes only to callers that set
 * it, since others (the Python walnats) take the first message on the inbox as the response.
 */
export const ACCEPT_PROGRESS = "Walnats-Accept-Progress";
