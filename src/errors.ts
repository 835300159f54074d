/**
 * Errors that callers of walnats catch. Bad arguments throw the built-in
 * `TypeError` / `RangeError` instead.
 *
 * @module
 */

/**
 * One problem reported by a Standard Schema validation.
 *
 * @example Print a validation error's issues
 * ```ts
 * import type { ValidationError, ValidationIssue } from "@walnats/walnats";
 *
 * const show = (issue: ValidationIssue): string =>
 *   `${issue.path?.map(String).join(".") ?? "(root)"}: ${issue.message}`;
 * const report = (error: ValidationError): string[] => error.issues.map(show);
 * ```
 */
export interface ValidationIssue {
  /** What is wrong. */
  readonly message: string;
  /** Where in the message, as property keys. */
  readonly path?: readonly PropertyKey[] | undefined;
}

/**
 * A message does not match its event's (or response's) schema.
 *
 * @example Reject a bad message before it is emitted
 * ```ts
 * import * as v from "valibot";
 * import { type ConnectedEvents, Event, ValidationError } from "@walnats/walnats";
 *
 * const email = v.pipe(v.string(), v.email());
 * const userCreated = new Event("user-created", v.object({ email }));
 *
 * async function create(conn: ConnectedEvents, email: string): Promise<boolean> {
 *   try {
 *     await conn.emit(userCreated, { email });
 *     return true;
 *   } catch (error) {
 *     if (error instanceof ValidationError) return false; // error.issues says why
 *     throw error;
 *   }
 * }
 * ```
 */
export class ValidationError extends Error {
  /** The schema's issues. */
  readonly issues: readonly ValidationIssue[];
  /**
   * Create the error.
   * @param where what was being validated, e.g. `message of event "user-created"`
   * @param issues the schema's issues
   * @param options the cause, if any
   */
  constructor(where: string, issues: readonly ValidationIssue[], options?: ErrorOptions) {
    const detail = issues.map((issue) => {
      const path = issue.path?.length ? `${issue.path.map(String).join(".")}: ` : "";
      return `${path}${issue.message}`;
    }).join("; ");
    super(`Invalid ${where}: ${detail}`, options);
    this.name = "ValidationError";
    this.issues = issues;
  }
}

/**
 * A payload could not be encoded or decoded by a serializer.
 *
 * @example Catch a payload that does not decode
 * ```ts
 * import { gzip, jsonSerializer, SerializerError } from "@walnats/walnats";
 *
 * try {
 *   await gzip(jsonSerializer).decode(new Uint8Array([1, 2, 3]));
 * } catch (error) {
 *   if (error instanceof SerializerError) console.error(error.serializer, error.message);
 * }
 * ```
 */
export class SerializerError extends Error {
  /** The serializer's name. */
  readonly serializer: string;
  /**
   * Create the error.
   * @param serializer the serializer's name
   * @param reason what was wrong with the payload
   * @param options the cause, if any
   */
  constructor(serializer: string, reason: string, options?: ErrorOptions) {
    super(`Serializer "${serializer}" failed: ${reason}`, options);
    this.name = "SerializerError";
    this.serializer = serializer;
  }
}

/**
 * A stream with the event's name exists and differs, and `update` was off.
 *
 * @example Register without changing existing streams
 * ```ts
 * import { type ConnectedEvents, StreamExistsError } from "@walnats/walnats";
 *
 * async function register(conn: ConnectedEvents): Promise<void> {
 *   try {
 *     await conn.register({ update: false });
 *   } catch (error) {
 *     if (!(error instanceof StreamExistsError)) throw error;
 *     console.warn(`stream of event ${error.event} differs from its declaration`);
 *   }
 * }
 * ```
 */
export class StreamExistsError extends Error {
  /** The event's name. */
  readonly event: string;
  /**
   * Create the error.
   * @param event the event's name
   * @param message what differs
   * @param options the server's error as cause
   */
  constructor(event: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StreamExistsError";
    this.event = event;
  }
}

/**
 * The server rejected an event's stream configuration (invalid, or immutable and changed).
 *
 * @example See which settings the server rejected
 * ```ts
 * import { type ConnectedEvents, StreamConfigError } from "@walnats/walnats";
 *
 * async function register(conn: ConnectedEvents): Promise<void> {
 *   try {
 *     await conn.register();
 *   } catch (error) {
 *     if (error instanceof StreamConfigError) console.error(error.event, error.fields);
 *     throw error;
 *   }
 * }
 * ```
 */
export class StreamConfigError extends Error {
  /** The event's name. */
  readonly event: string;
  /** The settings that the server rejected or that differ from the existing stream. */
  readonly fields: readonly string[];
  /**
   * Create the error.
   * @param event the event's name
   * @param fields the offending settings
   * @param message the full message
   * @param options the server's error as cause
   */
  constructor(event: string, fields: readonly string[], message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StreamConfigError";
    this.event = event;
    this.fields = fields;
  }
}

