/**
 * emit: validate → serialize → headers → publish (core NATS, or JetStream with ack).
 *
 * @module
 */
import type { JetStreamClient } from "@nats-io/jetstream";
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from "@nats-io/nats-core";
import { consoleLogger } from "../_logger.ts";
import { buildHeaders, MAX_DELAY_UNTIL } from "../headers.ts";
import type { CloudEvent } from "./cloud_event.ts";
import type { Event } from "./event.ts";
import { type StandardSchemaV1, unwrap } from "./schema.ts";

/**
 * Options of `emit()`.
 *
 * @example Emit once, a minute from now
 * ```ts
 * import type { EmitOptions } from "@walnats/walnats";
 *
 * const options: EmitOptions = { uid: "order-42-paid", delay: 60_000, sync: true };
 * ```
 */
export interface EmitOptions {
  /**
   * Deduplication id (`Nats-Msg-Id`): a second message with the same uid within the
   * stream's duplicate window is dropped by the server. Without it, a `CloudEvent` in
   * `meta` gives its `id` (as the Python walnats does).
   */
  readonly uid?: string;
  /** Trace id carried to the actor (`Walnats-Trace`). */
  readonly traceId?: string;
  /** Do not handle the message before this many milliseconds from now. @default 0 */
  readonly delay?: number;
  /** Extra headers, or CloudEvents metadata as `ce-*` headers. */
  readonly meta?: CloudEvent | Readonly<Record<string, string>> | undefined;
  /**
   * Wait until the stream has stored the message and report duplicates.
   * Without it the message is published with core NATS (faster, no confirmation).
   * @default false
   */
  readonly sync?: boolean;
}

/**
 * What the stream said about a message emitted with `sync: true`.
 *
 * @example Detect a duplicate emit
 * ```ts
 * import * as v from "valibot";
 * import { type ConnectedEvents, type EmitResult, Event } from "@walnats/walnats";
 *
 * const orderPaid = new Event("order-paid", v.object({ id: v.number() }));
 *
 * async function pay(conn: ConnectedEvents, id: number): Promise<void> {
 *   const options = { uid: `order-${id}`, sync: true } as const;
 *   const result: EmitResult = await conn.emit(orderPaid, { id }, options);
 *   if (result.duplicate) console.info(`order ${id} was already paid (seq ${result.seq})`);
 * }
 * ```
 */
export interface EmitResult {
  /** The message's sequence number in the stream. */
  readonly seq: number;
  /** Whether the stream had already seen this `uid` (nothing new was stored). */
  readonly duplicate: boolean;
}

/** An encoded message ready to publish. */
export interface Outgoing {
  readonly data: Uint8Array;
  readonly headers: MsgHdrs | undefined;
}

/** The options of a call that has none: one frozen object, not one per call. */
export const NO_OPTIONS: EmitOptions = Object.freeze({});

/**
 * Validate and encode a message, build its headers.
 *
 * @param extra headers added by emit hooks (a header set by `meta` wins)
 * @throws {ValidationError} when the message does not match the schema (nothing is sent)
 * @throws {SerializerError} when it cannot be encoded
 */
export function encodeOutgoing<T>(
  event: Event<T, unknown>,
  message: T,
  options: EmitOptions,
  reply?: string,
  extra?: Readonly<Record<string, string>>,
): Outgoing | Promise<Outgoing> {
  checkOptions(event, options);
  // Synchronous schemas and serializers (the common case) take no promise at all:
  // emit is on every publisher's hot path. The label of a validation error is made
  // only when there is one.
  const result = event.schema["~standard"].validate(message);
  if (result instanceof Promise) {
    return result.then((r) => finish(event, validOf(event, r), options, reply, extra));
  }
  return finish(event, validOf(event, result), options, reply, extra);
}

function validOf<T>(event: Event<T, unknown>, result: StandardSchemaV1.Result<T>): T {
  return result.issues === undefined
    ? result.value
    : unwrap(result, `message of event "${event.name}"`);
}

function finish<T>(
  event: Event<T, unknown>,
  valid: T,
  options: EmitOptions,
  reply: string | undefined,
  extra: Readonly<Record<string, string>> | undefined,
): Outgoing | Promise<Outgoing> {
  const data = event.serializer.encode(valid);
  const headers = outgoingHeaders(options, reply, extra);
  if (data instanceof Promise) return data.then((d) => ({ data: d, headers }));
  return { data, headers };
}

function outgoingHeaders(
  options: EmitOptions,
  reply: string | undefined,
  extra: Readonly<Record<string, string>> | undefined,
): MsgHdrs | undefined {
  const { uid, traceId, delay, meta } = options;
  // A plain emit has no header block: skip gathering the fields of none.
  let headers = uid === undefined && traceId === undefined && !delay && meta === undefined &&
      reply === undefined
    ? undefined
    : buildHeaders({
      uid,
      traceId,
      delayUntil: delay ? Date.now() + delay : undefined,
      reply,
      meta,
    });
  if (extra !== undefined) {
    for (const name in extra) {
      headers ??= natsHeaders();
      const value = extra[name];
      if (value !== undefined && !headers.has(name)) headers.set(name, value);
    }
  }
  return headers;
}

