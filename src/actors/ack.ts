/**
 * Settle a job: ack, nak with the retry delay, or term; then the response.
 *
 * @module
 */
import { headers as natsHeaders, type NatsConnection } from "@nats-io/nats-core";
import { RetryLaterError, UnrecoverableError } from "../errors.ts";
import { RESPONSE_ERROR } from "../headers.ts";
import type { Actor } from "./actor.ts";
import type { Delivery } from "./delivery.ts";

/** What happened to a failed message. */
export type FailureSettlement = "retry" | "terminated";

/**
 * Settle a failed attempt: term when attempts are used up or the handler said so
 * ({@linkcode UnrecoverableError}), otherwise nak with the delay of the retry schedule
 * (or the handler's {@linkcode RetryLaterError}).
 */
export function settleFailure(
  actor: Actor<unknown, unknown>,
  delivery: Delivery,
  attempt: number,
  error: unknown,
): FailureSettlement {
  const lastAttempt = actor.maxAttempts !== undefined && attempt >= actor.maxAttempts;
  if (lastAttempt || error instanceof UnrecoverableError) {
    delivery.term();
    return "terminated";
  }
  delivery.nak(error instanceof RetryLaterError ? error.delay : actor.retryDelayAfter(attempt));
  return "retry";
}

/** Publish the encoded response to the caller's inbox (core NATS, no persistence). */
export function sendResponse(nc: NatsConnection, inbox: string, data: Uint8Array): void {
  nc.publish(inbox, data);
}

/** Tell the caller that no valid response can come. */
export function sendResponseError(nc: NatsConnection, inbox: string, reason: string): void {
  const h = natsHeaders();
  h.set(RESPONSE_ERROR, reason.replaceAll(/[\r\n]+/g, " ").slice(0, 1000));
  nc.publish(inbox, new Uint8Array(0), { headers: h });
}
