/**
 * Giving up on a message: copy it to the actor's dead-letter event, wait until that is
 * stored, then terminate it, log why, and tell a waiting caller. Exactly one dead letter
 * and one `term` per message given up on:
 * - a copy that fails for a while (timeout, no responders while a server restarts, a full
 *   stream) keeps the message: it is naked with the retry delay and, when it comes back
 *   to this listener, only the copy is tried again (the handler does not run again);
 * - a copy that can never be stored (larger than the server's `max_payload` or the
 *   stream's message size, a stream that cannot be created) terminates the message
 *   without one, with an error line, counted in `lost`.
 *
 * @module
 */
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import type { Logger } from "../_logger.ts";
import { errorText } from "../_error_text.ts";
import { ACCEPT_ERROR, REPLY } from "../headers.ts";
import { sendResponseError } from "./ack.ts";
import type { Actor } from "./actor.ts";
import { maxDeliver } from "./consumer.ts";
import { DeadLetterNotStored, type DeadLetterReason, sendDeadLetter } from "./dead_letter.ts";
import type { Delivery } from "./delivery.ts";
import { FailureLog } from "./_failure_log.ts";

/** How a give-up ended: dead letter stored, lost (terminated without), off, or kept for a retry. */
export type GiveUpEnd = "stored" | "lost" | "off" | "kept";

/** A give-up whose dead letter is still to be stored. */
export interface Unsent {
  readonly reason: DeadLetterReason;
  readonly error: unknown;
  readonly attempt: number;
  readonly why: string;
  /** The original's stored time, ms: a sequence number of a recreated stream is another message. */
  readonly timestamp: number;
}

/** Give-ups remembered for a retry of their copy, at most. */
const MAX_UNSENT = 10_000;

/** The give-ups of one actor in one listener. */
export class GiveUps {
  /** Dead letters stored, and messages terminated without one (the copy cannot be stored). */
  readonly counts: { stored: number; lost: number } = { stored: 0, lost: 0 };
  readonly #nc: NatsConnection;
  readonly #logger: Logger;
  readonly #actor: Actor<unknown, unknown>;
  readonly #failures: FailureLog;
  readonly #unsent = new Map<number, Unsent>();
  #js: JetStreamClient | undefined;

  constructor(nc: NatsConnection, logger: Logger, actor: Actor<unknown, unknown>) {
    this.#nc = nc;
    this.#logger = logger;
    this.#actor = actor;
    // Its own bucket: a storm of retries does not hide the terminations.
    this.#failures = new FailureLog(logger, actor.name);
  }

  /** Report the terminations held back by the rate limit. */
  flush(): void {
    this.#failures.flush();
  }

  /** The give-up of this message whose copy failed here before, if any. */
  unsent(delivery: Delivery): Unsent | undefined {
    if (this.#unsent.size === 0) return undefined;
    const { streamSeq, timestamp } = delivery.metadata;
    const unsent = this.#unsent.get(streamSeq);
    return unsent?.timestamp === timestamp ? unsent : undefined;
  }

  /**
   * Give up on a message: dead letter, then term (see the module's description).
   * @returns how it ended; `kept` when the message was naked to retry its copy
   */
  async giveUp(
    delivery: Delivery,
    reason: DeadLetterReason,
    error: unknown,
    attempt: number,
    why: string,
  ): Promise<GiveUpEnd> {
    const actor = this.#actor;
    const { streamSeq, timestamp } = delivery.metadata;
    let end: GiveUpEnd = "off";
    let lost = "";
    if (actor.deadLetters !== undefined) {
      try {
        this.#js ??= jetstream(this.#nc);
        await sendDeadLetter(this.#nc, this.#js, actor.deadLetters, {
          actor: actor.name,
          event: actor.event.name,
          reason,
          error: errorText(error),
          attempts: attempt,
          streamSeq,
          timestamp,
          headers: delivery.headers,
          data: delivery.data,
        });
        end = "stored";
      } catch (storeError) {
        const said = storeError instanceof DeadLetterNotStored
          ? storeError.message
          : errorText(storeError);
        if (!(storeError instanceof DeadLetterNotStored && storeError.lasting)) {
          const delay = actor.retryDelayAfter(attempt);
          this.#remember(streamSeq, { reason, error, attempt, why, timestamp });
          delivery.nak(delay);
          const limit = maxDeliver(actor);
          const data = { actor: actor.name, streamSeq, reason, error: errorText(error) };
          const kept = `message ${streamSeq} of actor "${actor.name}" kept: ${why}, but its ` +
            `dead letter could not be stored (${said})`;
          if (limit > 0 && delivery.metadata.delivered >= limit) {
            // Not rate-limited: the message is stuck until someone acts.
            this.#logger.error(
              `${kept}; that was the server's last delivery of it (max_deliver ${limit}): it ` +
                `stays in stream "${actor.event.streamName}" unacknowledged and will not be ` +
                `delivered again; make room for the dead letter and copy it by hand, or delete it`,
              { ...data, storeError: said, stuck: true },
            );
          } else {
            this.#failures.other("error", `${kept}; trying again in ${delay} ms`, {
              ...data,
              storeError: said,
            });
          }
          return "kept";
        }
        end = "lost";
        lost = said;
      }
    }
    delivery.term();
    this.#unsent.delete(streamSeq);
    if (end === "lost") {
      this.counts.lost += 1;
      this.#logger.error(
        `message ${streamSeq} of actor "${actor.name}" terminated WITHOUT a dead letter: ` +
          `${why}: ${errorText(error)}; its dead letter cannot be stored: ${lost}`,
        {
          actor: actor.name,
          streamSeq,
          reason,
          error: errorText(error),
          storeError: lost,
          deadLetter: "lost",
        },
      );
    } else {
      if (end === "stored") this.counts.stored += 1;
      this.#failures.terminated(
        { streamSeq, attempt, maxAttempts: actor.maxAttempts, error },
        why,
        actor.deadLetters ? ` (dead letter in "${actor.deadLetters.name}")` : "",
      );
    }
    // A request's message was terminated: no response will come, so tell the caller now,
    // if it reads the give-up reply. A Python caller decodes any reply as the response (an
    // empty one is a decode error, or b"" for a bytes response); it gets nothing and times
    // out, as with a Python actor, which never answers a failed request.
    const inbox = delivery.headers?.get(REPLY);
    if (actor.event.response && inbox && delivery.headers?.get(ACCEPT_ERROR)) {
      delivery.flush(); // the term goes first
      sendResponseError(this.#nc, inbox, errorText(error));
    }
    return end;
  }

  #remember(streamSeq: number, unsent: Unsent): void {
    this.#unsent.delete(streamSeq);
    this.#unsent.set(streamSeq, unsent);
    if (this.#unsent.size > MAX_UNSENT) {
      this.#unsent.delete(this.#unsent.keys().next().value!);
    }
  }
}