/**
 * What an emit hook learns about one `emit` or `request` call.
 *
 * @example Label an emit
 * ```ts
 * import type { EmitInfo } from "@walnats/walnats";
 *
 * const label = (info: EmitInfo): string => `${info.operation} ${info.event.name}`;
 * ```
 */
export interface EmitInfo {
  /** The event emitted. */
  readonly event: Event<unknown, unknown>;
  /** `"emit"`, or `"request"` (the call then waits for the actor's response). */
  readonly operation: "emit" | "request";
  /** The options of the call. */
  readonly options: EmitOptions;
}

/**
 * How an `emit` or `request` call ended.
 *
 * @example Tell failed emits
 * ```ts
 * import type { EmitOutcome } from "@walnats/walnats";
 *
 * const failed = (outcome: EmitOutcome): boolean => outcome.error !== undefined;
 * ```
 */
export interface EmitOutcome {
  /** Why it failed (validation, publish, timeout…); absent on success. */
  readonly error?: unknown;
  /** The stream's answer, for `emit` with `sync: true`. */
  readonly result?: EmitResult | undefined;
}

/**
 * What an emit hook returns for one call.
 *
 * @example Add a header to every emit
 * ```ts
 * import type { EmitHook, EmitHookScope } from "@walnats/walnats";
 *
 * const tenant: EmitHook = {
 *   onEmit(): EmitHookScope {
 *     return { headers: { "X-Tenant": "acme" } };
 *   },
 * };
 * ```
 */
export interface EmitHookScope {
  /** Headers to add to the message (a header the caller set in `meta` wins). */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Called once when the call ends: for `emit` after the publish (or the stream's
   * ack with `sync`), for `request` when the response arrived or the request failed.
   */
  end?(outcome: EmitOutcome): void;
}

/**
 * Observes every `emit` and `request` of a connected `Events` registry and may add
 * headers to the message, such as a trace context. Given to `Events.connect`
 * (`emitHooks`). A hook that throws is logged and ignored: it never stops a message.
 *
 * @example Log every emit and its outcome
 * ```ts
 * import type { EmitHook } from "@walnats/walnats";
 *
 * const logEmits: EmitHook = {
 *   onEmit(info) {
 *     return { end: (outcome) => console.info(info.event.name, outcome.error ?? outcome.result) };
 *   },
 * };
 * ```
 */
export interface EmitHook {
  /**
   * Called at the start of each call, before the message is validated.
   *
   * @param info the event, the operation and its options
   * @returns headers to add and a callback for the outcome, or nothing
   */
  onEmit(info: EmitInfo): EmitHookScope | void;
}

/** Start the hooks of one call: their headers, and one `end` for all of them. */
export function startEmitHooks(
  hooks: readonly EmitHook[],
  info: EmitInfo,
): { headers: Record<string, string> | undefined; end(outcome: EmitOutcome): void } {
  if (hooks.length === 0) return { headers: undefined, end() {} };
  const scopes: EmitHookScope[] = [];
  let headers: Record<string, string> | undefined;
  for (const hook of hooks) {
    try {
      const scope = hook.onEmit(info);
      if (!scope) continue;
      scopes.push(scope);
      if (scope.headers) headers = { ...headers, ...scope.headers };
    } catch (error) {
      consoleLogger.error(`emit hook of event "${info.event.name}" failed`, { error });
    }
  }
  return {
    headers,
    end(outcome) {
      for (const scope of scopes) {
        try {
          scope.end?.(outcome);
        } catch (error) {
          consoleLogger.error(`emit hook of event "${info.event.name}" failed`, { error });
        }
      }
    },
  };
}

function checkOptions(event: Event<unknown, unknown>, options: EmitOptions): void {
  if (options === NO_OPTIONS) return;
  const { uid, traceId, delay } = options;
  if (uid !== undefined && (typeof uid !== "string" || uid === "")) {
    throw new TypeError(`${cannotEmit(event)}: uid must be a non-empty string`);
  }
  if (traceId !== undefined && typeof traceId !== "string") {
    throw new TypeError(`${cannotEmit(event)}: traceId must be a string`);
  }
  if (delay !== undefined && !(Number.isFinite(delay) && delay >= 0)) {
    throw new RangeError(
      `${cannotEmit(event)}: delay must be a non-negative number of milliseconds, got ${delay}`,
    );
  }
  if (delay !== undefined && Date.now() + delay > MAX_DELAY_UNTIL) {
    throw new RangeError(`${cannotEmit(event)}: delay ${delay} ms ends after the year 2255`);
  }
}

function cannotEmit(event: Event<unknown, unknown>): string {
  return `Cannot emit event "${event.name}"`;
}

/** Publish an encoded message with core NATS (no confirmation). */
export function publishCore(nc: NatsConnection, subject: string, out: Outgoing): void {
  nc.publish(subject, out.data, out.headers ? { headers: out.headers } : undefined);
}

/** Publish an encoded message: core NATS, or JetStream with the stream's ack. */
export async function publish(
  nc: NatsConnection,
  js: JetStreamClient,
  subject: string,
  out: Outgoing,
  sync: boolean,
): Promise<EmitResult | undefined> {
  if (!sync) {
    publishCore(nc, subject, out);
    return undefined;
  }
  const ack = await js.publish(subject, out.data, out.headers ? { headers: out.headers } : {});
  return { seq: ack.seq, duplicate: ack.duplicate };
}
