/**
 * One actor inside a listener: how many messages to pull (the free job slots, and
 * for short jobs what they finish in one pull round trip), the delay check, the
 * global priority slot, and the job pipeline decode → hooks → handler →
 * ack/nak/term → response → hooks.
 *
 * @module
 */
import type { ConsumerConfig } from "@nats-io/jetstream";
import type { Msg, NatsConnection } from "@nats-io/nats-core";
import { within } from "../_async.ts";
import type { Logger } from "../_logger.ts";
import { isInstance } from "../_error_text.ts";
import { validate } from "../events/schema.ts";
import { JobTimeoutError } from "../errors.ts";
import { parseDelay, REPLY, TRACE } from "../headers.ts";
import { sendResponse, settleFailure } from "./ack.ts";
import type {
  Actor,
  Context,
  FailureContext,
  Handler,
  Middleware,
  SuccessContext,
  Termination,
} from "./actor.ts";
import { Puller } from "./consumer.ts";
import type { DeadLetterReason } from "./dead_letter.ts";
import { FailureLog } from "./_failure_log.ts";
import { type GiveUpEnd, GiveUps, type Unsent } from "./_give_up.ts";
import { isPullFailure, PullStatusLog } from "./_pull_status_log.ts";
import { jobScope } from "./context.ts";
import { Delivery } from "./delivery.ts";
import { JobArgument, type Outcome, runHandler } from "./handler.ts";
import { JobClock, JobControl } from "./job_control.ts";
import { ProgressBoard, type RunningJobProgress } from "./job_progress.ts";
import type { Permit, PrioritySemaphore } from "./priority.ts";
import type { WorkerPools } from "./workers/worker_pool.ts";

/** What a runner needs from its listener. */
export interface RunnerDeps {
  readonly nc: NatsConnection;
  /** Global job slots, granted by priority. */
  readonly slots: PrioritySemaphore;
  readonly logger: Logger;
  /** Aborts on shutdown: waiting for a slot stops, the message is given back. */
  readonly stopping: AbortSignal;
  /** Messages of all actors received and waiting for a global slot. */
  heldTotal(): number;
  /** A slot was freed or a request ended: every runner may pull again. */
  changed(): void;
  readonly expires: number;
  readonly heartbeat: number;
  readonly noWait: boolean;
  readonly batch: number;
  /** Whether to pull ahead of the free slots for short jobs. */
  readonly pullAhead: boolean;
  readonly maxPolls: number;
  /** Worker pools for actors with `executeIn` "thread" or "process". */
  readonly pools?: WorkerPools;
}

/** The reason a job's signal aborts with on shutdown. */
export class ShutdownError extends Error {
  constructor() {
    super("The listener is shutting down");
    this.name = "ShutdownError";
  }
}

/** Pull-ahead is at most this many messages per job slot of the actor... */
export const AHEAD_PER_SLOT = 16;
/** ...and at most this many messages... */
export const MAX_AHEAD = 1024;
/** ...and at most this many bytes, by the average payload of the actor's messages. */
export const MAX_AHEAD_BYTES = 8 * 1024 * 1024;

/** What the failure hooks are told of a give-up (`undefined`: kept for a retry of its copy). */
function termination(reason: DeadLetterReason, end: GiveUpEnd): Termination | undefined {
  return end === "kept" ? undefined : { reason, deadLetter: end };
}

/** Marks a message whose payload is not decoded yet. */
const NOT_DECODED: unique symbol = Symbol("not decoded");

/** A job of the fast path: its control, and what its end needs (instead of an async frame). */
class FastJob extends JobControl {
  constructor(
    pulse: Delivery | undefined,
    readonly received: Delivery,
    readonly permit: Permit,
    readonly attempt: number,
  ) {
    super(pulse);
  }
}

