/**
 * An actor's durable consumer: its config (milliseconds → nanoseconds here),
 * registration with clear errors, and the puller that sends the pull requests
 * (sized by the actor's runner) and measures their round trip.
 *
 * @module
 */
import {
  AckPolicy,
  type ConsumerConfig,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
} from "@nats-io/jetstream";
import { createInbox, type Msg, type NatsConnection, type Subscription } from "@nats-io/nats-core";
import { within } from "../_async.ts";
import { toNanos } from "../_duration.ts";
import { ConsumerConfigError } from "../errors.ts";
import { consoleLogger, type Logger } from "../_logger.ts";
import { registerStream } from "../events/stream.ts";
import type { Actor } from "./actor.ts";

const { ConsumerNotFound: CONSUMER_NOT_FOUND, StreamNotFound: STREAM_NOT_FOUND } =
  JetStreamApiCodes;

/** The consumer config an actor declares: these fields are always set. */
type DeclaredConsumer =
  & Partial<ConsumerConfig>
  & { durable_name: string }
  & Required<Pick<ConsumerConfig, "ack_wait" | "max_deliver" | "max_ack_pending">>;

/**
 * The consumer config an actor declares. `max_deliver` is a backstop only: walnats
 * counts attempts itself (delayed redeliveries do not count), so the server's limit is
 * set above it: `2 × maxAttempts + 1`.
 */
export function consumerConfig(
  actor: Actor<unknown, unknown>,
): DeclaredConsumer {
  const config: DeclaredConsumer = {
    durable_name: actor.consumerName,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: actor.event.name,
    ack_wait: toNanos(actor.ackWait),
    max_deliver: maxDeliver(actor),
    max_ack_pending: actor.maxAckPending,
  };
  if (actor.description !== undefined) config.description = actor.description;
  return config;
}

/** The server's delivery limit for an actor's messages (`-1`: none), a backstop above `maxAttempts`. */
export function maxDeliver(actor: Actor<unknown, unknown>): number {
  return actor.maxAttempts === undefined ? -1 : actor.maxAttempts * 2 + 1;
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
 * A consumer setting on the server that differs from the actor's declaration, found (and
 * changed to the declaration) by `register()`. Durations in milliseconds.
 *
 * @example Report what a register changed
 * ```ts
 * import type { ConnectedActors, ConsumerChange } from "@walnats/walnats";
 *
 * async function register(conn: ConnectedActors): Promise<void> {
 *   const changes: readonly ConsumerChange[] = await conn.register();
 *   for (const c of changes) console.warn(`${c.actor}: ${c.option} ${c.from} → ${c.to}`);
 * }
 * ```
 */
export interface ConsumerChange {
  /** The actor (and durable consumer) name. */
  readonly actor: string;
  /** The actor option, e.g. `ackWait`, `maxAttempts`, `event (filter subject)`. */
  readonly option: string;
  /** The server's field, e.g. `ack_wait`. */
  readonly field: string;
  /** The value on the server before (milliseconds for `ackWait`). */
  readonly from: unknown;
  /** The declared value, now on the server (unless the change was refused). */
  readonly to: unknown;
}

/**
 * Options of `register()` for actors.
 *
 * @example Move a consumer to another filter subject on purpose
 * ```ts
 * import type { ConnectedActors, RegisterConsumersOptions } from "@walnats/walnats";
 *
 * async function register(conn: ConnectedActors): Promise<void> {
 *   const options: RegisterConsumersOptions = { allowFilterChange: true };
 *   await conn.register(options);
 * }
 * ```
 */
export interface RegisterConsumersOptions {
  /**
   * Change the filter subject of an existing consumer (it then gets other messages than
   * before; nats-server 2.9 would change it without a word). Without it such a change throws
   * {@linkcode ConsumerConfigError}.
   * @default false
   */
  readonly allowFilterChange?: boolean;
  /** Where each changed setting is reported (a warning each). @default the console */
  readonly logger?: Logger;
}

/** Server value → what the user declared: ack_wait in ms, the rest as they are. */
function userValue(field: string, value: unknown): unknown {
  if (field === "ack_wait" && typeof value === "number") return value / 1e6;
  if (field === "description" && value === undefined) return "";
  return value;
}

