/**
 * Self-healing for a listener: notice that an actor's pull requests went unanswered or
 * that its consumer (or stream) is gone, recreate what is missing from the actor's
 * declaration, and pull again, retrying with backoff until it works or the listener stops.
 *
 * @module
 */
import { type ConsumerConfig, type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { sleep } from "../_async.ts";
import type { NatsConnection } from "@nats-io/nats-core";
import type { Logger } from "../_logger.ts";
import type { Actor } from "./actor.ts";
import { missing, registerConsumer } from "./consumer.ts";

/** What the healer needs of an actor's share of the listener. */
export interface Patient {
  readonly actor: Actor<unknown, unknown>;
  /** Messages requested and not yet delivered or expired. */
  readonly outstanding: number;
  /** When the server last showed the consumer alive, epoch ms; 0 when it said it is gone. */
  readonly lastActivity: number;
  /** Forget the outstanding requests and pull again. */
  resetPulls(): void;
  /** Time pulses from the consumer's live settings on the server. */
  follow(config: ConsumerConfig): void;
}

/**
 * Where an actor's healing stands: `ok` (pulling normally), `checking` (asking the server
 * about the consumer), `recreating` (the consumer or stream was missing and is being
 * created again), `retrying` (the last step failed; waiting for the next attempt).
 */
export type HealingState = "ok" | "checking" | "recreating" | "retrying";

/** An actor's healing record, for the health read-out. */
export interface Healing {
  readonly state: HealingState;
  /** When the state last changed, epoch ms. */
  readonly since: number;
  /** Attempts in the current (or last) episode. */
  readonly attempts: number;
  /** Episodes that ended with the actor pulling again. */
  readonly recoveries: number;
  /** How many of them had to recreate the consumer. */
  readonly recreated: number;
  /** The last error met while healing, if any. */
  readonly lastError?: string;
}

/** Options of a {@linkcode Healer}. Durations are milliseconds. */
export interface HealerOptions {
  readonly nc: NatsConnection;
  readonly logger: Logger;
  /** The listener is stopping: no more attempts. */
  readonly signal: AbortSignal;
  /** Requests outstanding with no sign of life for this long are presumed dead. */
  readonly silence: number;
  /** First retry delay, doubled after each failure. @default 100 */
  readonly minDelay?: number;
  /** Retry delay cap. @default 5000 */
  readonly maxDelay?: number;
  /** The current time, epoch ms. @default Date.now */
  readonly now?: () => number;
}

type MutableHealing = { -readonly [K in keyof Healing]: Healing[K] };

/** Watches the patients of one listener and heals them one episode at a time each. */
export class Healer {
  readonly #options: HealerOptions;
  readonly #now: () => number;
  readonly #records = new Map<Patient, MutableHealing>();
  readonly #episodes = new Map<Patient, Promise<void>>();
  #jsm: JetStreamManager | undefined;

  constructor(patients: readonly Patient[], options: HealerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    for (const patient of patients) {
      this.#records.set(patient, {
        state: "ok",
        since: this.#now(),
        attempts: 0,
        recoveries: 0,
        recreated: 0,
      });
    }
  }

  /** A JetStream manager on the listener's connection (no API check: it may be down now). */
  async manager(): Promise<JetStreamManager> {
    this.#jsm ??= await jetstreamManager(this.#options.nc, { checkAPI: false });
    return this.#jsm;
  }

  /** The healing record of a patient. */
  record(patient: Patient): Healing {
    const record = this.#records.get(patient);
    if (!record) throw new TypeError(`Unknown actor "${patient.actor.name}"`);
    return { ...record };
  }

  /** Whether an episode runs for the patient. */
  busy(patient: Patient): boolean {
    return this.#episodes.has(patient);
  }

  /** Look at every patient: a consumer said to be gone, or silent requests, start an episode. */
  watch(): void {
    const now = this.#now();
    for (const patient of this.#records.keys()) {
      if (this.#episodes.has(patient)) continue;
      if (patient.lastActivity === 0) {
        this.check(patient, "the server says its consumer is gone");
      } else if (
        patient.outstanding > 0 && now - patient.lastActivity > this.#options.silence
      ) {
        this.check(
          patient,
          `no answer to its pull requests for ${now - patient.lastActivity} ms`,
        );
      }
    }
  }

  /** Check every patient (after a reconnect the outstanding requests died with the link). */
  checkAll(reason: string): void {
    for (const patient of this.#records.keys()) this.check(patient, reason);
  }

  /**
   * Read every patient's consumer and let the patient follow its live settings. A missing
   * consumer starts an episode; other errors wait for the next round (the watchdog covers
   * a dead link).
   */
  async follow(): Promise<void> {
    if (this.#options.signal.aborted) return;
    let jsm: JetStreamManager;
    try {
      jsm = await this.manager();
    } catch {
      return;
    }
    await Promise.all([...this.#records.keys()].map(async (patient) => {
      if (this.#episodes.has(patient)) return;
      const { actor } = patient;
      try {
        const info = await jsm.consumers.info(actor.event.streamName, actor.consumerName);
        if (!this.#options.signal.aborted) patient.follow(info.config);
      } catch (error) {
        if (missing(error)) this.check(patient, "its consumer is missing");
      }
    }));
  }

  /** Start an episode for the patient unless one runs. */
  check(patient: Patient, reason: string): void {
    if (this.#episodes.has(patient) || this.#options.signal.aborted) return;
    const episode = this.#heal(patient, reason).finally(() => this.#episodes.delete(patient));
    this.#episodes.set(patient, episode);
  }

  /** Resolve when no episode runs (they end soon after the signal aborts). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#episodes.values()]);
  }

  async #heal(patient: Patient, reason: string): Promise<void> {
    const { logger, signal } = this.#options;
    const record = this.#records.get(patient)!;
    const { actor } = patient;
    const where = `consumer "${actor.consumerName}" of stream "${actor.event.streamName}"`;
    const set = (state: HealingState) => {
      record.state = state;
      record.since = this.#now();
    };
    set("checking");
    record.attempts = 0;
    logger.warn(`actor "${actor.name}": ${reason}; checking its ${where}`, {
      actor: actor.name,
      reason,
    });
    let delay = this.#options.minDelay ?? 100;
    while (!signal.aborted) {
      record.attempts += 1;
      try {
        const jsm = await this.manager();
        let recreated = false;
        try {
          const info = await jsm.consumers.info(actor.event.streamName, actor.consumerName);
          patient.follow(info.config);
        } catch (error) {
          const gone = missing(error);
          if (!gone) throw error;
          set("recreating");
          logger.warn(
            `actor "${actor.name}": ${
              gone === "stream" ? `stream "${actor.event.streamName}"` : where
            } is missing (${describe(error)}); recreating ${
              gone === "stream" ? "the stream and the consumer" : "it"
            } from the declarations (call Actors.register() before listen() to create ` +
              `them up front)`,
            { actor: actor.name },
          );
          // Creates the stream too when it is the one missing.
          await registerConsumer(jsm, actor, { logger });
          recreated = true;
          patient.follow(
            (await jsm.consumers.info(actor.event.streamName, actor.consumerName)).config,
          );
        }
        if (signal.aborted) break;
        patient.resetPulls();
        record.recoveries += 1;
        if (recreated) record.recreated += 1;
        set("ok");
        logger.info(
          `actor "${actor.name}": ${
            recreated ? `recreated its ${where}` : `its ${where} is there`
          }; pulling again (attempt ${record.attempts})`,
          { actor: actor.name, attempts: record.attempts, recreated },
        );
        return;
      } catch (error) {
        record.lastError = describe(error);
        set("retrying");
        logger.warn(
          `actor "${actor.name}": cannot check or recreate its ${where} ` +
            `(attempt ${record.attempts}): ${record.lastError}; retrying in ${delay} ms`,
          { actor: actor.name, attempts: record.attempts, error },
        );
        await sleep(delay, signal);
        delay = Math.min(delay * 2, this.#options.maxDelay ?? 5000);
      }
    }
    set("ok");
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return code === undefined ? error.message : `${error.message} (code ${code})`;
  }
  return String(error);
}
