/**
 * emit: validate → serialize → headers → publish (core NATS, or JetStream with ack).
 *
 * @module
 */
import type { JetStreamClient } from "@nats-io/jetstream";
import type { MsgHdrs, NatsConnection } from "@nats-io/nats-core";
import { buildHeaders } from "../headers.ts";
import type { CloudEvent } from "./cloud_event.ts";
import type { Event } from "./event.ts";
import { validate } from "./schema.ts";

/** Options of `emit()`. */
export interface EmitOptions {
  /**
   * Deduplication id (`Nats-Msg-Id`): a second message with the same uid within the
   * stream's duplicate window is dropped by the server.
   */
  readonly uid?: string;
  /** Trace id carried to the actor (`Walnats-Trace`). */
  readonly traceId?: string;
  /** Do not handle the message before this many milliseconds from now. @default 0 */
  readonly delay?: number;
  /** Extra headers, or CloudEvents metadata as `ce-*` headers. */
  readonly meta?: CloudEvent | Readonly<Record<string, string>>;
  /**
   * Wait until the stream has stored the message and report duplicates.
   * Without it the message is published with core NATS (faster, no confirmation).
   * @default false
   */
  readonly sync?: boolean;
}

/** What the stream said about a message emitted with `sync: true`. */
export interface EmitResult {
  /** The message's sequence number in the stream. */
  readonly seq: number;
  /** Whether the stream had already seen this `uid` (nothing new was stored). */
  readonly duplicate: boolean;
}

/** An encoded message ready to publish. */
export interface Outgoing {
  readonly data: Uint8Array;
  readonly headers: MsgHdrs | undefined;
}

/**
 * Validate and encode a message, build its headers.
 *
 * @throws {ValidationError} when the message does not match the schema (nothing is sent)
 * @throws {SerializerError} when it cannot be encoded
 */
export async function encodeOutgoing<T>(
  event: Event<T, unknown>,
  message: T,
  options: EmitOptions,
  reply?: string,
): Promise<Outgoing> {
  checkOptions(event, options);
  const valid = await validate(event.schema, message, `message of event "${event.name}"`);
  const data = await event.serializer.encode(valid);
  const headers = buildHeaders({
    uid: options.uid,
    traceId: options.traceId,
    delayUntil: options.delay ? Date.now() + options.delay : undefined,
    reply,
    meta: options.meta,
  });
  return { data, headers };
}

function checkOptions(event: Event<unknown, unknown>, options: EmitOptions): void {
  const where = `Cannot emit event "${event.name}"`;
  if (options.uid !== undefined && (typeof options.uid !== "string" || options.uid === "")) {
    throw new TypeError(`${where}: uid must be a non-empty string`);
  }
  if (options.traceId !== undefined && typeof options.traceId !== "string") {
    throw new TypeError(`${where}: traceId must be a string`);
  }
  if (options.delay !== undefined && !(Number.isFinite(options.delay) && options.delay >= 0)) {
    throw new RangeError(
      `${where}: delay must be a non-negative number of milliseconds, got ${options.delay}`,
    );
  }
}

/** Publish an encoded message: core NATS, or JetStream with the stream's ack. */
export async function publish(
  nc: NatsConnection,
  js: JetStreamClient,
  subject: string,
  out: Outgoing,
  sync: boolean,
): Promise<EmitResult | undefined> {
  if (!sync) {
    nc.publish(subject, out.data, out.headers ? { headers: out.headers } : undefined);
    return undefined;
  }
  const ack = await js.publish(subject, out.data, out.headers ? { headers: out.headers } : {});
  return { seq: ack.seq, duplicate: ack.duplicate };
}
