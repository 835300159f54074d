/**
 * One actor inside a listener: the job pipeline, stage by stage, with one path for
 * every message.
 *
 * ```
 * pull ─► receive ─► delay check ─► admission ─► decode ─► run ─► settle ─► hooks
 * ```
 *
 * Each stage is a module (pull_plan.ts and consumer.ts's `Puller`, attempts.ts,
 * admission.ts, decode.ts, handler.ts, settle.ts, hooks.ts); this class passes a
 * message from one to the next. A stage that can finish at once does, and calls the
 * next; one that must wait (a held message, an asynchronous serializer, a handler's
 * promise, a dead letter) goes on from a callback. So the common job, due, decoded
 * synchronously and acked, runs with no async frame and no promise of walnats' own.
 *
 * @module
 */
import type { ConsumerConfig } from "@nats-io/jetstream";
import type { Msg, NatsConnection } from "@nats-io/nats-core";
import { within } from "../_async.ts";
import type { Logger } from "../_logger.ts";
import { JobTimeoutError } from "../errors.ts";
import { parseDelay } from "../headers.ts";
import type { Actor } from "./actor.ts";
import { Admission } from "./admission.ts";
import { Attempts } from "./attempts.ts";
import { Puller } from "./consumer.ts";
import { decode } from "./decode.ts";
import { AckBatch, Delivery } from "./delivery.ts";
import { runJob, RunningJob } from "./handler.ts";
import { Hooks } from "./hooks.ts";
import { JobClock } from "./job_control.ts";
import { ProgressBoard, type RunningJobProgress } from "./job_progress.ts";
import type { Permit, PrioritySemaphore } from "./priority.ts";
import { PullPlan } from "./pull_plan.ts";
import { isPullFailure, PullStatusLog } from "./_pull_status_log.ts";
import { Settler, ShutdownError } from "./settle.ts";
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

/** An actor's share of a listener. */
export class ActorRunner {
  readonly actor: Actor<unknown, unknown>;
  /** Jobs running now. */
  running = 0;
  /** Burst mode: the last request found the stream empty. */
  drained = false;
  /** When the last pull request was sent, epoch ms (health). */
  lastPull = 0;
  readonly #deps: RunnerDeps;
  readonly #puller: Puller;
  readonly #plan: PullPlan;
  readonly #attempts = new Attempts();
  readonly #admission: Admission;
  readonly #hooks: Hooks;
  readonly #settler: Settler;
  /**
   * Jobs running (or waiting for a worker), to abort on shutdown. Each knows its index,
   * so that the one that ends swaps with the last: cheaper per job than a set.
   */
  readonly #jobs: RunningJob[] = [];
  /** Times out and pulses this actor's jobs, and its held messages. */
  readonly #clock: JobClock;
  /** Messages received and not yet settled. */
  #inflight = 0;
  #idle: (() => void) | undefined;
  #stopped = false;
  /** Failed pull requests, logged once per kind with a count of repeats. */
  readonly #pullLog: PullStatusLog;
  /** Where a validation error says the bad value was. */
  readonly #messageOf: string;
  /** The consumer's ack_wait, ms: declared until the server's is read. */
  #ackWait: number;
  /** The running jobs' progress. */
  readonly #board: ProgressBoard;
  /** The acks, naks, terms and pulses of this actor's messages. */
  readonly #acks: AckBatch;
  /** What the run stage needs. */
  readonly #run: Parameters<typeof runJob>[3];
  /**
   * The clock read of a job that ended, while its settlement (synchronously) starts the
   * next held message in its slot; NaN otherwise. That job takes its start time from it:
   * under load a job costs one clock read instead of two (`performance.now()` is a call
   * into the runtime under Deno). Its timeout then also covers its
   * (synchronous) decoding.
   */
  #shared = Number.NaN;

