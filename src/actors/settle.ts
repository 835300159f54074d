/**
 * The settle stage: after the handler, ack (and send the response a requester waits
 * for), nak for a retry, or give up (dead letter, then term); then the hooks. Also
 * gives up on messages that never reach a handler (undecodable headers or payload).
 * Each message is settled once.
 *
 * @module
 */
import type { NatsConnection } from "@nats-io/nats-core";
import type { Logger } from "../_logger.ts";
import { isInstance } from "../_error_text.ts";
import { validate } from "../events/schema.ts";
import { REPLY } from "../headers.ts";
import { sendResponse, settleFailure } from "./ack.ts";
import type { Actor, Context, Termination } from "./actor.ts";
import type { Attempts } from "./attempts.ts";
import type { DeadLetterReason } from "./dead_letter.ts";
import type { Delivery } from "./delivery.ts";
import { FailureLog } from "./_failure_log.ts";
import { type GiveUpEnd, GiveUps, type Unsent } from "./_give_up.ts";
import { type Hooks, termination } from "./hooks.ts";

/** The reason a job's signal aborts with on shutdown. */
export class ShutdownError extends Error {
  constructor() {
    super("The listener is shutting down");
    this.name = "ShutdownError";
  }
}

/** A job whose handler call ended, as the settle stage needs it. */
export interface Finished {
  readonly received: Delivery;
  readonly attempt: number;
  readonly context: Context | undefined;
}

/** Settles one actor's messages. */
export class Settler {
  readonly #nc: NatsConnection;
  readonly #actor: Actor<unknown, unknown>;
  readonly #attempts: Attempts;
  readonly #hooks: Hooks;
  /** Failed attempts, logged with a rate limit. */
  readonly #failures: FailureLog;
  /** Dead letters and terminations. */
  readonly #giveUps: GiveUps;
  /** Whether a delivery may carry a requester's inbox (the event has a response). */
  readonly #responds: boolean;

  constructor(
    nc: NatsConnection,
    logger: Logger,
    actor: Actor<unknown, unknown>,
    attempts: Attempts,
    hooks: Hooks,
  ) {
    this.#nc = nc;
    this.#actor = actor;
    this.#attempts = attempts;
    this.#hooks = hooks;
    this.#failures = new FailureLog(logger, actor.name);
    this.#giveUps = new GiveUps(nc, logger, actor);
    this.#responds = actor.event.response !== undefined;
  }

  /** Dead letters stored, and messages terminated without one (the copy cannot be stored). */
  get deadLetters(): { readonly stored: number; readonly lost: number } {
    return { ...this.#giveUps.counts };
  }

  /** A give-up of this message whose dead letter is still to be stored, if any. */
  unsent(delivery: Delivery): Unsent | undefined {
    return this.#giveUps.unsent(delivery);
  }

  /**
   * Settle a job whose handler call ended: the common end (a success with no response
   * to send) is settled at once and returns `undefined`; a response, a retry or a
   * give-up returns a promise that resolves once the message is settled.
   *
   * @param ok whether the handler returned (`value`) or failed (`value` is the error)
   * @param duration how long the handler ran, ms (for the hooks)
   */
  settle(job: Finished, ok: boolean, value: unknown, duration: number): Promise<void> | undefined {
    const delivery = job.received;
    if (ok && !(this.#responds && delivery.headers?.get(REPLY))) {
      delivery.ack();
      this.#attempts.forget(delivery);
      if (job.context !== undefined) this.#hooks.fire("onSuccess", job.context, { duration });
      return undefined;
    }
    return ok ? this.#respond(job, value, duration) : this.#failed(job, value, duration);
  }

  /**
   * Give up on a message that will never decode (retrying cannot help), with the
   * failure hooks told.
   * @param why what the error line says went wrong
   */
  async undecodable(
    delivery: Delivery,
    error: unknown,
    attempt: number,
    why: string,
    context: Context | undefined,
  ): Promise<void> {
    const end = await this.#giveUp(delivery, "undecodable", error, attempt, why);
    this.#hooks.fire("onFailure", context, { error, terminated: termination("undecodable", end) });
  }

  /** A message given up on came back because its dead letter failed: try the copy again. */
  async resend(delivery: Delivery, unsent: Unsent): Promise<void> {
    await this.#giveUp(delivery, unsent.reason, unsent.error, unsent.attempt, unsent.why);
  }

  /** Write out what the rate-limited logs held back. */
  flush(): void {
    this.#failures.flush();
    this.#giveUps.flush();
  }

  /** A success with a requester waiting: ack, then the response (validated and encoded first). */
  async #respond(job: Finished, value: unknown, duration: number): Promise<void> {
    const delivery = job.received;
    const spec = this.#actor.event.response!;
    const inbox = delivery.headers!.get(REPLY);
    let response: Uint8Array;
    try {
      const checked = await validate(
        spec.schema,
        value,
        `response of event "${this.#actor.event.name}"`,
      );
      response = await spec.serializer.encode(checked);
    } catch (error) {
      // The handler returned something the caller cannot accept; retrying the same
      // code gives the same answer, so tell the caller now and stop.
      const reason = "invalid-response";
      const end = await this.#giveUp(delivery, reason, error, job.attempt, "invalid response");
      this.#hooks.fire("onFailure", job.context, {
        error,
        duration,
        terminated: termination(reason, end),
      });
      return;
    }
    delivery.ack();
    delivery.flush();
    this.#attempts.forget(delivery);
    sendResponse(this.#nc, inbox, response);
    this.#hooks.fire("onSuccess", job.context, { duration });
  }

  /** A failed attempt: given back on shutdown, retried after its delay, or given up. */
  async #failed(job: Finished, error: unknown, duration: number): Promise<void> {
    const actor = this.#actor;
    const { received: delivery, attempt } = job;
    let terminated: Termination | undefined;
    if (isInstance(error, ShutdownError)) {
      delivery.nak(0);
    } else {
      const settlement = settleFailure(actor, attempt, error);
      if (settlement.kind === "retry") {
        delivery.nak(settlement.delay);
        this.#failures.retrying(
          {
            streamSeq: delivery.metadata.streamSeq,
            attempt,
            maxAttempts: actor.maxAttempts,
            error,
          },
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
    this.#hooks.fire("onFailure", job.context, { error, duration, terminated });
  }

  /**
   * Give up on a message: copy it to the actor's dead-letter event (and wait until that
   * is stored), then terminate it, log why, and answer a waiting caller (see `GiveUps`).
   */
  async #giveUp(
    delivery: Delivery,
    reason: DeadLetterReason,
    error: unknown,
    attempt: number,
    why: string,
  ): Promise<GiveUpEnd> {
    const end = await this.#giveUps.giveUp(delivery, reason, error, attempt, why);
    if (end !== "kept") this.#attempts.forget(delivery);
    return end;
  }
}
