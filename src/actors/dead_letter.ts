/**
 * Dead letters: a terminated message's copy, published to an ordinary event per
 * actor before the original is terminated, so nothing an actor gives up on is lost.
 *
 * @module
 */
import { JetStreamApiError, type JetStreamClient, jetstreamManager } from "@nats-io/jetstream";
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from "@nats-io/nats-core";
import * as v from "valibot";
import { boundedText, errorText } from "../_error_text.ts";
import {
  HEADERS_OVER_MAX,
  MESSAGE_OVER_STREAM_MAX,
  NO_PEERS,
  STREAM_SEALED,
} from "../_jetstream_codes.ts";
import { MAX_NAME_LENGTH } from "../_names.ts";
import { SerializerError, StreamConfigError, StreamExistsError } from "../errors.ts";
import { Event } from "../events/event.ts";
import { registerStream } from "../events/stream.ts";
import { DELAY, type MessageHeaders, MSG_ID, REPLY } from "../headers.ts";
import type { Serializer } from "../serializers/serializer.ts";

/**
 * Why a message was given up on.
 *
 * @example Decide whether to replay a dead letter
 * ```ts
 * import type { DeadLetterReason } from "@walnats/walnats";
 *
 * const replayable = (reason: DeadLetterReason): boolean => reason === "failed";
 * ```
 */
export type DeadLetterReason =
  /** The last allowed attempt failed. */
  | "failed"
  /** The handler threw an `UnrecoverableError`. */
  | "unrecoverable"
  /** The payload could not be decoded or did not match the schema. */
  | "undecodable"
  /** The handler's return value did not match the event's response schema. */
  | "invalid-response";

/**
 * The message of a dead-letter event: the original message and why it died. Read from a
 * dead letter's headers and body by {@linkcode parseDeadLetter} (and by the dead-letter
 * event's serializer, so an actor of the dead-letter event gets this value).
 *
 * @example Describe a dead letter
 * ```ts
 * import type { DeadLetter } from "@walnats/walnats";
 *
 * const describe = (letter: DeadLetter): string =>
 *   `${letter.actor} gave up on ${letter.event} #${letter.streamSeq} (${letter.reason}): ` +
 *   `${letter.error}, ${letter.payload.length} bytes`;
 * ```
 */
export interface DeadLetter {
  /** The actor that gave up. */
  readonly actor: string;
  /** The original event's name (its subject). */
  readonly event: string;
  /** Why the actor gave up. */
  readonly reason: DeadLetterReason;
  /**
   * The last error, as `<name>: <message>`, on one line and at most
   * {@linkcode DEAD_LETTER_ERROR_BYTES} bytes (cut with `…`).
   */
  readonly error: string;
  /** Attempts made (delayed redeliveries not counted). */
  readonly attempts: number;
  /** The original message's sequence number in its stream. */
  readonly streamSeq: number;
  /** When the original message was stored, ISO 8601 (milliseconds). */
  readonly timestamp: string;
  /**
   * The original message's headers, the first value of each (the raw dead letter keeps
   * every value), without `Walnats-Delay` and `Walnats-Reply`, which the copy drops.
   */
  readonly headers: Readonly<Record<string, string>>;
  /** The original payload, byte for byte: decode it with the original event's serializer. */
  readonly payload: Uint8Array;
  /** The dead letter's own sequence number in the dead-letter stream, when read from one. */
  readonly seq?: number;
  /** When the dead letter itself was stored, ISO 8601, when read from a stored message. */
  readonly time?: string;
}

/** The dead-letter event's schema (a `DeadLetter` as {@linkcode parseDeadLetter} builds it). */
const deadLetterSchema = v.object({
  actor: v.string(),
  event: v.string(),
  reason: v.picklist(["failed", "unrecoverable", "undecodable", "invalid-response"]),
  error: v.string(),
  attempts: v.number(),
  streamSeq: v.number(),
  timestamp: v.string(),
  headers: v.record(v.string(), v.string()),
  payload: v.instance(Uint8Array),
  seq: v.exactOptional(v.number()),
  time: v.exactOptional(v.string()),
});