/**
 * No response arrived in time for `request()`.
 *
 * @example Fall back when no response comes
 * ```ts
 * import * as v from "valibot";
 * import { type ConnectedEvents, Event, RequestTimeoutError } from "@walnats/walnats";
 *
 * const getPrice = new Event("get-price", v.object({ sku: v.string() })).withResponse(v.number());
 *
 * async function price(conn: ConnectedEvents, sku: string): Promise<number | undefined> {
 *   try {
 *     return await conn.request(getPrice, { sku }, { timeout: 2000 });
 *   } catch (error) {
 *     if (error instanceof RequestTimeoutError) return undefined; // error.timeout ms passed
 *     throw error;
 *   }
 * }
 * ```
 */
export class RequestTimeoutError extends Error {
  /** The event's name. */
  readonly event: string;
  /** The timeout, in milliseconds. */
  readonly timeout: number;
  /**
   * Create the error.
   * @param event the event's name
   * @param timeout the timeout in milliseconds
   */
  constructor(event: string, timeout: number) {
    super(`No response to event "${event}" within ${timeout} ms`);
    this.name = "RequestTimeoutError";
    this.event = event;
    this.timeout = timeout;
  }
}

/**
 * The actor could not produce a valid response (it reported the reason instead).
 *
 * @example Handle an actor that could not respond
 * ```ts
 * import * as v from "valibot";
 * import { type ConnectedEvents, Event, ResponseError } from "@walnats/walnats";
 *
 * const getPrice = new Event("get-price", v.object({ sku: v.string() })).withResponse(v.number());
 *
 * async function price(conn: ConnectedEvents, sku: string): Promise<number | undefined> {
 *   try {
 *     return await conn.request(getPrice, { sku });
 *   } catch (error) {
 *     if (error instanceof ResponseError) return undefined; // error.message has the reason
 *     throw error;
 *   }
 * }
 * ```
 */
export class ResponseError extends Error {
  /** The event's name. */
  readonly event: string;
  /**
   * Create the error.
   * @param event the event's name
   * @param reason what the actor reported
   */
  constructor(event: string, reason: string) {
    super(`The actor of event "${event}" could not respond: ${reason}`);
    this.name = "ResponseError";
    this.event = event;
  }
}

/**
 * Throw from a handler to fail the job for good: the message is terminated
 * (never retried) and reported, whatever attempts are left.
 *
 * @example Give up on a message
 * ```ts
 * import { UnrecoverableError } from "@walnats/walnats";
 *
 * function handle(order: { total: number }): void {
 *   if (order.total < 0) throw new UnrecoverableError("negative total");
 * }
 * ```
 */
export class UnrecoverableError extends Error {
  /**
   * Create the error.
   * @param message why the message cannot be handled
   * @param options the cause, if any
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UnrecoverableError";
  }
}

/**
 * Throw from a handler to retry after a delay of your choosing instead of the
 * actor's `retryDelay` schedule (the attempt still counts).
 *
 * @example Retry when the rate limit resets
 * ```ts
 * import { RetryLaterError } from "@walnats/walnats";
 *
 * throw new RetryLaterError(30_000, "rate limited by the mail provider");
 * ```
 */
export class RetryLaterError extends Error {
  /** Milliseconds to wait before the next attempt. */
  readonly delay: number;
  /**
   * Create the error.
   * @param delay milliseconds to wait before the next attempt
   * @param message why
   * @param options the cause, if any
   */
  constructor(delay: number, message = `retry in ${delay} ms`, options?: ErrorOptions) {
    super(message, options);
    if (!(Number.isFinite(delay) && delay >= 0)) {
      throw new RangeError(
        `Invalid RetryLaterError delay: expected milliseconds >= 0, got ${delay}`,
      );
    }
    this.name = "RetryLaterError";
    this.delay = delay;
  }
}

/**
 * The job ran longer than the actor's `jobTimeout`.
 *
 * @example Count timed-out jobs
 * ```ts
 * import { JobTimeoutError, type Middleware } from "@walnats/walnats";
 *
 * let timeouts = 0;
 * const countTimeouts: Middleware = {
 *   onFailure({ error }) {
 *     if (error instanceof JobTimeoutError) timeouts++;
 *   },
 * };
 * ```
 */
export class JobTimeoutError extends Error {
  /**
   * Create the error.
   * @param actor the actor's name
   * @param timeout the timeout in milliseconds
   */
  constructor(actor: string, timeout: number) {
    super(`Job of actor "${actor}" timed out after ${timeout} ms`);
    this.name = "JobTimeoutError";
  }
}

/**
 * An actor's consumer cannot be created or updated as declared.
 *
 * @example Report an actor the server rejected
 * ```ts
 * import { type ConnectedActors, ConsumerConfigError } from "@walnats/walnats";
 *
 * async function register(conn: ConnectedActors): Promise<void> {
 *   try {
 *     await conn.register();
 *   } catch (error) {
 *     if (error instanceof ConsumerConfigError) console.error(error.actor, error.message);
 *     throw error;
 *   }
 * }
 * ```
 */
export class ConsumerConfigError extends Error {
  /** The actor's name. */
  readonly actor: string;
  /**
   * Create the error.
   * @param actor the actor's name
   * @param message the full message
   * @param options the server's error as cause
   */
  constructor(actor: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConsumerConfigError";
    this.actor = actor;
  }
}
