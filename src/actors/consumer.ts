/**
 * An actor's durable consumer: its config (milliseconds → nanoseconds here),
 * registration with clear errors, and the puller that asks the server for
 * exactly as many messages as there are free job slots.
 *
 * @module
 */
import {
  AckPolicy,
  type ConsumerConfig,
  DeliverPolicy,
  JetStreamApiError,
  type JetStreamManager,
} from "@nats-io/jetstream";
import {
  createInbox,
  type Msg,
  nanos,
  type NatsConnection,
  type Subscription,
} from "@nats-io/nats-core";
import { ConsumerConfigError } from "../errors.ts";
import { registerStream } from "../events/stream.ts";
import type { Actor } from "./actor.ts";

const CONSUMER_NOT_FOUND = 10014;
const STREAM_NOT_FOUND = 10059;

/**
 * The consumer config an actor declares. `max_deliver` is a backstop only: walnats
 * counts attempts itself (delayed redeliveries do not count), so the server's limit is
 * set above it: `2 × maxAttempts + 1`.
 */
export function consumerConfig(
  actor: Actor<unknown, unknown>,
): Partial<ConsumerConfig> & { durable_name: string } {
  const config: Partial<ConsumerConfig> & { durable_name: string } = {
    durable_name: actor.consumerName,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: actor.event.name,
    ack_wait: nanos(actor.ackWait),
    max_deliver: actor.maxAttempts === undefined ? -1 : actor.maxAttempts * 2 + 1,
    max_ack_pending: actor.maxAckPending,
  };
  if (actor.description !== undefined) config.description = actor.description;
  return config;
}

const optionNames: Record<string, string> = {
  ack_wait: "ackWait",
  max_deliver: "maxAttempts",
  max_ack_pending: "maxAckPending",
  description: "description",
  ack_policy: "ack policy",
  deliver_policy: "deliver policy",
  filter_subject: "event (filter subject)",
};

/**
 * Create or update the actor's durable consumer. When the event's stream does not exist
 * yet (the subscriber started before any publisher registered), the stream is created
 * from the event's declaration; an existing stream is left as it is.
 *
 * @throws {ConsumerConfigError} the server rejected the config; names the actor and option
 */
export async function registerConsumer(
  jsm: JetStreamManager,
  actor: Actor<unknown, unknown>,
): Promise<void> {
  const config = consumerConfig(actor);
  const stream = actor.event.streamName;
  try {
    await jsm.consumers.add(stream, config);
    return;
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === STREAM_NOT_FOUND) {
      // The subscriber came first: create the event's stream as the event declares it
      // (an existing stream is never changed from here; that is the publisher's call).
      await registerStream(jsm, actor.event, { update: false }).catch((streamError) => {
        throw consumerError(actor, streamError, []);
      });
      return await registerConsumer(jsm, actor);
    }
    const existing = await jsm.consumers.info(stream, config.durable_name).catch(() => undefined);
    if (!existing) throw consumerError(actor, error, []);
    const changed = Object.entries(config).filter(([key, value]) =>
      JSON.stringify((existing.config as Record<string, unknown>)[key]) !== JSON.stringify(value)
    ).map(([key, value]) =>
      `${optionNames[key] ?? key} (${
        JSON.stringify((existing.config as Record<string, unknown>)[key])
      } → ${JSON.stringify(value)})`
    );
    try {
      await jsm.consumers.update(stream, config.durable_name, {
        ack_wait: config.ack_wait,
        max_deliver: config.max_deliver,
        max_ack_pending: config.max_ack_pending,
        description: config.description ?? "",
      });
    } catch (updateError) {
      throw consumerError(actor, updateError, changed);
    }
    const after = await jsm.consumers.info(stream, config.durable_name);
    const immutable = ["ack_policy", "deliver_policy", "filter_subject"].filter((key) =>
      JSON.stringify((after.config as Record<string, unknown>)[key]) !==
        JSON.stringify((config as Record<string, unknown>)[key])
    );
    if (immutable.length) {
      throw consumerError(
        actor,
        new Error("immutable options differ"),
        changed.filter((c) => immutable.some((key) => c.startsWith(optionNames[key]))),
      );
    }
  }
}

function consumerError(
  actor: Actor<unknown, unknown>,
  error: unknown,
  changed: string[],
): ConsumerConfigError {
  const said = error instanceof JetStreamApiError
    ? `${error.apiError().description} (code ${error.code})`
    : error instanceof Error
    ? error.message
    : String(error);
  return new ConsumerConfigError(
    actor.name,
    `Cannot register actor "${actor.name}" on event "${actor.event.name}": ${said}` +
      (changed.length
        ? `; changed: ${changed.join(", ")} (delete the consumer or rename the actor)`
        : ""),
    { cause: error },
  );
}

