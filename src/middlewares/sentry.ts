/**
 * Report job failures to Sentry through the client the application already has.
 *
 * @module
 */
import type { FailureContext, Middleware } from "../actors/actor.ts";
import { durationOf } from "./_job.ts";

/**
 * What walnats passes with an exception: Sentry's capture context (a subset).
 *
 * @example Read the tags walnats sends
 * ```ts
 * import type { SentryCaptureContext, SentryClient } from "@walnats/walnats";
 *
 * const client: SentryClient = {
 *   captureException(exception: unknown, context?: SentryCaptureContext) {
 *     console.error(exception, context?.tags, context?.extra);
 *   },
 * };
 * ```
 */
export interface SentryCaptureContext {
  /** Indexed, searchable tags. */
  readonly tags: Readonly<Record<string, string>>;
  /** Extra data shown with the event. */
  readonly extra: Readonly<Record<string, unknown>>;
}

/**
 * The part of a Sentry SDK walnats uses: `captureException(exception, context)`.
 * The `Sentry` namespace of `@sentry/deno`, `@sentry/bun` or `@sentry/node` fits,
 * and so does a `Scope` or a client of your own.
 *
 * @example Pass the Sentry SDK, or anything like it
 * ```ts
 * import { SentryMiddleware, type SentryClient } from "@walnats/walnats";
 *
 * const client: SentryClient = { captureException: (exception) => console.error(exception) };
 * const sentry = new SentryMiddleware(client); // or new SentryMiddleware(Sentry)
 * ```
 */
export interface SentryClient {
  /**
   * Send an exception to Sentry.
   *
   * @param exception the error
   * @param context tags and extra data
   */
  captureException(exception: unknown, context?: SentryCaptureContext): unknown;
}

/**
 * Sends each job failure to Sentry with the tags `walnats.actor`, `walnats.event`
 * and `walnats.attempt` (plus `walnats.trace_id` when set), and the stream sequence,
 * duration and redelivery count as extra data. walnats depends on no Sentry package:
 * pass the client you initialised. Wrap it in {@linkcode ErrorThreshold} or
 * {@linkcode Frequency} to report fewer, more meaningful failures.
 *
 * @example Report failures after the third attempt
 * ```ts ignore
 * import * as Sentry from "npm:@sentry/deno";
 * import { ErrorThreshold, SentryMiddleware } from "@walnats/walnats";
 *
 * Sentry.init({ dsn: Deno.env.get("SENTRY_DSN") });
 * const sentry = new ErrorThreshold(new SentryMiddleware(Sentry), { message: 3 });
 * ```
 */
export class SentryMiddleware implements Middleware {
  readonly #client: SentryClient;

  /**
   * Report failures through a Sentry client.
   *
   * @param client an initialised Sentry SDK (or anything with `captureException`)
   * @throws {TypeError} when `client` has no `captureException` function
   */
  constructor(client: SentryClient) {
    if (typeof client?.captureException !== "function") {
      throw new TypeError("Invalid Sentry client: expected an object with captureException()");
    }
    this.#client = client;
  }

  /** Capture the failure's error with the job's tags. */
  onFailure(context: FailureContext): void {
    const tags: Record<string, string> = {
      "walnats.actor": context.actor.name,
      "walnats.event": context.actor.event.name,
      "walnats.attempt": String(context.attempts),
    };
    if (context.traceId !== undefined) tags["walnats.trace_id"] = context.traceId;
    const extra: Record<string, unknown> = {
      streamSeq: context.metadata.streamSeq,
      delivered: context.metadata.delivered,
    };
    const duration = durationOf(context);
    if (duration !== undefined) extra.duration = duration;
    this.#client.captureException(context.error, { tags, extra });
  }
}