const REASONS: readonly string[] = ["failed", "unrecoverable", "undecodable", "invalid-response"];

/**
 * Headers of a dead letter, for tools that read raw messages. A dead letter's body is the
 * original payload, byte for byte; its headers are the original message's (every value),
 * these, and the original's JetStream headers (`Nats-*`, such as `Nats-Msg-Id`) renamed
 * with the prefix `Walnats-Dead-` so that the dead-letter stream does not act on them.
 * `Walnats-Delay` and `Walnats-Reply` are dropped. {@linkcode parseDeadLetter} reads it all.
 *
 * @example Read a raw dead letter's headers
 * ```ts
 * import { DEAD_LETTER_HEADERS } from "@walnats/walnats";
 *
 * function deadActor(headers: Headers): string | null {
 *   return headers.get(DEAD_LETTER_HEADERS.actor); // the "Walnats-Dead-Actor" header
 * }
 * ```
 */
export const DEAD_LETTER_HEADERS = {
  actor: "Walnats-Dead-Actor",
  event: "Walnats-Dead-Event",
  reason: "Walnats-Dead-Reason",
  error: "Walnats-Dead-Error",
  attempts: "Walnats-Dead-Attempts",
  streamSeq: "Walnats-Dead-Stream-Seq",
  /** When the original was stored, ISO 8601. */
  timestamp: "Walnats-Dead-Timestamp",
} as const;

/** What prefixes every dead-letter header, and the original's renamed `Nats-*` headers. */
const DEAD = "Walnats-Dead-";

/**
 * The longest `error` of a dead letter, in bytes of UTF-8: 1 KiB.
 *
 * @example Room left for the original headers
 * ```ts
 * import { DEAD_LETTER_ERROR_BYTES } from "@walnats/walnats";
 *
 * const overhead = DEAD_LETTER_ERROR_BYTES + 512; // error, names, counts, timestamps
 * ```
 */
export const DEAD_LETTER_ERROR_BYTES = 1024;

/**
 * How long a dead-letter stream keeps its messages: 14 days.
 *
 * @example How long dead letters stay
 * ```ts
 * import { DEAD_LETTER_AGE } from "@walnats/walnats";
 *
 * const days = DEAD_LETTER_AGE / (24 * 60 * 60 * 1000); // 14
 * ```
 */
export const DEAD_LETTER_AGE = 14 * 24 * 60 * 60 * 1000;

/**
 * The dead-letter event of an actor: subject `dead-letter.<event>.<actor>`, stream
 * `dead-letter-<event with . → ->-<actor>`. When that would be longer than the server
 * allows (255), the event part becomes a hash of both names and the actor part is cut:
 * `dead-letter.<hash>.<actor, shortened>`, the same on every instance. Its stream keeps
 * every message for {@linkcode DEAD_LETTER_AGE} (retention `"limits"`).
 */
export function deadLetterEvent(eventName: string, actorName: string): Event<DeadLetter> {
  return new Event<DeadLetter>(deadLetterName(eventName, actorName), deadLetterSchema, {
    description: `Messages of "${eventName}" that actor "${actorName}" gave up on`.slice(0, 4096),
    // Unlike other events, kept whether or not an actor listens: a dead letter must
    // survive until someone looks.
    limits: { age: DEAD_LETTER_AGE, retention: "limits" },
    serializer: deadLetterSerializer,
  });
}

/**
 * A received or stored message: what {@linkcode parseDeadLetter} reads. nats.js' `Msg`
 * and `JsMsg` (`headers`) and `StoredMsg` (`header`, `seq`, `time`) fit as they are.
 *
 * @example Read dead letters straight from their stream
 * ```ts
 * import type { DeadLetterMessage } from "@walnats/walnats";
 *
 * const message: DeadLetterMessage = { data: new Uint8Array(), seq: 1, time: new Date() };
 * ```
 */
export interface DeadLetterMessage {
  /** The body: the original payload. */
  readonly data: Uint8Array;
  /** The headers of a received message (`Msg.headers`, `JsMsg.headers`). */
  readonly headers?: MessageHeaders;
  /** The headers of a stored message (`StoredMsg.header`). */
  readonly header?: MessageHeaders;
  /** The dead letter's sequence number in its stream, if known. */
  readonly seq?: number;
  /** When the dead letter was stored: a `Date`, an ISO 8601 string or epoch ms, if known. */
  readonly time?: Date | string | number;
}

