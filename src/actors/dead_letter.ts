/**
 * Dead letters: a terminated message's copy, published to an ordinary event per
 * actor before the original is terminated, so nothing an actor gives up on is lost.
 *
 * @module
 */
import {
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  jetstreamManager,
} from "@nats-io/jetstream";
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from "@nats-io/nats-core";
import * as v from "valibot";
import { toBase64 } from "../_base64.ts";
import { MAX_NAME_LENGTH } from "../_names.ts";
import { Event } from "../events/event.ts";
import { streamConfig } from "../events/stream.ts";
import { DELAY, MSG_ID, REPLY } from "../headers.ts";

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
 * The message of a dead-letter event: the original message and why it died.
 *
 * @example Describe a dead letter
 * ```ts
 * import type { DeadLetter } from "@walnats/walnats";
 *
 * const describe = (letter: DeadLetter): string =>
 *   `${letter.actor} gave up on ${letter.event} (${letter.reason}): ${letter.error}`;
 * ```
 */
export interface DeadLetter {
  /** The actor that gave up. */
  readonly actor: string;
  /** The original event's name (its subject). */
  readonly event: string;
  /** Why the actor gave up. */
  readonly reason: DeadLetterReason;
  /** The last error's message. */
  readonly error: string;
  /** Attempts made (delayed redeliveries not counted). */
  readonly attempts: number;
  /** The original message's sequence number in its stream. */
  readonly streamSeq: number;
  /** When the original message was stored, ISO 8601. */
  readonly timestamp: string;
  /** The original message's headers (the first value of each). */
  readonly headers: Readonly<Record<string, string>>;
  /** The original payload, base64: decode it with the original event's serializer. */
  readonly payload: string;
}

const deadLetterSchema = v.object({
  actor: v.string(),
  event: v.string(),
  reason: v.picklist(["failed", "unrecoverable", "undecodable", "invalid-response"]),
  error: v.string(),
  attempts: v.number(),
  streamSeq: v.number(),
  timestamp: v.string(),
  headers: v.record(v.string(), v.string()),
  payload: v.string(),
});

/**
 * Headers of a dead letter, for tools that read raw messages.
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
} as const;

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
 * `dead-letter.<hash>.<actor, shortened>`, the same on every instance.
 */
export function deadLetterEvent(eventName: string, actorName: string): Event<DeadLetter> {
  return new DeadLetterEvent(deadLetterName(eventName, actorName), deadLetterSchema, {
    description: `Messages of "${eventName}" that actor "${actorName}" gave up on`.slice(0, 4096),
    limits: { age: DEAD_LETTER_AGE },
  });
}

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

/**
 * A dead-letter event: its stream keeps every message for its age (retention *limits*),
 * whoever creates it (this module, or `Actors.register` for an actor that listens to it).
 */
class DeadLetterEvent extends Event<DeadLetter> {
  /** Read by `streamConfig`. */
  readonly retention = "limits";

  constructor(...args: ConstructorParameters<typeof Event<DeadLetter>>) {
    super(...args);
    Object.freeze(this);
  }
}

const STREAM_NAME_IN_USE = 10058;

/**
 * Create the dead-letter stream if it is missing. Unlike other events' streams it keeps
 * every message for {@linkcode DEAD_LETTER_AGE} (retention *limits*): a dead letter must
 * survive until someone looks, even when no actor listens to it yet. An existing stream is
 * left as it is.
 */
export async function registerDeadLetters(
  jsm: JetStreamManager,
  event: Event<DeadLetter>,
): Promise<void> {
  const config = streamConfig(event as Event<unknown, unknown>);
  try {
    await jsm.streams.add(config);
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === STREAM_NAME_IN_USE) return;
    throw error;
  }
}

/** What the scheduler knows about a message it gives up on. */
export interface DeadLetterFields {
  readonly actor: string;
  readonly event: string;
  readonly reason: DeadLetterReason;
  readonly error: unknown;
  readonly attempts: number;
  readonly streamSeq: number;
  /** Epoch ms when the original was stored. */
  readonly timestamp: number;
  readonly headers: MsgHdrs | undefined;
  readonly data: Uint8Array;
}

/**
 * Publish a dead letter and wait for its stream to store it. The message id is
 * `<actor>:<event>:<stream seq>`, so a retried publish (after a failure here) stores it once.
 *
 * @throws when the stream does not confirm; the caller must not terminate the original then
 */
export async function sendDeadLetter(
  nc: NatsConnection,
  js: JetStreamClient,
  event: Event<DeadLetter>,
  fields: DeadLetterFields,
): Promise<void> {
  const error = errorText(fields.error);
  const original: Record<string, string> = {};
  for (const [key, values] of fields.headers ?? []) {
    if (key === DELAY || key === REPLY) continue;
    original[key] = values[0] ?? "";
  }
  const letter: DeadLetter = {
    actor: fields.actor,
    event: fields.event,
    reason: fields.reason,
    error,
    attempts: fields.attempts,
    streamSeq: fields.streamSeq,
    timestamp: new Date(fields.timestamp).toISOString(),
    headers: original,
    payload: toBase64(fields.data),
  };
  const h = natsHeaders();
  h.set(MSG_ID, `${fields.actor}:${fields.event}:${fields.streamSeq}`);
  h.set(DEAD_LETTER_HEADERS.actor, fields.actor);
  h.set(DEAD_LETTER_HEADERS.event, fields.event);
  h.set(DEAD_LETTER_HEADERS.reason, fields.reason);
  h.set(DEAD_LETTER_HEADERS.error, error.replaceAll(/[\r\n]+/g, " ").slice(0, 1000));
  h.set(DEAD_LETTER_HEADERS.attempts, String(fields.attempts));
  h.set(DEAD_LETTER_HEADERS.streamSeq, String(fields.streamSeq));
  const data = await event.serializer.encode(letter);
  try {
    await js.publish(event.name, data, { headers: h });
  } catch (error) {
    // No stream yet (or it was deleted): create it, once, and publish again.
    if (!isNoStream(error)) throw error;
    await registerDeadLetters(await jetstreamManager(nc), event);
    await js.publish(event.name, data, { headers: h });
  }
}

/** nats.js reports a JetStream publish with no stream behind the subject as "no responders". */
function isNoStream(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) {
    if (e.name === "NoRespondersError" || /no responders|503/i.test(e.message)) return true;
  }
  return false;
}

function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