/** True when the error says the consumer or its stream is gone. */
export function isMissing(error: unknown): boolean {
  return error instanceof JetStreamApiError &&
    (error.code === CONSUMER_NOT_FOUND || error.code === STREAM_NOT_FOUND);
}

/** Options of a {@linkcode Puller}. */
export interface PullerOptions {
  /** Pull requests expire after this many ms. */
  readonly expires: number;
  /** Ask the server for heartbeats this often while a request waits, ms. */
  readonly heartbeat: number;
  /** Burst mode: `no_wait` requests that end at once when the stream is empty (and expire anyway). */
  readonly noWait: boolean;
  /** Each delivered message. */
  readonly onMessage: (msg: Msg) => void;
  /** A request ended (expired, no messages, or an error status); `requested - received` were not delivered. */
  readonly onRequestEnd: (status: number, description: string) => void;
}

/**
 * Sends pull requests, each to its own inbox token so that a status (timeout, no
 * messages, consumer deleted) names its request. `outstanding` is what the server may
 * still deliver: requested, minus delivered, minus what ended requests left undelivered.
 */
export class Puller {
  readonly #nc: NatsConnection;
  readonly #subject: string;
  readonly #options: PullerOptions;
  readonly #prefix: string;
  readonly #sub: Subscription;
  readonly #requests = new Map<string, number>();
  #counter = 0;
  #outstanding = 0;
  #polls = 0;
  /** When the server last said anything (message, heartbeat, status), epoch ms. */
  lastActivity: number = Date.now();

  constructor(nc: NatsConnection, stream: string, consumer: string, options: PullerOptions) {
    this.#nc = nc;
    this.#options = options;
    this.#subject = `$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`;
    this.#prefix = createInbox();
    this.#sub = nc.subscribe(`${this.#prefix}.*`, { callback: (_err, msg) => this.#receive(msg) });
  }

  /** Messages requested and not yet delivered or expired. */
  get outstanding(): number {
    return this.#outstanding;
  }

  /** Pull requests sent so far. */
  get polls(): number {
    return this.#polls;
  }

  /** Ask for up to `batch` messages. */
  pull(batch: number): void {
    if (batch <= 0) return;
    const token = (++this.#counter).toString(36);
    this.#requests.set(token, batch);
    this.#outstanding += batch;
    this.#polls += 1;
    // A no_wait request also carries `expires`: nats-server 2.9 can keep a no_wait
    // request waiting (it shows in num_waiting) when its messages went to other requests
    // first, and without an expiry nothing would ever end it.
    const body: Record<string, unknown> = this.#options.noWait
      ? { batch, no_wait: true, expires: nanos(this.#options.expires) }
      : {
        batch,
        expires: nanos(this.#options.expires),
        idle_heartbeat: nanos(this.#options.heartbeat),
      };
    this.#nc.publish(this.#subject, JSON.stringify(body), { reply: `${this.#prefix}.${token}` });
  }

  /** Forget every request (the link died or the server restarted); the server's copies just expire. */
  reset(): void {
    this.#requests.clear();
    this.#outstanding = 0;
  }

  #receive(msg: Msg): void {
    this.lastActivity = Date.now();
    const code = msg.headers?.code ?? 0;
    if (code === 0 && msg.reply) {
      // Data messages carry their own subject, not the request's inbox: the server
      // spreads them over the waiting requests, so only the total is counted.
      this.#ended(1);
      this.#options.onMessage(msg);
      return;
    }
    if (code === 100) return; // idle heartbeat: the link is alive
    const token = msg.subject.slice(this.#prefix.length + 1);
    const batch = this.#requests.get(token);
    this.#requests.delete(token);
    // The server says how many of this request it did not deliver; a status without
    // that header (no_wait, nothing available) delivered nothing.
    const header = msg.headers?.get("Nats-Pending-Messages");
    this.#ended(header ? Number(header) : batch ?? 0);
    this.#options.onRequestEnd(code, msg.headers?.description ?? "");
  }

  #ended(count: number): void {
    this.#outstanding = Math.max(0, this.#outstanding - count);
    if (this.#outstanding === 0) this.#requests.clear();
  }

  /** Stop receiving: unsubscribe, delivering what is already on its way (nats.js drain). */
  async drain(): Promise<void> {
    this.reset();
    if (!this.#sub.isClosed()) await this.#sub.drain();
  }
}