/**
 * Read a dead letter: its `Walnats-Dead-*` headers, the original's headers and payload.
 *
 * @param message a received or stored dead letter (nats.js `Msg`, `JsMsg` or `StoredMsg`)
 * @returns the dead letter
 * @throws {TypeError} when a `Walnats-Dead-*` header is missing or invalid (not a dead letter)
 *
 * @example List what an actor gave up on
 * ```ts
 * import { jetstreamManager } from "@nats-io/jetstream";
 * import type { NatsConnection } from "@nats-io/nats-core";
 * import { type Actor, type DeadLetter, parseDeadLetter } from "@walnats/walnats";
 *
 * async function deadLetters(nc: NatsConnection, actor: Actor<unknown>): Promise<DeadLetter[]> {
 *   const jsm = await jetstreamManager(nc);
 *   const stream = actor.deadLetters!.streamName;
 *   const { state } = await jsm.streams.info(stream);
 *   const letters: DeadLetter[] = [];
 *   for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
 *     const stored = await jsm.streams.getMessage(stream, { seq });
 *     if (stored) letters.push(parseDeadLetter(stored));
 *   }
 *   return letters;
 * }
 * ```
 */
export function parseDeadLetter(message: DeadLetterMessage): DeadLetter {
  const h = message.headers ?? message.header;
  const read = (name: string): string => {
    const value = h?.has(name) ? h.get(name) : undefined;
    if (value === undefined) {
      throw new TypeError(`Not a dead letter: header ${name} is missing`);
    }
    return value;
  };
  const count = (name: string): number => {
    const raw = read(name);
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value)) {
      throw new TypeError(`Invalid dead letter: header ${name} is ${JSON.stringify(raw)}`);
    }
    return value;
  };
  const reason = read(DEAD_LETTER_HEADERS.reason);
  if (!REASONS.includes(reason)) {
    throw new TypeError(
      `Invalid dead letter: header ${DEAD_LETTER_HEADERS.reason} is ${JSON.stringify(reason)}`,
    );
  }
  const timestamp = read(DEAD_LETTER_HEADERS.timestamp);
  if (Number.isNaN(Date.parse(timestamp))) {
    throw new TypeError(
      `Invalid dead letter: header ${DEAD_LETTER_HEADERS.timestamp} is ${
        JSON.stringify(timestamp)
      }`,
    );
  }
  const headers: Record<string, string> = {};
  for (const key of h?.keys() ?? []) {
    const lower = key.toLowerCase();
    // The dead letter's own `Nats-*` headers are not the original's: those were renamed.
    if (lower.startsWith(DEAD_NATS)) headers[key.slice(DEAD.length)] = h!.get(key);
    else if (!lower.startsWith(DEAD_LOWER) && !lower.startsWith("nats-")) {
      headers[key] = h!.get(key);
    }
  }
  const letter: Writable<DeadLetter> = {
    actor: read(DEAD_LETTER_HEADERS.actor),
    event: read(DEAD_LETTER_HEADERS.event),
    reason: reason as DeadLetterReason,
    error: h?.has(DEAD_LETTER_HEADERS.error) ? h.get(DEAD_LETTER_HEADERS.error) : "",
    attempts: count(DEAD_LETTER_HEADERS.attempts),
    streamSeq: count(DEAD_LETTER_HEADERS.streamSeq),
    timestamp,
    headers,
    // A plain view of the same bytes (Node's transport hands out Buffers).
    payload: new Uint8Array(message.data.buffer, message.data.byteOffset, message.data.byteLength),
  };
  if (message.seq !== undefined) letter.seq = message.seq;
  if (message.time !== undefined) {
    const time = new Date(message.time);
    if (!Number.isNaN(time.getTime())) letter.time = time.toISOString();
  }
  return letter;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

const DEAD_LOWER = DEAD.toLowerCase();
const DEAD_NATS = `${DEAD_LOWER}nats-`;