  constructor(actor: Actor<unknown, unknown>, deps: RunnerDeps) {
    this.actor = actor;
    this.#deps = deps;
    this.#messageOf = `message of event "${actor.event.name}"`;
    this.#board = new ProgressBoard(
      deps.nc,
      actor.name,
      actor.event.name,
      (error) => deps.logger.warn(`progress of a job of actor "${actor.name}" not sent`, { error }),
    );
    this.#acks = new AckBatch(deps.nc, (error, count) =>
      deps.logger.error(
        `${count} ${count === 1 ? "ack" : "acks"} of actor "${actor.name}" not sent; the ` +
          `server delivers ${count === 1 ? "that message" : "those messages"} again after ` +
          `their ack_wait`,
        { error },
      ));
    this.#plan = new PullPlan(deps.pullAhead);
    this.#hooks = new Hooks(actor, deps.logger);
    this.#settler = new Settler(deps.nc, deps.logger, actor, this.#attempts, this.#hooks);
    this.#pullLog = new PullStatusLog(deps.logger, actor);
    this.#ackWait = actor.ackWait;
    // Messages waiting for a slot are always pulsed (their wait is the listener's doing);
    // jobs are pulsed when `actor.pulse` says so (their control then carries the delivery).
    this.#clock = new JobClock(
      actor.jobTimeout,
      actor.ackWait / 2,
      (job) => job.abort(new JobTimeoutError(actor.name, actor.jobTimeout)),
    );
    this.#admission = new Admission(actor, deps.slots, deps.stopping, this.#clock, this.#start);
    this.#run = {
      clock: this.#clock,
      board: this.#board,
      pools: deps.pools,
      report: (error) =>
        deps.logger.error(`middleware aroundJob of actor "${actor.name}" failed`, { error }),
    };
    this.#puller = new Puller(deps.nc, actor.event.streamName, actor.consumerName, {
      expires: deps.expires,
      heartbeat: deps.heartbeat,
      noWait: deps.noWait,
      onMessage: (msg) => this.receive(msg),
      onRequestEnd: (status, description) => this.#requestEnded(status, description),
      onReady: () => this.refill(),
    });
  }

  /** Messages received and waiting for slots. */
  get held(): number {
    return this.#admission.held;
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
    return this.#settler.deadLetters;
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

  /** How many messages to ask for beyond the free slots (see {@linkcode PullPlan.ahead}). */
  get ahead(): number {
    return this.#plan.ahead(this.#puller.rtt, this.actor.maxJobs, this.running);
  }

  /** The pull stage: ask for as many messages as there are free slots, plus `ahead`. */
  refill(): void {
    if (
      this.#stopped || this.pollsUsed || (this.#deps.noWait && this.drained) ||
      !this.#puller.ready
    ) return;
    const n = PullPlan.size({
      maxJobs: this.actor.maxJobs,
      running: this.running,
      held: this.held,
      outstanding: this.#puller.outstanding,
      globalFree: this.#deps.slots.available,
      heldTotal: this.#deps.heldTotal(),
      batch: this.#deps.batch,
    }, this.ahead);
    if (n === 0) return;
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

  /** Receive: a message of a pull request arrived (the puller calls it). */
  receive(msg: Msg): void {
    if (this.#pullLog.active) this.#pullLog.recovered();
    const delivery = new Delivery(this.#acks, msg);
    this.#plan.received(msg.data.length);
    if (this.#stopped) {
      delivery.nak(0); // shutting down: give it back at once
      return;
    }
    this.#inflight += 1;
    const unsent = this.#settler.unsent(delivery);
    if (unsent !== undefined) this.#finish(delivery, this.#settler.resend(delivery, unsent));
    else this.#checkDelay(delivery);
    // The last message asked for came: the refills that ran while it was on its way
    // waited for half the window to be free, and no job may end to call the next one.
    if (this.#puller.outstanding === 0) this.#deps.changed();
  }

  /**
   * The delay check: a message due later (`Walnats-Delay`) goes back with the remaining
   * time, its early delivery remembered (it uses no attempt); a due one goes to admission.
   * Invalid delay headers give the message up as undecodable.
   */
  #checkDelay(delivery: Delivery): void {
    let delayUntil: number | undefined;
    if (delivery.headers !== undefined) {
      try {
        delayUntil = parseDelay(delivery.headers);
      } catch (error) {
        const context = this.#hooks.any ? this.#hooks.context(delivery, undefined, 1) : undefined;
        const given = this.#settler.undecodable(delivery, error, 1, "invalid headers", context);
        this.#finish(delivery, given);
        return;
      }
      if (delayUntil !== undefined) {
        const remaining = delayUntil - Date.now();
        if (remaining > 0) {
          delivery.nak(remaining);
          this.#attempts.early(delivery);
          this.#deps.changed();
          this.#settled();
          return;
        }
      }
    }
    delivery.delayUntil = delayUntil;
    this.#admission.admit(delivery);
  }

  /** Decode: both slots are taken; a message that will never decode is given up at once. */
  readonly #start = (delivery: Delivery, permit: Permit): void => {
    this.#plan.began(this.running);
    this.running += 1;
    const job = new RunningJob(delivery, permit, this.actor.pulse, this.#attempts);
    let message: unknown;
    try {
      message = decode(this.actor.event, delivery, this.#messageOf);
    } catch (error) {
      this.#undecodable(job, error);
      return;
    }
    if (message instanceof Promise) {
      message.then(
        (message) => this.#runJob(job, message),
        (error) => this.#undecodable(job, error),
      );
    } else this.#runJob(job, message);
  };

  /** Run: the hooks' `onStart`, then the handler. */
  #runJob(job: RunningJob, message: unknown): void {
    if (this.#hooks.any) {
      job.context = this.#hooks.context(job.received, message, job.attempt);
      this.#hooks.fire("onStart", job.context, {});
    }
    job.index = this.#jobs.push(job) - 1;
    // The clock read of the job that just ended, if this one starts in its settlement
    // (see #shared), handed to one job only.
    let now = this.#shared;
    if (Number.isNaN(now)) now = performance.now();
    else this.#shared = Number.NaN;
    runJob(this.actor, message, job, this.#run, this.#ended, now);
  }

  /** Settle: the handler returned, threw, or was aborted. */
  readonly #ended = (job: RunningJob, ok: boolean, value: unknown): void => {
    const now = performance.now();
    const duration = now - job.started;
    this.#clock.end(job);
    job.endProgress();
    this.#forget(job);
    this.#plan.ended(duration, now);
    // The held message this job's slot goes to starts within this synchronous run: it
    // takes its start time from this read, unless middlewares' hooks run in between
    // (they may take any time).
    if (!this.#hooks.any) this.#shared = now;
    let settling: Promise<void> | undefined;
    try {
      settling = this.#settler.settle(job, ok, value, duration);
    } catch (error) {
      this.#crashed(job.received, error);
    }
    try {
      if (settling === undefined) this.#free(job.permit);
      else this.#freeAfter(job, settling);
    } finally {
      this.#shared = Number.NaN;
    }
  };

  /** Take an ended job off the running list. */
  #forget(job: RunningJob): void {
    const { index } = job;
    if (index < 0) return;
    const jobs = this.#jobs;
    const last = jobs.pop()!;
    if (last !== job) {
      jobs[index] = last;
      last.index = index;
    }
    job.index = -1;
  }

  #undecodable(job: RunningJob, error: unknown): void {
    const { received, attempt } = job;
    const context = this.#hooks.any ? this.#hooks.context(received, undefined, attempt) : undefined;
    this.#freeAfter(
      job,
      this.#settler.undecodable(received, error, attempt, "cannot decode", context),
    );
  }

  /** The job's slots come back once its settlement is done. */
  async #freeAfter(job: RunningJob, settling: Promise<void>): Promise<void> {
    try {
      await settling;
    } catch (error) {
      this.#crashed(job.received, error);
    } finally {
      this.#free(job.permit);
    }
  }

  /** A message that held no slots is settled once `settling` is done. */
  async #finish(delivery: Delivery, settling: Promise<unknown>): Promise<void> {
    try {
      await settling;
    } catch (error) {
      this.#crashed(delivery, error);
    } finally {
      this.#deps.changed();
      this.#settled();
    }
  }

  /** A job is settled: free its slots, pull again, and count the message settled. */
  #free(permit: Permit): void {
    this.#admission.release(permit);
    this.running -= 1;
    this.#deps.changed();
    this.#settled();
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
   * Stop: no more pulls; give back what arrives and what is held; let running jobs
   * finish for `grace` ms, then abort them (they are naked at once); resolve when every
   * message is settled.
   */
  async stop(grace: number): Promise<void> {
    this.#stopped = true;
    for (const delivery of this.#admission.stop()) {
      delivery.nak(0);
      this.#settled();
    }
    // The acks gathered so far go before the drain, whose round trip then covers them.
    this.#acks.flush();
    await this.#puller.drain();
    if (this.#inflight > 0) {
      // shutdownGrace Infinity: wait for the jobs, however long they take.
      await within(this.#allSettled(), grace);
      // An abort may end its job at once, which reorders the list: go over a copy.
      for (const job of this.#jobs.slice()) job.abort(new ShutdownError());
      await this.#allSettled();
    }
    this.#clock.stop();
    if (this.#acks.flush() > 0 && !this.#deps.nc.isClosed()) {
      // A round trip (at most a second) so that the server has the last acks when
      // `listen()` returns.
      await within(this.#deps.nc.flush().catch(() => {}), 1000);
    }
    this.#pullLog.recovered(" before the listener stopped");
    this.#settler.flush();
  }
}
