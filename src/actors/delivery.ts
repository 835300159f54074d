/**
 * One delivered JetStream message: its metadata (parsed from the ack subject)
 * and the acks, sent as core NATS publishes to the ack subject, as nats.js does,
 * gathered by an {@linkcode AckBatch}.
 *
 * @module
 */
import {
  ClosedConnectionError,
  type Msg,
  type MsgHdrs,
  nanos,
  type NatsConnection,
} from "@nats-io/nats-core";
import { setImmediate } from "node:timers";
import type { JobMetadata } from "./job.ts";

const encoder = new TextEncoder();
const ACK = encoder.encode("+ACK");
const TERM = encoder.encode("+TERM");
const WORKING = encoder.encode("+WPI");
const NAK = encoder.encode("-NAK");
/** The longest nak delay, ms: 9e18 ns fits the server's int64. */
const MAX_NAK_DELAY = 9_000_000_000_000;

/**
 * The acks of one listener's actor, published together once per turn of the event loop
 * instead of one by one. nats.js writes what was published within one microtask turn in
 * one socket write; a job's ack comes in the turn its handler's promise settled, so with
 * `maxJobs` jobs running, one write carried about `maxJobs` acks, and the writes cost more
 * than the jobs (a fifth of the listener's time in a profile of no-op jobs). Gathered
 * here, a socket read's worth of messages is acked in one write, one turn later.
 *
 * Each ack goes out through its message's `respond()`, as nats.js's own `ack()` does:
 * that skips the subject checks of `NatsConnection.publish` (the ack subject comes from
 * the server), which cost a regular expression per ack. The connection's state is
 * checked once per batch instead: a closed connection is reported with the count, and
 * a draining one takes the checked path, which refuses what it may no longer send.
 */
export class AckBatch {
  readonly #nc: NatsConnection;
  readonly #onError: (error: unknown, count: number) => void;
  #messages: Msg[] = [];
  #payloads: Uint8Array[] = [];

  /**
   * @param nc where the acks go
   * @param onError told when acks could not be published (the connection closed: the
   * server delivers those messages again after their ack_wait)
   */
  constructor(nc: NatsConnection, onError: (error: unknown, count: number) => void) {
    this.#nc = nc;
    this.#onError = onError;
  }

  /** Publish `payload` to the reply subject of `msg` with the batch. */
  publish(msg: Msg, payload: Uint8Array): void {
    if (this.#messages.length === 0) setImmediate(this.flush);
    this.#messages.push(msg);
    this.#payloads.push(payload);
  }

  /**
   * Publish what is gathered now (before a reply that must not overtake an ack).
   * @returns how many were gathered
   */
  readonly flush = (): number => {
    const messages = this.#messages;
    const count = messages.length;
    if (count === 0) return 0;
    const payloads = this.#payloads;
    this.#messages = [];
    this.#payloads = [];
    const nc = this.#nc;
    if (nc.isClosed()) {
      this.#onError(new ClosedConnectionError(), count);
      return count;
    }
    const checked = nc.isDraining();
    for (let i = 0; i < count; i++) {
      try {
        if (checked) nc.publish(messages[i]!.reply!, payloads[i]);
        else messages[i]!.respond(payloads[i]);
      } catch (error) {
        this.#onError(error, count - i);
        break;
      }
    }
    return count;
  };
}

/** A delivered message and the ways to settle it. */
export class Delivery {
  readonly data: Uint8Array;
  readonly headers: MsgHdrs | undefined;
  /** Its `Walnats-Delay`, epoch ms, once the delay check read one. */
  delayUntil: number | undefined = undefined;
  /**
   * While it waits for a slot (admission): when it was last pulsed, or began to wait
   * (`performance.now()`). Kept here rather than in a wrapper object per held
   * message (most messages of a backlog wait).
   */
  pulsed = 0;
  #metadata: JobMetadata | undefined;
  readonly #acks: AckBatch;
  readonly #msg: Msg;
  #settled = false;

  /**
   * @param acks where its acks go
   * @param msg the delivered message (it has a reply subject: its ack subject)
   */
  constructor(acks: AckBatch, msg: Msg) {
    this.#acks = acks;
    this.#msg = msg;
    this.data = msg.data;
    this.headers = msg.headers;
  }

  /**
   * The delivery's metadata, parsed from the ack subject on first use (a job that needs
   * neither its attempt nor its metadata, the common quick job, never parses it).
   */
  get metadata(): JobMetadata {
    return this.#metadata ??= parseAckSubject(this.#msg.reply!);
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
    if (!this.#settled) this.#acks.publish(this.#msg, WORKING);
  }

  /** Send the gathered acks now: a reply to the requester must not overtake this ack. */
  flush(): void {
    this.#acks.flush();
  }

  #send(payload: Uint8Array): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#acks.publish(this.#msg, payload);
  }
}

/** Where the dots of the subject being parsed are (the fields read end before the 12th). */
const dots = new Int32Array(16);

/**
 * Parse `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ns>.<pending>` (v1)
 * or the v2 form with `<domain>.<account hash>` after `ACK` and a random token at the end.
 * It runs once per message, so it reads the digits in place instead of splitting the
 * subject into strings; a field that is not a number reads as NaN.
 */
export function parseAckSubject(subject: string): JobMetadata {
  if (!subject.startsWith("$JS.ACK.")) {
    throw new TypeError(`Not a JetStream ack subject: ${subject}`);
  }
  let count = 0;
  for (let i = subject.indexOf("."); i !== -1; i = subject.indexOf(".", i + 1)) {
    if (count < dots.length) dots[count] = i;
    count++;
  }
  const tokens = count + 1;
  if (tokens !== 9 && tokens < 12) {
    throw new TypeError(`Unexpected JetStream ack subject: ${subject}`);
  }
  const base = tokens === 9 ? 2 : 4; // v2 adds domain and account hash
  return {
    delivered: field(subject, base + 2, count, 0),
    streamSeq: field(subject, base + 3, count, 0),
    consumerSeq: field(subject, base + 4, count, 0),
    // nanoseconds to milliseconds: leave out the last six digits (exact, unlike / 1e6)
    timestamp: field(subject, base + 5, count, 6),
    pending: field(subject, base + 6, count, 0),
  };
}

/** The decimal number in token `k` of `count` dots (0-based), without its last `drop` digits. */
function field(subject: string, k: number, count: number, drop: number): number {
  // k <= 10 < dots.length, and the dots before the count were written above
  const from = dots[k - 1]! + 1;
  const end = k < count ? dots[k]! : subject.length;
  if (end <= from) return Number.NaN;
  const cut = Math.max(from, end - drop);
  let value = 0;
  for (let i = from; i < end; i++) {
    const digit = subject.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return Number.NaN;
    if (i < cut) value = value * 10 + digit;
  }
  return value;
}