/**
 * The dead-letter event's serializer: the message is in the headers and the body
 * ({@linkcode parseDeadLetter}). Dead letters are written by listeners, with their
 * headers; emitting one through `emit()` cannot carry them, so `encode` refuses.
 */
const deadLetterSerializer: Serializer<DeadLetter> = {
  name: "dead-letter",
  encode(): Uint8Array {
    throw new SerializerError(
      "dead-letter",
      "dead letters are written by the listener that gives up on a message; " +
        "to replay one, emit its payload to the original event",
    );
  },
  decode(data: Uint8Array, headers?: MessageHeaders): DeadLetter {
    try {
      return parseDeadLetter(headers === undefined ? { data } : { data, headers });
    } catch (error) {
      throw new SerializerError("dead-letter", (error as Error).message, { cause: error });
    }
  },
};

const PREFIX = "dead-letter.";

function deadLetterName(eventName: string, actorName: string): string {
  const full = `${PREFIX}${eventName}.${actorName}`;
  if (full.length <= MAX_NAME_LENGTH) return full;
  const id = fnv1a(`${eventName}\n${actorName}`).toString(36);
  const room = MAX_NAME_LENGTH - PREFIX.length - id.length - 1;
  return `${PREFIX}${id}.${actorName.slice(0, room).replace(/-+$/, "")}`;
}

/** 32-bit FNV-1a: a short, stable id for names too long to spell out. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** What the scheduler knows about a message it gives up on. */
export interface DeadLetterFields {
  readonly actor: string;
  readonly event: string;
  readonly reason: DeadLetterReason;
  /** The last error's text (bounded and made one line here). */
  readonly error: string;
  readonly attempts: number;
  readonly streamSeq: number;
  /** Epoch ms when the original was stored. */
  readonly timestamp: number;
  readonly headers: MsgHdrs | undefined;
  readonly data: Uint8Array;
}

/**
 * A dead letter was not stored. `lasting` when trying again cannot help (the copy is too
 * large for the server or the stream, or its stream cannot be created): the caller then
 * terminates the original without a copy instead of keeping it for ever.
 */
export class DeadLetterNotStored extends Error {
  /** Whether a later attempt would fail the same way. */
  readonly lasting: boolean;

  constructor(message: string, lasting: boolean, options?: ErrorOptions) {
    super(message, options);
    this.name = "DeadLetterNotStored";
    this.lasting = lasting;
  }
}

/**
 * The headers of a dead letter: the original's (every value; `Nats-*` renamed with the
 * prefix `Walnats-Dead-`; `Walnats-Delay`, `Walnats-Reply` and an earlier dead letter's
 * `Walnats-Dead-*` dropped) and the `Walnats-Dead-*` fields. Its `Nats-Msg-Id` is
 * `<actor>:<event>:<stream seq>:<stored ms>`: a retried publish of the same give-up is
 * stored once, and a different message (or the same sequence number in a recreated
 * stream) is not taken for a duplicate.
 */
export function deadLetterHeaders(fields: DeadLetterFields): MsgHdrs {
  const h = natsHeaders();
  // First: nats-server 2.9 finds a header by the first occurrence of its name in the
  // header block, and gives up when that is inside another name (as in the renamed
  // `Walnats-Dead-Nats-Msg-Id`), which would turn deduplication off.
  h.set(MSG_ID, `${fields.actor}:${fields.event}:${fields.streamSeq}:${fields.timestamp}`);
  for (const [key, values] of fields.headers ?? []) {
    const lower = key.toLowerCase();
    if (lower === DELAY_LOWER || lower === REPLY_LOWER || lower.startsWith(DEAD_LOWER)) continue;
    const name = lower.startsWith("nats-") ? `${DEAD}${key}` : key;
    for (const value of values) h.append(name, value);
  }
  h.set(DEAD_LETTER_HEADERS.actor, fields.actor);
  h.set(DEAD_LETTER_HEADERS.event, fields.event);
  h.set(DEAD_LETTER_HEADERS.reason, fields.reason);
  h.set(DEAD_LETTER_HEADERS.error, boundedText(fields.error, DEAD_LETTER_ERROR_BYTES));
  h.set(DEAD_LETTER_HEADERS.attempts, String(fields.attempts));
  h.set(DEAD_LETTER_HEADERS.streamSeq, String(fields.streamSeq));
  h.set(DEAD_LETTER_HEADERS.timestamp, isoTime(fields.timestamp));
  return h;
}

