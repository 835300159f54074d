/**
 * One delivered JetStream message: its metadata (parsed from the ack subject)
 * and the acks, sent as core NATS publishes to the ack subject, as nats.js does.
 *
 * @module
 */
import { type Msg, type MsgHdrs, nanos, type NatsConnection } from "@nats-io/nats-core";
import type { JobMetadata } from "./actor.ts";

const encoder = new TextEncoder();
const ACK = encoder.encode("+ACK");
const TERM = encoder.encode("+TERM");
const WORKING = encoder.encode("+WPI");
const NAK = encoder.encode("-NAK");
/** The longest nak delay, ms: 9e18 ns fits the server's int64. */
const MAX_NAK_DELAY = 9_000_000_000_000;

/** A delivered message and the ways to settle it. */
export class Delivery {
  readonly data: Uint8Array;
  readonly headers: MsgHdrs | undefined;
  readonly metadata: JobMetadata;
  readonly #nc: NatsConnection;
  readonly #reply: string;
  #settled = false;

  constructor(nc: NatsConnection, msg: Msg) {
    this.#nc = nc;
    this.#reply = msg.reply!;
    this.data = msg.data;
    this.headers = msg.headers;
    this.metadata = parseAckSubject(this.#reply);
  }

  /** Whether ack, nak or term was sent. */
  get settled(): boolean {
    return this.#settled;
  }

  ack(): void {
    this.#send(ACK);
  }

  /** Negative ack: redeliver after `delay` ms (0 = at once). */
  nak(delay: number): void {
    // The server reads the delay as int64 nanoseconds: cap it (about 285 years), or a
    // huge one would be unreadable and the message redelivered at once.
    const ms = Math.min(MAX_NAK_DELAY, Math.max(0, Math.round(delay)));
    this.#send(ms > 0 ? encoder.encode(`-NAK ${JSON.stringify({ delay: nanos(ms) })}`) : NAK);
  }

  /** Terminate: never redeliver. */
  term(): void {
    this.#send(TERM);
  }

  /** In-progress ack: restart the server's ack_wait timer. */
  working(): void {
    if (!this.#settled) this.#nc.publish(this.#reply, WORKING);
  }

  #send(payload: Uint8Array): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#nc.publish(this.#reply, payload);
  }
}

/**
 * Parse `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ns>.<pending>` (v1)
 * or the v2 form with `<domain>.<account hash>` after `ACK` and a random token at the end.
 */
export function parseAckSubject(subject: string): JobMetadata {
  const t = subject.split(".");
  if (t[0] !== "$JS" || t[1] !== "ACK") {
    throw new TypeError(`Not a JetStream ack subject: ${subject}`);
  }
  const base = t.length === 9 ? 2 : 4; // v2 adds domain and account hash
  if (t.length !== 9 && t.length < 12) {
    throw new TypeError(`Unexpected JetStream ack subject: ${subject}`);
  }
  return {
    delivered: Number(t[base + 2]),
    streamSeq: Number(t[base + 3]),
    consumerSeq: Number(t[base + 4]),
    timestamp: Math.floor(Number(t[base + 5]) / 1e6),
    pending: Number(t[base + 6]),
  };
}