/** Every declared setting that the existing consumer does not have. */
export function consumerDrift(
  actor: Actor<unknown, unknown>,
  existing: Partial<ConsumerConfig>,
): ConsumerChange[] {
  const config = consumerConfig(actor) as Record<string, unknown>;
  if (config.description === undefined) config.description = "";
  const have = existing as Record<string, unknown>;
  const out: ConsumerChange[] = [];
  for (const [field, value] of Object.entries(config)) {
    if (field === "durable_name") continue;
    const from = userValue(field, have[field] ?? (field === "filter_subject" ? "" : undefined));
    const to = userValue(field, value);
    if (JSON.stringify(from) !== JSON.stringify(to)) {
      out.push({ actor: actor.name, option: optionNames[field] ?? field, field, from, to });
    }
  }
  return out;
}

/**
 * Create or update the actor's durable consumer. When the event's stream does not exist
 * yet (the subscriber started before any publisher registered), the stream is created
 * from the event's declaration; an existing stream is left as it is. An existing consumer
 * is compared with the declaration first: every difference is logged and returned, and a
 * filter subject change is refused unless `allowFilterChange`.
 *
 * @returns the settings that differed from the declaration and were changed
 * @throws {ConsumerConfigError} the server rejected the config, or an immutable setting
 * (or the filter subject) differs; names the actor and option
 */
export async function registerConsumer(
  jsm: JetStreamManager,
  actor: Actor<unknown, unknown>,
  options: RegisterConsumersOptions = {},
): Promise<ConsumerChange[]> {
  const config = consumerConfig(actor);
  const stream = actor.event.streamName;
  // Look before writing: nats-server 2.9 takes a create of an existing consumer as an
  // update and changes whatever differs without a word.
  let existing: ConsumerConfig | undefined;
  try {
    existing = (await jsm.consumers.info(stream, config.durable_name)).config;
  } catch (error) {
    if (!missing(error)) throw consumerError(actor, error, []);
  }
  if (!existing) {
    try {
      await jsm.consumers.add(stream, config);
      return [];
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === STREAM_NOT_FOUND) {
        // The subscriber came first: create the event's stream as the event declares it
        // (an existing stream is never changed from here; that is the publisher's call).
        await registerStream(jsm, actor.event, { update: false }).catch((streamError) => {
          throw consumerError(actor, streamError, []);
        });
        return await registerConsumer(jsm, actor, options);
      }
      // Created by someone else meanwhile: compare with theirs.
      existing = await jsm.consumers.info(stream, config.durable_name).then((i) => i.config)
        .catch(() => undefined);
      if (!existing) throw consumerError(actor, error, []);
    }
  }
  const drift = consumerDrift(actor, existing);
  if (!drift.length) return [];
  const changed = drift.map((d) =>
    `${d.option} (${JSON.stringify(d.from)} → ${JSON.stringify(d.to)})`
  );
  const immutable = drift.filter((d) => d.field === "ack_policy" || d.field === "deliver_policy");
  if (immutable.length) {
    throw consumerError(actor, new Error("immutable options differ"), changed);
  }
  const filter = drift.find((d) => d.field === "filter_subject");
  if (filter && !options.allowFilterChange && !(await sameMessages(jsm, actor, existing))) {
    throw new ConsumerConfigError(
      actor.name,
      `Cannot register actor "${actor.name}" on event "${actor.event.name}": its consumer on ` +
        `stream "${stream}" filters subject ${JSON.stringify(filter.from)}, the declaration ` +
        `${JSON.stringify(filter.to)}; changing it changes which messages the actor gets. The ` +
        "consumer was left as it is; to change it anyway, pass register({ allowFilterChange: true })",
    );
  }
  const logger = options.logger ?? consoleLogger;
  for (const d of drift) {
    logger.warn(
      `actor "${actor.name}": its consumer on stream "${stream}" differs from the declaration: ` +
        `${d.option} (${d.field}${d.field === "ack_wait" ? ", ms" : ""}) ` +
        `${JSON.stringify(d.from)} → ${JSON.stringify(d.to)}; changing it (running listeners ` +
        "follow within their consumerCheckInterval)",
      { actor: actor.name, option: d.option, field: d.field, from: d.from, to: d.to },
    );
  }
  try {
    await jsm.consumers.update(stream, config.durable_name, {
      ack_wait: config.ack_wait,
      max_deliver: config.max_deliver,
      max_ack_pending: config.max_ack_pending,
      description: config.description ?? "",
      ...(filter ? { filter_subject: config.filter_subject } : {}),
    });
  } catch (updateError) {
    throw consumerError(actor, updateError, changed);
  }
  return drift;
}

