/**
 * The `Events` registry and its connected form (the publisher side).
 *
 * @module
 */
import {
  jetstream,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  jetstreamManager,
} from "@nats-io/jetstream";
import { checkDuration, MAX_TIMER } from "../_duration.ts";
import { NoStreamError } from "../errors.ts";
import { type NatsConnection, type ServerOrConnection, useConnection } from "../connection.ts";
import {
  type EmitHook,
  type EmitOptions,
  type EmitResult,
  encodeOutgoing,
  NO_OPTIONS,
  publish,
  publishCore,
  startEmitHooks,
} from "./emit.ts";
import type { Event } from "./event.ts";
import { monitor, type MonitoredEvent, type MonitorOptions } from "./monitor.ts";
import { type RequestOptions, ResponseMux } from "./request.ts";
import { ACCEPT_PROGRESS } from "../headers.ts";
import { refuseSharedStreams, registerStream, type RegisterStreamsOptions } from "./stream.ts";

/**
 * Options of `Events.connect`.
 *
 * @example Connect with emit hooks
 * ```ts ignore
 * import { type EmitHook, Events, type EventsConnectOptions } from "@walnats/walnats";
 *
 * const logEmits: EmitHook = { onEmit: (info) => console.info("emit", info.event.name) };
 * const options: EventsConnectOptions = { emitHooks: [logEmits] };
 * await using conn = await new Events(userCreated).connect("nats://localhost:4222", options);
 * ```
 */
export interface EventsConnectOptions {
  /**
   * Observe every `emit` and `request` and add headers to their messages,
   * e.g. `otel().emitHook` for tracing. @default []
   */
  readonly emitHooks?: readonly EmitHook[];
  /**
   * Check once per event, on its first `emit` or `request` over this connection, that
   * its stream exists, and fail with {@linkcode NoStreamError} when it does not. A plain
   * emit (without `sync`) to a subject no stream takes is otherwise lost without a word;
   * a sync emit reports it anyway. The check costs one round trip per event (its
   * success is remembered; a failure is not, so a later call checks again). A stream
   * deleted after the check is not noticed.
   * @default false
   */
  readonly verifyStreams?: boolean;
}

/**
 * An `Events` registry bound to a connection. Dispose it (`await using`) to close.
 *
 * @example Register the streams and emit
 * ```ts
 * import * as v from "valibot";
 * import { type ConnectedEvents, Event } from "@walnats/walnats";
 *
 * const userCreated = new Event("user-created", v.object({ id: v.number() }));
 *
 * async function createUser(conn: ConnectedEvents, id: number): Promise<void> {
 *   await conn.register();
 *   await conn.emit(userCreated, { id });
 * }
 * ```
 */
export interface ConnectedEvents extends AsyncDisposable {
  /** The underlying nats.js connection. */
  readonly connection: NatsConnection;
  /**
   * Create (and update) the streams of all registered events.
   * @throws {StreamExistsError} a stream differs and `update` is off
   * @throws {StreamConfigError} the server rejected a stream config, or an update can drop
   * messages and `allowDestructive` does not allow it
   */
  register(options?: RegisterStreamsOptions): Promise<void>;
  /**
   * Emit an event. The message is validated first: when invalid nothing is sent.
   * With `sync: true` waits for the stream and resolves with `{ seq, duplicate }`.
   *
   * Without `sync` the message is published with core NATS and nothing confirms it:
   * when no stream takes the event's subject (`register()` was not called) it is lost
   * without a word, unless the registry was connected with `verifyStreams: true`.
   * @throws {ValidationError} the message does not match the event's schema
   * @throws {TypeError} the event is not in the registry, the connection is closed, or
   *   an option is invalid (a `uid` with surrounding whitespace, a reserved `meta` header)
   * @throws {NoStreamError} no stream stores the event (sync, or `verifyStreams`)
   * @throws {EmitTimeoutError} sync: the stream did not answer in time; the outcome is
   *   unknown, emit again with the same `uid`
   */
  emit<T>(
    event: Event<T, unknown>,
    message: T,
    options: EmitOptions & { sync: true },
  ): Promise<EmitResult>;
  /**
   * Emit an event without waiting for the stream (core NATS publish): a message no
   * stream takes is lost without a word unless the connect option `verifyStreams` is on.
   */
  emit<T>(
    event: Event<T, unknown>,
    message: T,
    options?: EmitOptions,
  ): Promise<EmitResult | undefined>;
  /**
   * Emit an event and wait for the actor's response.
   * @throws {RequestTimeoutError} no response within `timeout`
   * @throws {ResponseError} the actor reported that it could not respond
   * @throws {ValidationError} the message or the response does not match its schema
   */
  request<T, R>(event: Event<T, R>, message: T, options?: RequestOptions): Promise<R>;
  /** A live feed of all registered events, decoded (debugging; nothing is acknowledged). */
  monitor(options?: MonitorOptions): ReadableStream<MonitoredEvent>;
  /** Close the connection if `connect()` opened it; otherwise leave it open. */
  close(): Promise<void>;
}

