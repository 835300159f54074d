/**
 * What the settle stage (settle.ts) decides and sends besides the acks: whether a failed
 * attempt is retried, after which delay, or given up; and the core NATS publishes that
 * answer a requester (the response, or `Walnats-Error` when none can come).
 *
 * @module
 */
import { headers as natsHeaders, type NatsConnection } from "@nats-io/nats-core";
import { isInstance } from "../_error_text.ts";
import { RetryLaterError, UnrecoverableError } from "../errors.ts";
import { RESPONSE_ERROR } from "../headers.ts";
import type { Actor } from "./actor.ts";

/** What to do with a failed attempt. */
export type FailureSettlement =
  | { readonly kind: "retry"; readonly delay: number }
  | { readonly kind: "give-up"; readonly reason: "failed" | "unrecoverable" };

/**
 * Decide on a failed attempt: give up when attempts are used up or the handler said so
 * ({@linkcode UnrecoverableError}), otherwise retry after the delay of the retry
 * schedule (or the handler's {@linkcode RetryLaterError}).
 */
export function settleFailure(
  actor: Actor<unknown, unknown>,
  attempt: number,
  error: unknown,
): FailureSettlement {
  if (isInstance(error, UnrecoverableError)) return { kind: "give-up", reason: "unrecoverable" };
  if (actor.maxAttempts !== undefined && attempt >= actor.maxAttempts) {
    return { kind: "give-up", reason: "failed" };
  }
  const delay = isInstance(error, RetryLaterError)
    ? (error as RetryLaterError).delay
    : actor.retryDelayAfter(attempt);
  return { kind: "retry", delay };
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