/**
 * A consumer without a filter gets the whole stream: the same messages as one filtered on
 * the event, when the stream carries only the event's subject (Python walnats sets none).
 */
async function sameMessages(
  jsm: JetStreamManager,
  actor: Actor<unknown, unknown>,
  existing: ConsumerConfig,
): Promise<boolean> {
  if (existing.filter_subject) return false;
  const subjects = await jsm.streams.info(actor.event.streamName).then((i) => i.config.subjects)
    .catch(() => undefined);
  return subjects?.length === 1 && subjects[0] === actor.event.name;
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
  return missing(error) !== undefined;
}

/** What the error says is gone: the consumer, its stream, or nothing. */
export function missing(error: unknown): "consumer" | "stream" | undefined {
  if (!(error instanceof JetStreamApiError)) return undefined;
  return error.code === CONSUMER_NOT_FOUND
    ? "consumer"
    : error.code === STREAM_NOT_FOUND
    ? "stream"
    : undefined;
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
  /** A backoff after failed requests is over: the puller may pull again. */
  readonly onReady?: () => void;
  /** First wait after a failed request, ms; doubled after each, reset by any answer. @default 100 */
  readonly minBackoff?: number;
  /** Longest wait after failed requests, ms. @default 5000 */
  readonly maxBackoff?: number;
}

/**
 * Whether a pull status says that the consumer (or its stream) is gone: the server ends
 * waiting requests with "409 Consumer Deleted"; 503 means nothing answers pull requests
 * at all; a 404 that is not the answer to a `no_wait` request has no other meaning.
 * Requests sent to a consumer that does not exist get no answer at all on nats-server
 * 2.9 (the JetStream API swallows them), which only the missing heartbeats tell.
 */
export function saysGone(status: number, description: string, noWait: boolean): boolean {
  return status === 503 || (status === 409 && /consumer\s*deleted/i.test(description)) ||
    (status === 404 && !noWait);
}

/**
 * The slowest answer to a pull request still taken as a measure of the round trip, ms.
 * Slower ones waited for messages to arrive in the stream.
 */
export const MAX_RTT_SAMPLE = 20;

/** First wait after a failed pull request, ms. */
export const PULL_BACKOFF_MIN = 100;
/** Longest wait after failed pull requests, ms. */
export const PULL_BACKOFF_MAX = 5000;

/**
 * Sends pull requests, each to its own inbox token so that a status (timeout, no
 * messages, consumer deleted) names its request. `outstanding` is what the server may
 * still deliver: requested, minus delivered, minus what ended requests left undelivered.
 *
 * `reset()` forgets every request and moves to a fresh inbox: what the server still
 * sends to the old one (requests it kept across a short disconnect or a freeze) is
 * delivered but not counted, and its statuses are ignored, so the count of the new
 * requests stays exact. The old inbox is unsubscribed, after which the server drops
 * the requests that pointed at it.
 *
 * A request that ends with a failure status (503 no responders, 409, 400...) is not
 * followed by the next one at once, which would repeat it at network speed: pulls wait
 * {@linkcode PULL_BACKOFF_MIN} ms, doubling up to {@linkcode PULL_BACKOFF_MAX}, until
 * the server answers otherwise (a message, a heartbeat, an ordinary status) or `reset()`.
 */