/**
 * A registry of events for publishers: connect it, register the streams, emit.
 *
 * @example Emit an event
 * ```ts ignore
 * import * as v from "valibot";
 * import { Event, Events } from "@walnats/walnats";
 *
 * const userCreated = new Event("user-created", v.object({ id: v.number() }));
 * const events = new Events(userCreated);
 * await using conn = await events.connect("nats://127.0.0.1:4222");
 * await conn.register();
 * await conn.emit(userCreated, { id: 42 }, { uid: "user-42" });
 * ```
 */
export class Events {
  /** The registered events. */
  readonly events: readonly Event<unknown, unknown>[];

  /**
   * Collect the events a publisher may emit.
   *
   * @param events the events this publisher may emit
   * @throws {TypeError} on two different events with the same name, or two names that map to
   * one stream (`x.y` and `x-y`)
   */
  constructor(...events: Event<unknown, unknown>[]) {
    const byName = new Map<string, Event<unknown, unknown>>();
    for (const event of events) {
      const seen = byName.get(event.name);
      if (seen && seen !== event && seen.response === undefined && event.response === undefined) {
        throw new TypeError(
          `Cannot register event "${event.name}" twice with different declarations`,
        );
      }
      byName.set(event.name, event);
    }
    refuseSharedStreams(events, "Events");
    this.events = Object.freeze([...events]);
  }

  /**
   * Connect: open a connection to server URL(s) or with options, or use an open
   * `NatsConnection` (then it is left open on close).
   *
   * @param server URL(s), connection options or a connection @default nats://127.0.0.1:4222
   * @param options hooks around each emit and request
   * @returns the connected registry
   */
  async connect(
    server?: ServerOrConnection,
    options: EventsConnectOptions = {},
  ): Promise<ConnectedEvents> {
    if (options.verifyStreams !== undefined && typeof options.verifyStreams !== "boolean") {
      throw new TypeError(
        `Invalid Events.connect option: verifyStreams must be a boolean, got ${
          String(options.verifyStreams)
        }`,
      );
    }
    const { nc, owned } = await useConnection(server);
    return new ConnectedEventsImpl(this.events, nc, owned, options);
  }
}

const STREAM_NOT_FOUND = JetStreamApiCodes.StreamNotFound;
/** What a fire-and-forget emit returns: one settled promise, shared. */
const RESOLVED: Promise<undefined> = Promise.resolve(undefined);

class ConnectedEventsImpl implements ConnectedEvents {
  readonly connection: NatsConnection;
  readonly #events: Set<Event<unknown, unknown>>;
  readonly #names: Set<string>;
  readonly #owned: boolean;
  readonly #js: JetStreamClient;
  readonly #mux: ResponseMux;
  readonly #hooks: readonly EmitHook[];
  /** With `verifyStreams`: the events whose stream was found (`undefined`: no checks). */
  readonly #verified: Set<string> | undefined;
  /** Checks under way, one per event, shared by the emits that wait for them. */
  readonly #checks = new Map<string, Promise<void>>();
  #jsm: Promise<JetStreamManager> | undefined;
  #closed = false;

  constructor(
    events: readonly Event<unknown, unknown>[],
    nc: NatsConnection,
    owned: boolean,
    options: EventsConnectOptions,
  ) {
    this.connection = nc;
    this.#events = new Set(events);
    this.#names = new Set(events.map((e) => e.name));
    this.#owned = owned;
    this.#js = jetstream(nc);
    this.#mux = new ResponseMux(nc);
    this.#hooks = [...(options.emitHooks ?? [])];
    this.#verified = options.verifyStreams ? new Set() : undefined;
  }