/** A due message waiting for its slots, pulsed while it waits. */
class Held extends JobControl {
  constructor(
    readonly received: Delivery,
    readonly delayUntil: number | undefined,
    /**
     * The general path's wait: told the permit (both slots taken), or `undefined` on
     * shutdown. A message of the fast path has none, and starts on the fast path.
     */
    readonly resume?: (permit: Permit | undefined) => void,
  ) {
    super(received);
  }
}

/** An actor's share of a listener. */
export class ActorRunner {
  readonly actor: Actor<unknown, unknown>;
  /** Jobs running now. */
  running = 0;
  /** Messages received and waiting for a global slot. */
  held = 0;
  /** Burst mode: the last request found the stream empty. */
  drained = false;
  /** When the last pull request was sent, epoch ms (health). */
  lastPull = 0;
  readonly #deps: RunnerDeps;
  readonly #puller: Puller;
  readonly #early = new Map<number, number>();
  /** Jobs running (or waiting for a worker), to abort on shutdown. */
  readonly #controls = new Set<JobControl>();
  /** Times out and pulses this actor's jobs. */
  readonly #clock: JobClock;
  /** Messages received and not yet settled. */
  #inflight = 0;
  /** Local job slots taken: running jobs, and held messages with a global slot asked for. */
  #taken = 0;
  /**
   * Messages waiting for slots, first come first served. The first `#asked` of them
   * have their local slot and a global one asked for.
   */
  readonly #queue: Held[] = [];
  /** Global slots asked for on behalf of the first messages of `#queue`. */
  #asked = 0;
  /** Moving average of the handler's run time, ms (NaN before the first job). */
  #duration = Number.NaN;
  /** Moving average of the payload size, bytes (0 before the first message). */
  #size = 0;
  /** When a job last ended, or jobs started running after none did (`performance.now()`). */
  #lastEnd = 0;
  #idle: (() => void) | undefined;
  #stopped = false;
  /** Failed attempts and terminations, logged with a rate limit. */
  readonly #failures: FailureLog;
  /** Dead letters and terminations. */
  readonly #giveUps: GiveUps;
  /** Failed pull requests, logged once per kind with a count of repeats. */
  readonly #pullLog: PullStatusLog;
  /** Where a validation error says the bad value was. */
  readonly #messageOf: string;
  /** Whether the fast path applies: a main-thread function handler, no middlewares. */
  readonly #fast: boolean;
  /** The consumer's ack_wait, ms: declared until the server's is read. */
  #ackWait: number;
  /** The running jobs' progress. */
  readonly #board: ProgressBoard;