export class Puller {
  readonly #nc: NatsConnection;
  readonly #subject: string;
  readonly #options: PullerOptions;
  #prefix = "";
  #sub: Subscription | undefined;
  /** Live requests by token: batch and when sent (insertion order is age order). */
  readonly #requests = new Map<string, { batch: number; at: number }>();
  #counter = 0;
  #outstanding = 0;
  #polls = 0;
  #gone = false;
  /** When a pull was sent with nothing on its way, until its first message (ms), or NaN. */
  #probe = Number.NaN;
  #rtt = Number.NaN;
  /** The current wait after failed requests, ms (0: none failed since the last answer). */
  #backoff = 0;
  #backoffTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * When the server last showed this consumer alive (a message, a heartbeat, a status),
   * or when requests started waiting after none did, epoch ms. `0` once a status said
   * the consumer or its stream is gone, until the next sign of life or `reset()`.
   */
  lastActivity: number = Date.now();

  constructor(nc: NatsConnection, stream: string, consumer: string, options: PullerOptions) {
    this.#nc = nc;
    this.#options = options;
    this.#subject = `$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`;
    this.#subscribe();
  }

  /** Messages requested and not yet delivered or expired. */
  get outstanding(): number {
    return this.#outstanding;
  }

  /**
   * The pull round trip: from a request sent with nothing else on its way to its first
   * message, ms (a moving average; NaN until measured). A request that waited for the
   * stream to fill says nothing about the link, so answers slower than
   * {@linkcode MAX_RTT_SAMPLE} are not counted.
   */
  get rtt(): number {
    return this.#rtt;
  }

  /** Pull requests sent so far. */
  get polls(): number {
    return this.#polls;
  }

  /** Whether the last word from the server was that the consumer or its stream is gone. */
  get gone(): boolean {
    return this.#gone;
  }

  /** Whether pulls wait after failed requests (`onReady` tells when they may go on). */
  get backingOff(): boolean {
    return this.#backoffTimer !== undefined;
  }