  /**
   * With `verifyStreams`, whether the event's stream must still be checked. Only the
   * first emit of each event pays for it; the fast path stays synchronous after.
   */
  #unverified(event: Event<unknown, unknown>): boolean {
    return this.#verified !== undefined && !this.#verified.has(event?.name);
  }

  #verify(event: Event<unknown, unknown>): Promise<void> {
    let check = this.#checks.get(event.name);
    if (check === undefined) {
      // A publisher that starts with a burst of emits asks the server once, not per emit.
      check = this.#checkStream(event).finally(() => this.#checks.delete(event.name));
      this.#checks.set(event.name, check);
    }
    return check;
  }

  async #checkStream(event: Event<unknown, unknown>): Promise<void> {
    this.#jsm ??= jetstreamManager(this.connection, { checkAPI: false });
    let subjects: readonly string[] | undefined;
    try {
      subjects = (await (await this.#jsm).streams.info(event.streamName)).config.subjects;
    } catch (error) {
      const name = (error as Error | undefined)?.name;
      if (
        (error instanceof JetStreamApiError && error.code === STREAM_NOT_FOUND) ||
        name === "JetStreamNotEnabled" || name === "NoResponders"
      ) {
        throw new NoStreamError(event.name, event.name, { cause: error });
      }
      throw error;
    }
    // A stream of that name that does not take the subject stores nothing either.
    if (!subjects?.includes(event.name)) throw new NoStreamError(event.name, event.name);
    this.#verified!.add(event.name);
  }

  async register(options?: RegisterStreamsOptions): Promise<void> {
    this.#checkOpen("register events");
    const jsm = await jetstreamManager(this.connection);
    for (const event of this.#events) await registerStream(jsm, event, options);
  }

  emit<T>(
    event: Event<T, unknown>,
    message: T,
    options: EmitOptions & { sync: true },
  ): Promise<EmitResult>;
  emit<T>(
    event: Event<T, unknown>,
    message: T,
    options?: EmitOptions,
  ): Promise<EmitResult | undefined>;
  emit<T>(
    event: Event<T, unknown>,
    message: T,
    options?: EmitOptions,
  ): Promise<EmitResult | undefined> {
    if (this.#hooks.length !== 0 || options?.sync === true || this.#unverified(event)) {
      // Hooks get the call's own options object, as they always have.
      return this.#emitFully(event, message, options === undefined ? {} : options);
    }
    // The fast path (no hooks, no stream ack to wait for): no async function and no
    // promise of its own when the schema and the serializer are synchronous.
    try {
      this.#check(event, "emit");
      const out = encodeOutgoing(event, message, options === undefined ? NO_OPTIONS : options);
      if (out instanceof Promise) {
        return out.then((o) => {
          this.#checkOpen(`emit event "${event.name}"`);
          publishCore(this.connection, event.name, o);
          return undefined;
        });
      }
      publishCore(this.connection, event.name, out);
      return RESOLVED;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async #emitFully<T>(
    event: Event<T, unknown>,
    message: T,
    options: EmitOptions,
  ): Promise<EmitResult | undefined> {
    this.#check(event, "emit");
    const hooks = startEmitHooks(this.#hooks, {
      event: event as Event<unknown, unknown>,
      operation: "emit",
      options,
    });
    try {
      const out = await encodeOutgoing(event, message, options, undefined, hooks.headers);
      // Sync emits learn of a missing stream from the publish itself.
      if (!options.sync && this.#unverified(event)) await this.#verify(event);
      const result = await publish(
        this.connection,
        this.#js,
        event as Event<unknown, unknown>,
        out,
        options,
      );
      hooks.end({ result });
      return result;
    } catch (error) {
      hooks.end({ error });
      throw error;
    }
  }

  async request<T, R>(event: Event<T, R>, message: T, options: RequestOptions = {}): Promise<R> {
    this.#check(event as Event<unknown, unknown>, "request");
    if (event.response === undefined) {
      throw new TypeError(
        `Cannot request event "${event.name}": it has no response; declare it with .withResponse(schema)`,
      );
    }
    const { timeout = 4000, signal } = options;
    checkDuration(`Cannot request event "${event.name}"`, "timeout", timeout, {
      max: MAX_TIMER,
    });
    const { onProgress } = options;
    if (onProgress !== undefined && typeof onProgress !== "function") {
      throw new TypeError(
        `Cannot request event "${event.name}": onProgress must be a function, got ${typeof onProgress}`,
      );
    }
    signal?.throwIfAborted();
    if (this.#unverified(event as Event<unknown, unknown>)) {
      await this.#verify(event as Event<unknown, unknown>);
    }
    const { inbox, response } = this.#mux.wait(event, { timeout, signal, onProgress });
    const hooks = startEmitHooks(this.#hooks, {
      event: event as Event<unknown, unknown>,
      operation: "request",
      options,
    });
    response.then(() => hooks.end({}), (error) => hooks.end({ error }));
    try {
      const extra = onProgress === undefined
        ? hooks.headers
        : { ...hooks.headers, [ACCEPT_PROGRESS]: "1" };
      const out = await encodeOutgoing(event, message, options, inbox, extra);
      // Aborted (or timed out) while encoding: nobody waits for an answer, send nothing.
      if (this.#mux.waiting(inbox)) {
        this.connection.publish(event.name, out.data, out.headers && { headers: out.headers });
      }
    } catch (error) {
      this.#mux.cancel(inbox, error);
    }
    return response;
  }

  monitor(options?: MonitorOptions): ReadableStream<MonitoredEvent> {
    this.#checkOpen("monitor events");
    return monitor(this.connection, [...this.#events], options);
  }

  #checkOpen(what: string): void {
    if (this.#closed || this.connection.isClosed()) {
      throw new TypeError(`Cannot ${what}: the connection is closed`);
    }
  }

  #check(event: Event<unknown, unknown>, what: string): void {
    if (!this.#events.has(event) && !this.#names.has(event?.name)) {
      throw new TypeError(
        `Cannot ${what} event "${event?.name}": it is not in this Events registry ` +
          `(registered: ${[...this.#names].join(", ") || "none"})`,
      );
    }
    if (this.#closed || this.connection.isClosed()) {
      this.#checkOpen(`${what} event "${event.name}"`);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#mux.close(new TypeError("The connection was closed before the response arrived"));
    if (this.#owned) await this.connection.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