const DELAY_LOWER = DELAY.toLowerCase();
const REPLY_LOWER = REPLY.toLowerCase();

function isoTime(epochMs: number): string {
  const time = new Date(epochMs);
  return Number.isNaN(time.getTime()) ? new Date(0).toISOString() : time.toISOString();
}

/**
 * Publish a dead letter (the original payload with {@linkcode deadLetterHeaders}) and
 * wait for its stream to store it; create the stream first when it is missing.
 *
 * @throws {DeadLetterNotStored} when the stream does not confirm; the caller must not
 * terminate the original then, unless the failure is `lasting`
 */
export async function sendDeadLetter(
  nc: NatsConnection,
  js: JetStreamClient,
  event: Event<DeadLetter>,
  fields: DeadLetterFields,
): Promise<void> {
  const headers = deadLetterHeaders(fields);
  try {
    await js.publish(event.name, fields.data, { headers });
    return;
  } catch (error) {
    // No stream yet (or it was deleted): create it, once, and publish again.
    if (!isNoStream(error)) throw notStored(error, false);
  }
  // The one stream registration, which leaves an existing stream as it is.
  let ours = true;
  try {
    await registerStream(await jetstreamManager(nc), event as Event<unknown, unknown>, {
      update: false,
    });
  } catch (error) {
    if (error instanceof StreamExistsError) ours = false;
    // What the server (or the connection) said, unwrapped.
    else throw notStored(error instanceof StreamConfigError ? error.cause ?? error : error, true);
  }
  try {
    await js.publish(event.name, fields.data, { headers });
  } catch (error) {
    if (!ours && isNoStream(error)) {
      // A stream of the dead-letter stream's name exists and does not take its subject.
      throw new DeadLetterNotStored(
        `its stream cannot be created: a stream named "${event.streamName}" exists ` +
          `without the subject "${event.name}"`,
        true,
        { cause: error },
      );
    }
    if (isNoStream(error)) {
      // Created a moment ago and not answering yet, or JetStream is restarting.
      throw new DeadLetterNotStored(
        `no stream answered on "${event.name}" (no responders)`,
        false,
        { cause: error },
      );
    }
    throw notStored(error, false);
  }
}

/**
 * JetStream error codes that name a copy that can never be stored: larger than the
 * stream's `max_msg_size`, headers over the server's 64 KiB, a sealed stream.
 */
const NEVER_STORED: ReadonlySet<number> = new Set([
  MESSAGE_OVER_STREAM_MAX,
  HEADERS_OVER_MAX,
  STREAM_SEALED,
]);

function notStored(error: unknown, creating: boolean): DeadLetterNotStored {
  let text = errorText(error);
  let lasting = false;
  if (isTooLargeForServer(error)) {
    lasting = true;
    text = `the copy is larger than the server's max_payload (${text})`;
  } else if (error instanceof JetStreamApiError) {
    text = `${error.message} (code ${error.code})`;
    if (creating) {
      // The server marks what may pass (no leader, resources) with a 5xx status; a 4xx
      // is the request itself (invalid or conflicting stream), which a retry repeats.
      // No peers yet (a cluster coming up) may pass though the server says 400.
      lasting = error.status < 500 && error.code !== NO_PEERS;
      text = `its stream cannot be created: ${text}`;
    } else {
      lasting = NEVER_STORED.has(error.code);
    }
  }
  return new DeadLetterNotStored(text, lasting, { cause: error });
}

/** nats.js refuses a publish over the server's `max_payload` before sending it. */
function isTooLargeForServer(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (/max_payload/i.test(e.message)) return true;
  }
  return false;
}

/** nats.js reports a JetStream publish with no stream behind the subject as "no responders". */
function isNoStream(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e.name === "NoRespondersError" || /no responders|503/i.test(e.message)) return true;
  }
  return false;
}