  /**
   * Whether a pull may go now: not while backing off, and in burst mode (`no_wait`) not
   * while a request is on its way. A `no_wait` request that got part of its batch ends
   * with 408 and `Nats-Pending-Messages` on nats-server 2.9 and 2.10, but with a bare 404
   * on 2.15, which does not say how much of it came; data messages do not name their
   * request either. With one request at a time, its end leaves nothing outstanding,
   * whatever the status says.
   */
  get ready(): boolean {
    return !this.backingOff && !(this.#options.noWait && this.#outstanding > 0);
  }

  /**
   * Ask for up to `batch` messages (nothing while backing off, and in burst mode nothing
   * while a request is on its way: see {@linkcode Puller.ready}).
   */
  pull(batch: number): void {
    if (batch <= 0 || this.#sub === undefined || this.#nc.isClosed() || !this.ready) return;
    const token = (++this.#counter).toString(36);
    // Silence is measured from the moment something is awaited, not from the last
    // answer (which may be long ago when every slot was busy).
    const now = Date.now();
    if (this.#outstanding === 0 && !this.#gone) this.lastActivity = now;
    this.#forgetOld(now);
    this.#requests.set(token, { batch, at: now });
    if (this.#outstanding === 0) this.#probe = performance.now();
    this.#outstanding += batch;
    this.#polls += 1;
    // A no_wait request also carries `expires`: nats-server 2.9 can keep a no_wait
    // request waiting (it shows in num_waiting) when its messages went to other requests
    // first, and without an expiry nothing would ever end it.
    const body: Record<string, unknown> = this.#options.noWait
      ? { batch, no_wait: true, expires: toNanos(this.#options.expires) }
      : {
        batch,
        expires: toNanos(this.#options.expires),
        idle_heartbeat: toNanos(this.#options.heartbeat),
      };
    this.#nc.publish(this.#subject, JSON.stringify(body), { reply: `${this.#prefix}.${token}` });
  }

  /**
   * Forget every request (the link died, the server restarted or the consumer was
   * recreated) and move to a fresh inbox; the server's copies expire or are dropped.
   */
  reset(): void {
    this.#forget();
    // Pull at once (the healer saw the consumer there); another failure waits longer.
    this.#stopBackoff();
    this.#gone = false;
    this.lastActivity = Date.now();
    const old = this.#sub;
    if (this.#nc.isClosed()) {
      this.#sub = undefined;
      return;
    }
    this.#subscribe();
    // Drain: what is already on its way to the old inbox still arrives (uncounted).
    if (old && !old.isClosed()) old.drain().catch(() => old.unsubscribe());
  }

  #subscribe(): void {
    const prefix = createInbox();
    this.#prefix = prefix;
    this.#sub = this.#nc.subscribe(`${prefix}.*`, {
      callback: (_err, msg) => {
        if (prefix === this.#prefix) this.#receive(msg);
        else if ((msg.headers?.code ?? 0) === 0 && msg.reply) this.#options.onMessage(msg);
      },
    });
  }

  #forget(): void {
    this.#requests.clear();
    this.#outstanding = 0;
    this.#probe = Number.NaN;
  }

  #receive(msg: Msg): void {
    const code = msg.headers?.code ?? 0;
    if (code === 0 && msg.reply) {
      this.#alive();
      if (!Number.isNaN(this.#probe)) this.#measured(performance.now() - this.#probe);
      // Data messages carry their own subject, not the request's inbox: the server
      // spreads them over the waiting requests, so only the total is counted.
      this.#ended(1);
      this.#options.onMessage(msg);
      return;
    }
    if (code === 100) {
      this.#alive(); // idle heartbeat: the link and the consumer are alive
      return;
    }
    const description = msg.headers?.description ?? "";
    if (saysGone(code, description, this.#options.noWait)) {
      this.#gone = true;
      this.lastActivity = 0;
    } else {
      this.#alive();
    }
    if (code >= 400 && code !== 404 && code !== 408) this.#failed();
    const token = msg.subject.slice(this.#prefix.length + 1);
    const batch = this.#requests.get(token)?.batch;
    this.#requests.delete(token);
    // The server says how many of this request it did not deliver. In burst mode the
    // request was the only one (see `ready`): nothing is left on its way.
    const header = msg.headers?.get("Nats-Pending-Messages");
    if (this.#options.noWait) this.#ended(this.#outstanding);
    else this.#ended(header ? Number(header) : batch ?? 0);
    this.#options.onRequestEnd(code, description);
  }

  /**
   * A request that got its whole batch hears nothing more, so under steady load (when
   * `outstanding` never drops to 0) its token would stay forever. Past its expiry it is
   * over either way, and a late 408 carries its own count.
   */
  #forgetOld(now: number): void {
    const before = now - this.#options.expires - 5000;
    for (const [token, { at }] of this.#requests) {
      if (at >= before) break;
      this.#requests.delete(token);
    }
  }

  #measured(sample: number): void {
    this.#probe = Number.NaN;
    if (sample > MAX_RTT_SAMPLE) return;
    const rtt = this.#rtt;
    this.#rtt = Number.isNaN(rtt) ? sample : rtt + (sample - rtt) / 4;
  }

  #alive(): void {
    this.#gone = false;
    this.lastActivity = Date.now();
    this.#backoff = 0;
  }

  /** A request failed: wait before the next pull (several failing at once wait once). */
  #failed(): void {
    if (this.#backoffTimer !== undefined) return;
    const min = this.#options.minBackoff ?? PULL_BACKOFF_MIN;
    const max = this.#options.maxBackoff ?? PULL_BACKOFF_MAX;
    this.#backoff = this.#backoff === 0 ? min : Math.min(this.#backoff * 2, max);
    this.#backoffTimer = setTimeout(() => {
      this.#backoffTimer = undefined;
      this.#options.onReady?.();
    }, this.#backoff);
  }

  #stopBackoff(): void {
    clearTimeout(this.#backoffTimer);
    this.#backoffTimer = undefined;
  }

  #ended(count: number): void {
    this.#outstanding = Math.max(0, this.#outstanding - count);
    if (this.#outstanding === 0) this.#requests.clear();
  }

  /**
   * Stop receiving: unsubscribe, delivering what is already on its way (nats.js drain).
   * A drain needs the server's answer; while disconnected it gives up after `expires`.
   */
  async drain(): Promise<void> {
    this.#forget();
    this.#stopBackoff();
    const sub = this.#sub;
    if (!sub || sub.isClosed() || this.#nc.isClosed()) return;
    await within(sub.drain().catch(() => {}), this.#options.expires);
    if (!sub.isClosed()) sub.unsubscribe();
  }
}