  constructor(actor: Actor<unknown, unknown>, deps: RunnerDeps) {
    this.actor = actor;
    this.#deps = deps;
    this.#messageOf = `message of event "${actor.event.name}"`;
    this.#fast = typeof actor.handler === "function" && actor.middlewares.length === 0;
    this.#board = new ProgressBoard(
      deps.nc,
      actor.name,
      actor.event.name,
      (error) => deps.logger.warn(`progress of a job of actor "${actor.name}" not sent`, { error }),
    );
    this.#failures = new FailureLog(deps.logger, actor.name);
    this.#giveUps = new GiveUps(deps.nc, deps.logger, actor);
    this.#pullLog = new PullStatusLog(deps.logger, actor);
    this.#ackWait = actor.ackWait;
    // Messages waiting for a slot are always pulsed (their wait is the listener's doing);
    // jobs are pulsed when `actor.pulse` says so (their control then carries the delivery).
    this.#clock = new JobClock(
      actor.jobTimeout,
      actor.ackWait / 2,
      (job) => job.abort(new JobTimeoutError(actor.name, actor.jobTimeout)),
    );
    this.#puller = new Puller(deps.nc, actor.event.streamName, actor.consumerName, {
      expires: deps.expires,
      heartbeat: deps.heartbeat,
      noWait: deps.noWait,
      onMessage: (msg) => this.#receive(msg),
      onRequestEnd: (status, description) => this.#requestEnded(status, description),
      onReady: () => this.refill(),
    });
  }

  /**
   * The latest progress of running jobs that reported some.
   * @param limit at most this many
   */
  progress(limit: number): RunningJobProgress[] {
    return limit > 0 ? this.#board.snapshot(limit) : [];
  }

  /** Dead letters stored, and messages terminated without one (the copy cannot be stored). */
  get deadLetters(): { readonly stored: number; readonly lost: number } {
    return { ...this.#giveUps.counts };
  }

  /** Messages requested from the server and not yet delivered. */
  get outstanding(): number {
    return this.#puller.outstanding;
  }

  /** The measured pull round trip, ms (NaN until measured). */
  get rtt(): number {
    return this.#puller.rtt;
  }

  /** Nothing running, held or requested, and no more polls allowed or needed. */
  get idle(): boolean {
    return this.running === 0 && this.held === 0 && this.#puller.outstanding === 0;
  }

  /** Whether `maxPolls` pull requests were sent. */
  get pollsUsed(): boolean {
    return this.#puller.polls >= this.#deps.maxPolls;
  }

  /** When the server last said anything on this actor's requests. */
  get lastActivity(): number {
    return this.#puller.lastActivity;
  }

  /**
   * How many messages to ask for beyond the free slots: as many as this actor's jobs
   * finish during one pull round trip, so that the next messages arrive as slots free
   * up instead of one round trip later; at most {@linkcode AHEAD_PER_SLOT} per slot,
   * {@linkcode MAX_AHEAD} in all, and {@linkcode MAX_AHEAD_BYTES} of payload. A message
   * pulled ahead waits about one round trip for its slot, and is pulsed while it waits.
   * Jobs that run longer than `maxJobs` round trips get none: the listener then holds
   * no more messages than it has free slots, and an idle instance can take the rest.
   */
  get ahead(): number {
    const rtt = this.#puller.rtt;
    const duration = this.#duration;
    if (!this.#deps.pullAhead || Number.isNaN(rtt) || Number.isNaN(duration)) return 0;
    const { maxJobs } = this.actor;
    let time = Math.max(duration, 0.001);
    if (this.running > 0) {
      // Jobs run and none ended for a while (a stuck dependency): they are at least that
      // long now, whatever the average of the jobs that did end says.
      time = Math.max(time, performance.now() - this.#lastEnd);
    }
    const bytes = Math.floor(MAX_AHEAD_BYTES / Math.max(this.#size, 1));
    return Math.min(
      AHEAD_PER_SLOT * maxJobs,
      MAX_AHEAD,
      bytes,
      Math.floor((maxJobs * rtt) / time),
    );
  }

  /** Ask for as many messages as there are free slots (local and global), plus `ahead`. */
  refill(): void {
    if (
      this.#stopped || this.pollsUsed || (this.#deps.noWait && this.drained) ||
      this.#puller.backingOff
    ) return;
    const ahead = this.ahead;
    const local = this.actor.maxJobs + ahead - this.running - this.held -
      this.#puller.outstanding;
    if (local <= 0) return;
    const globalFree = this.#deps.slots.available + ahead - this.#deps.heldTotal();
    let n = Math.min(local, this.#deps.batch, Math.max(0, globalFree));
    // When every global slot is taken, keep one message coming so that the next free
    // slot goes by priority among actors that have work, not to whoever pulls first.
    if (n === 0 && this.#puller.outstanding === 0 && this.held === 0) n = 1;
    // While messages are on their way, wait until half a window is free: fewer, larger
    // pull requests cost the server less than one per freed slot.
    const threshold = this.#puller.outstanding === 0
      ? 1
      : Math.max(1, Math.floor(Math.min(this.actor.maxJobs + ahead, this.#deps.batch) / 2));
    if (n < threshold) return;
    this.lastPull = Date.now();
    this.#puller.pull(n);
  }

  /**
   * The consumer's live settings: pulses follow its `ack_wait`, which another instance's
   * `register()` may have changed (a lower one would otherwise run a job twice at once).
   */
  follow(config: Pick<ConsumerConfig, "ack_wait">): void {
    const ackWait = (config.ack_wait ?? 0) / 1e6;
    if (!(ackWait > 0) || ackWait === this.#ackWait) return;
    this.#deps.logger.info(
      `actor "${this.actor.name}": its consumer's ack_wait is ${ackWait} ms ` +
        `(was ${this.#ackWait} ms here); pulsing running jobs every ${ackWait / 2} ms`,
      { actor: this.actor.name, ackWait, was: this.#ackWait },
    );
    this.#ackWait = ackWait;
    this.#clock.pulseEvery(ackWait / 2);
  }

  /** The ack_wait pulses are timed from, ms: the consumer's live one once read. */
  get ackWait(): number {
    return this.#ackWait;
  }

  /** The requests died, or the consumer was recreated: forget them and pull again. */
  resetPulls(): void {
    this.#pullLog.recovered();
    this.#puller.reset();
    this.refill();
  }

  #requestEnded(status: number, description: string): void {
    if (isPullFailure(status)) this.#pullLog.failed(status, description);
    else if (this.#deps.noWait) this.drained = true;
    this.#deps.changed();
  }

  #receive(msg: Msg): void {
    if (this.#pullLog.active) this.#pullLog.recovered();
    const delivery = new Delivery(this.#deps.nc, msg);
    const size = this.#size;
    this.#size = size === 0 ? msg.data.length : size + (msg.data.length - size) / 8;
    if (this.#stopped) {
      delivery.nak(0); // shutting down: give it back at once
      return;
    }
    this.#inflight += 1;
    const unsent = this.#giveUps.unsent(delivery);
    if (unsent !== undefined) void this.#resend(delivery, unsent);
    else if (!this.#fast || !this.#take(delivery)) void this.#dispatch(delivery);
  }

  /** A message given up on came back because its dead letter failed: try the copy again. */
  async #resend(delivery: Delivery, unsent: Unsent): Promise<void> {
    try {
      await this.#giveUp(delivery, unsent.reason, unsent.error, unsent.attempt, unsent.why);
    } catch (error) {
      this.#crashed(delivery, error);
    } finally {
      this.#deps.changed();
      this.#settled();
    }
  }

  /** A received message is settled (or given back): wake `stop` when it was the last. */
  #settled(): void {
    this.#inflight -= 1;
    if (this.#inflight === 0 && this.#idle !== undefined) {
      this.#idle();
      this.#idle = undefined;
    }
  }

  /** Resolves when every received message is settled. */
  #allSettled(): Promise<void> {
    if (this.#inflight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#idle;
      this.#idle = () => {
        previous?.();
        resolve();
      };
    });
  }

  /** A bug, not a failure of the job: log it, and give the message back for a retry. */
  #crashed(delivery: Delivery, error: unknown): void {
    this.#deps.logger.error(`unexpected error in actor "${this.actor.name}"`, { error });
    if (!delivery.settled) delivery.nak(this.actor.retryDelayAfter(1));
  }

  /**
   * The fast path, for a main-thread function handler without middlewares, when the
   * message is due (the common case): start it if both slots are free and nobody waits
   * before it, or hold it until they are, with no async frame either way.
   *
   * @returns `false`, having taken nothing, when the general path must take the message
   */
  #take(delivery: Delivery): boolean {
    let delayUntil: number | undefined;
    if (delivery.headers !== undefined) {
      try {
        delayUntil = parseDelay(delivery.headers);
      } catch {
        return false;
      }
      if (delayUntil !== undefined && delayUntil > Date.now()) return false;
    }
    const permit = this.#tryTake();
    if (permit !== undefined) this.#start(delivery, delayUntil, permit);
    else this.#hold(new Held(delivery, delayUntil));
    return true;
  }

  /** Both slots at once, if free and no held message waits before this one. */
  #tryTake(): Permit | undefined {
    if (this.#queue.length > 0 || this.#taken >= this.actor.maxJobs) return undefined;
    const permit = this.#deps.slots.tryAcquire(this.actor.priority);
    if (permit !== undefined) this.#taken += 1;
    return permit;
  }

  /** Queue a message for its slots, pulsed meanwhile so that its `ackWait` does not run out. */
  #hold(held: Held): void {
    this.#clock.begin(held);
    this.#queue.push(held);
    this.held += 1;
    this.#pump();
  }

  /**
   * Give the held messages their slots, in order: a local slot each, then a global one,
   * taken at once if free, or else asked for by priority (granted in the order asked,
   * to the first messages of the queue).
   */
  #pump(): void {
    const queue = this.#queue;
    const { maxJobs, priority } = this.actor;
    while (queue.length > this.#asked && this.#taken < maxJobs && !this.#stopped) {
      this.#taken += 1;
      const permit = this.#asked === 0 ? this.#deps.slots.tryAcquire(priority) : undefined;
      if (permit !== undefined) this.#startHeld(permit);
      else {
        this.#asked += 1;
        this.#deps.slots.acquire(priority, { signal: this.#deps.stopping })
          .then(this.#granted, this.#refused);
      }
    }
  }

  /** A global slot asked for by `#pump` was granted: start the first held message. */
  readonly #granted = (permit: Permit): void => {
    this.#asked -= 1;
    if (this.#queue.length > 0) this.#startHeld(permit);
    else {
      // The queue was given back on shutdown.
      permit.release();
      this.#taken -= 1;
    }
  };

  /** The listener stopped before a global slot was granted: give the local one back. */
  readonly #refused = (): void => {
    this.#asked -= 1;
    this.#taken -= 1;
  };

  /** Start the first held message with its slots taken. */
  #startHeld(permit: Permit): void {
    const held = this.#queue.shift()!;
    this.#clock.end(held);
    this.held -= 1;
    if (held.resume !== undefined) held.resume(permit);
    else this.#start(held.received, held.delayUntil, permit);
  }

  /**
   * Run a message of the fast path, with both slots taken. The handler's promise is
   * watched by its job (see {@linkcode JobControl.watch}): no async frame waits on it,
   * which saves memory and time per job in flight. A payload that decodes
   * asynchronously, or not at all, goes on along the general path.
   */
  #start(delivery: Delivery, delayUntil: number | undefined, permit: Permit): void {
    const { actor } = this;
    this.#began();
    let decoded: unknown = NOT_DECODED;
    let message: unknown;
    try {
      decoded = actor.event.serializer.decode(delivery.data, delivery.headers);
      message = decoded instanceof Promise
        ? decoded
        : validate(actor.event.schema, decoded, this.#messageOf);
    } catch {
      // It will not decode: the general path decodes it again, and gives up on it.
      decoded = NOT_DECODED;
    }
    if (decoded === NOT_DECODED || message instanceof Promise) {
      // Asynchronous decoding: the general path goes on from the decoded value.
      if (message instanceof Promise && message !== decoded) message.catch(() => {});
      void this.#runAlone(delivery, delayUntil, permit, decoded);
      return;
    }
    const attempt = this.#attemptOf(delivery, delayUntil);
    const job = new FastJob(actor.pulse ? delivery : undefined, delivery, permit, attempt);
    this.#controls.add(job);
    const start = performance.now();
    this.#clock.begin(job, start);
    this.#clock.startTimeout(job, start);
    const traceId = delivery.headers?.get(TRACE) || undefined;
    let result: unknown;
    try {
      result = (actor.handler as Handler<unknown, unknown>)(
        message,
        new JobArgument(attempt, traceId, delivery.metadata, job, this.#board, delivery.headers),
      );
    } catch (error) {
      this.#ended(job, false, error);
      return;
    }
    if (result instanceof Promise) job.watch(result, this.#ended);
    else if (performance.now() - start > actor.jobTimeout) {
      // A synchronous handler cannot be interrupted: it is reported as timed out.
      this.#ended(job, false, new JobTimeoutError(actor.name, actor.jobTimeout));
    } else this.#ended(job, true, result);
  }

  /** The handler of a fast-path job returned, threw, or was aborted. */
  readonly #ended = (job: FastJob, ok: boolean, value: unknown): void => {
    const now = performance.now();
    const duration = now - job.started;
    this.#clock.end(job);
    job.endProgress();
    this.#controls.delete(job);
    this.#timed(duration, now);
    const delivery = job.received;
    if (ok && !(this.actor.event.response && delivery.headers?.get(REPLY))) {
      delivery.ack();
      this.#early.delete(delivery.metadata.streamSeq);
      this.#free(job.permit);
      return;
    }
    const outcome: Outcome = ok
      ? { ok: true, value, duration }
      : { ok: false, error: value, duration };
    void this.#concludeAlone(delivery, outcome, job.attempt, job.permit);
  };

  /** A response to send, a retry or a dead letter: the general path's end of a fast job. */
  async #concludeAlone(
    delivery: Delivery,
    outcome: Outcome,
    attempt: number,
    permit: Permit,
  ): Promise<void> {
    try {
      await this.#conclude(delivery, outcome, attempt, undefined);
    } catch (error) {
      this.#crashed(delivery, error);
    } finally {
      this.#free(permit);
    }
  }

  /** A job ended: free its slots, pull again, and count the message settled. */
  #free(permit: Permit): void {
    permit.release();
    this.#freeLocal();
    this.running -= 1;
    this.#deps.changed();
    this.#settled();
  }

  /** A job takes its slot: count it running (the quiet time of `ahead` starts with the first). */
  #began(): void {
    if (this.running === 0) this.#lastEnd = performance.now();
    this.running += 1;
  }

  /** Fold a handler's run time into the moving average that `ahead` uses. */
  #timed(duration: number, now: number = performance.now()): void {
    this.#lastEnd = now;
    const average = this.#duration;
    this.#duration = Number.isNaN(average) ? duration : average + (duration - average) / 8;
  }

  /** The general path: delays, waits for slots, asynchronous decoding, hooks, workers. */
  async #dispatch(delivery: Delivery): Promise<void> {
    try {
      const seq = delivery.metadata.streamSeq;
      let delayUntil: number | undefined;
      try {
        delayUntil = parseDelay(delivery.headers);
      } catch (error) {
        const end = await this.#giveUp(delivery, "undecodable", error, 1, "invalid headers");
        this.#hook("onFailure", this.#context(delivery, undefined, 1), {
          error,
          terminated: termination("undecodable", end),
        });
        this.#deps.changed();
        return;
      }
      if (delayUntil !== undefined) {
        const remaining = delayUntil - Date.now();
        if (remaining > 0) {
          delivery.nak(remaining);
          this.#early.set(seq, (this.#early.get(seq) ?? 0) + 1);
          this.#deps.changed();
          return;
        }
      }
      const permit = this.#tryTake() ??
        await new Promise<Permit | undefined>((resume) =>
          this.#hold(new Held(delivery, delayUntil, resume))
        );
      if (permit === undefined) {
        delivery.nak(0); // shutdown while waiting for a slot
        return;
      }
      this.#began();
      try {
        await this.#job(delivery, delayUntil, NOT_DECODED);
      } finally {
        permit.release();
        this.#freeLocal();
        this.running -= 1;
        this.#deps.changed();
      }
    } catch (error) {
      this.#crashed(delivery, error);
    } finally {
      this.#settled();
    }
  }

  /** The general path for a running message (slots taken, maybe its decoded value in hand). */
  async #runAlone(
    delivery: Delivery,
    delayUntil: number | undefined,
    permit: Permit,
    decoded: unknown,
  ): Promise<void> {
    try {
      await this.#job(delivery, delayUntil, decoded);
    } catch (error) {
      this.#crashed(delivery, error);
    } finally {
      this.#free(permit);
    }
  }

  /** A local slot is free: give it to the next held message, if any. */
  #freeLocal(): void {
    this.#taken -= 1;
    if (this.#queue.length > this.#asked) this.#pump();
  }

  /**
   * The attempt this delivery is. Early (delayed) deliveries do not count as attempts:
   * this process remembers the ones it saw; for others, a message stored before its
   * delay ended was delivered early once.
   */
  #attemptOf(delivery: Delivery, delayUntil: number | undefined): number {
    const { metadata } = delivery;
    const early = this.#early.get(metadata.streamSeq) ??
      (delayUntil !== undefined && metadata.timestamp < delayUntil && metadata.delivered > 1
        ? 1
        : 0);
    return Math.max(1, metadata.delivered - early);
  }

  /**
   * Decode (unless `decoded` is given), run the hooks and the handler, then settle.
   * @param decoded the serializer's result already in hand, or `NOT_DECODED`
   */
  async #job(delivery: Delivery, delayUntil: number | undefined, decoded: unknown): Promise<void> {
    const { actor } = this;
    const attempt = this.#attemptOf(delivery, delayUntil);
    let message: unknown;
    try {
      // Synchronous serializers and schemas (the common case) take no promise hop.
      if (decoded === NOT_DECODED) {
        decoded = actor.event.serializer.decode(delivery.data, delivery.headers);
      }
      if (decoded instanceof Promise) decoded = await decoded;
      message = validate(actor.event.schema, decoded, this.#messageOf);
      if (message instanceof Promise) message = await message;
    } catch (error) {
      // The payload will never decode: retrying cannot help.
      const end = await this.#giveUp(delivery, "undecodable", error, attempt, "cannot decode");
      this.#hook("onFailure", this.#context(delivery, undefined, attempt), {
        error,
        terminated: termination("undecodable", end),
      });
      return;
    }
    const traceId = delivery.headers?.get(TRACE) || undefined;
    const control = new JobControl(actor.pulse ? delivery : undefined);
    this.#controls.add(control);
    const jobFields = {
      attempt,
      traceId,
      metadata: delivery.metadata,
      headers: delivery.headers,
      board: this.#board,
    };
    let context: Context | undefined;
    let outcome: Outcome;
    if (actor.middlewares.length === 0) {
      outcome = await runHandler(actor, message, jobFields, control, this.#clock, this.#deps.pools);
    } else {
      context = this.#context(delivery, message, attempt);
      this.#hook("onStart", context, {});
      outcome = await jobScope(
        { context, headers: delivery.headers },
        () => runHandler(actor, message, jobFields, control, this.#clock, this.#deps.pools),
        (error) =>
          this.#deps.logger.error(`middleware aroundJob of actor "${actor.name}" failed`, {
            error,
          }),
      );
    }
    this.#controls.delete(control);
    this.#timed(outcome.duration);
    await this.#conclude(delivery, outcome, attempt, context);
  }

  /** Settle after the handler: ack (and respond), retry, or give up; then the hooks. */
  async #conclude(
    delivery: Delivery,
    outcome: Outcome,
    attempt: number,
    context: Context | undefined,
  ): Promise<void> {
    const { actor } = this;
    const seq = delivery.metadata.streamSeq;
    const inbox = delivery.headers?.get(REPLY) || undefined;
    if (outcome.ok) {
      let response: Uint8Array | undefined;
      if (actor.event.response && inbox) {
        const spec = actor.event.response;
        try {
          const value = await validate(
            spec.schema,
            outcome.value,
            `response of event "${actor.event.name}"`,
          );
          response = await spec.serializer.encode(value);
        } catch (error) {
          // The handler returned something the caller cannot accept; retrying the same
          // code gives the same answer, so tell the caller now and stop.
          const reason = "invalid-response";
          const end = await this.#giveUp(delivery, reason, error, attempt, "invalid response");
          this.#hook("onFailure", context, {
            error,
            duration: outcome.duration,
            terminated: termination(reason, end),
          });
          return;
        }
      }
      delivery.ack();
      this.#early.delete(seq);
      if (response && inbox) sendResponse(this.#deps.nc, inbox, response);
      this.#hook("onSuccess", context, { duration: outcome.duration });
      return;
    }
    const error = outcome.error;
    let terminated: Termination | undefined;
    if (isInstance(error, ShutdownError)) {
      delivery.nak(0);
    } else {
      const settlement = settleFailure(actor, attempt, error);
      if (settlement.kind === "retry") {
        delivery.nak(settlement.delay);
        this.#failures.retrying(
          { streamSeq: seq, attempt, maxAttempts: actor.maxAttempts, error },
          settlement.delay,
        );
      } else {
        const end = await this.#giveUp(
          delivery,
          settlement.reason,
          error,
          attempt,
          settlement.reason === "unrecoverable"
            ? `unrecoverable error in attempt ${attempt}`
            : `attempt ${attempt} of ${actor.maxAttempts} failed`,
        );
        terminated = termination(settlement.reason, end);
      }
    }
    this.#hook("onFailure", context, { error, duration: outcome.duration, terminated });
  }

  /**
   * Give up on a message: copy it to the actor's dead-letter event (and wait until that
   * is stored), then terminate it, log why, and answer a waiting caller (see `GiveUps`).
   */
  #giveUp(
    delivery: Delivery,
    reason: DeadLetterReason,
    error: unknown,
    attempt: number,
    why: string,
  ): Promise<GiveUpEnd> {
    const end = this.#giveUps.giveUp(delivery, reason, error, attempt, why);
    return end.then((end) => {
      if (end !== "kept") this.#early.delete(delivery.metadata.streamSeq);
      return end;
    });
  }

  #context(delivery: Delivery, message: unknown, attempt: number): Context {
    return {
      actor: this.actor,
      message,
      metadata: delivery.metadata,
      attempts: attempt,
      traceId: delivery.headers?.get(TRACE) || undefined,
    };
  }

  #hook(
    name: keyof Middleware,
    context: Context | undefined,
    extra: Record<string, unknown>,
  ): void {
    if (this.actor.middlewares.length === 0 || context === undefined) return;
    const full = { ...context, ...extra } as Context & FailureContext & SuccessContext;
    for (const middleware of this.actor.middlewares) {
      const hook = middleware[name] as ((c: typeof full) => unknown) | undefined;
      if (!hook) continue;
      const report = (error: unknown) =>
        this.#deps.logger.error(`middleware ${name} of actor "${this.actor.name}" failed`, {
          error,
        });
      try {
        const result = hook.call(middleware, full);
        if (result instanceof Promise) result.catch(report);
      } catch (error) {
        report(error);
      }
    }
  }

  /**
   * Stop: no more pulls; give back what arrives; let running jobs finish for `grace` ms,
   * then abort them (they are naked at once); resolve when every message is settled.
   */
  async stop(grace: number): Promise<void> {
    this.#stopped = true;
    // Held messages go back at once; the slots asked for them come back as refusals
    // (the stopping signal aborted them) or, if granted just before, unused.
    for (const held of this.#queue.splice(0)) {
      this.#clock.end(held);
      this.held -= 1;
      if (held.resume !== undefined) held.resume(undefined); // the general path gives it back
      else {
        held.received.nak(0);
        this.#settled();
      }
    }
    await this.#puller.drain();
    if (this.#inflight > 0) {
      // shutdownGrace Infinity: wait for the jobs, however long they take.
      await within(this.#allSettled(), grace);
      for (const control of this.#controls) control.abort(new ShutdownError());
      await this.#allSettled();
    }
    this.#clock.stop();
    this.#pullLog.recovered(" before the listener stopped");
    this.#failures.flush();
    this.#giveUps.flush();
  }
}
