/**
 * The admin API: one connection that reads the status of a walnats system and manages
 * its dead letters. Used by `walnats status`, `walnats dead-letters`, the dashboard and
 * the backlog metrics.
 *
 * @module
 */
import { jetstream, type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import type { Actor } from "../actors/actor.ts";
import { sleep } from "../_async.ts";
import { type NatsConnection, type ServerOrConnection, useConnection } from "../connection.ts";
import type { Event } from "../events/event.ts";
import { DeadLetters } from "./dead_letters.ts";
import { InstanceTracker } from "./instances.ts";
import { type Declarations, readStatus, type Status } from "./status.ts";

/**
 * What the admin shows: declared events and actors (from your modules, with their
 * dead-letter settings), or, when neither is given, every walnats stream on the server.
 * A stream is walnats' when it has exactly one subject and is named after it with `.` →
 * `-`; `dead-letter.…` streams hold dead letters.
 *
 * @example Show only your own declarations
 * ```ts
 * import * as v from "valibot";
 * import { Actor, Event } from "@walnats/walnats";
 * import type { AdminOptions } from "@walnats/walnats/admin";
 *
 * const userCreated = new Event("user-created", v.object({ id: v.number() }));
 * const welcome = new Actor("send-welcome", userCreated, () => {});
 * const options: AdminOptions = { events: [userCreated], actors: [welcome] };
 * ```
 */
export interface AdminOptions {
  /** Events to show (an `Events` registry or a list). @default every walnats stream */
  // deno-lint-ignore no-explicit-any
  readonly events?: { readonly events: readonly Event<any, any>[] } | readonly Event<any, any>[];
  /**
   * Actors to show (an `Actors` registry or a list). @default every durable consumer of the
   * events shown
   */
  // deno-lint-ignore no-explicit-any
  readonly actors?: { readonly actors: readonly Actor<any, any>[] } | readonly Actor<any, any>[];
}

/**
 * Options of {@linkcode Admin.status}.
 *
 * @example Wait longer for listeners far away
 * ```ts
 * import type { StatusOptions } from "@walnats/walnats/admin";
 *
 * const options: StatusOptions = { wait: 1500 };
 * ```
 */
export interface StatusOptions {
  /**
   * Milliseconds to wait for running listeners to answer the admin's ping (their
   * heartbeat). 0 skips asking (instances then come only from `watch()`'s subscription).
   * @default 500
   */
  readonly wait?: number;
}

/**
 * Options of {@linkcode Admin.watch}.
 *
 * @example Refresh every five seconds until aborted
 * ```ts
 * import type { WatchOptions } from "@walnats/walnats/admin";
 *
 * const options: WatchOptions = { interval: 5000, signal: AbortSignal.timeout(60_000) };
 * ```
 */
export interface WatchOptions {
  /** Milliseconds between two statuses. @default 2000 */
  readonly interval?: number;
  /** Stop watching. */
  readonly signal?: AbortSignal;
}

/**
 * The admin API, connected. Dispose it (`await using`) to close.
 *
 * Shape (stable; the dashboard and the metrics build on it):
 * - `status({ wait })` → {@linkcode Status}: `server`, `events[]`, `actors[]`,
 *   `instances[]`, `deadLetters`, `healthy`, `problems[]`; plain JSON.
 * - `watch({ interval, signal })` → an async iterable of `Status`, one per interval, with a
 *   live heartbeat subscription (instances that go silent turn unhealthy).
 * - `deadLetters`: {@linkcode DeadLetters} with `list`, `show`, `redrive`, `retry`, `purge`.
 *
 * @example Print the backlog of every actor
 * ```ts ignore
 * import { connectAdmin } from "@walnats/walnats/admin";
 *
 * await using admin = await connectAdmin("nats://localhost:4222");
 * for (const a of (await admin.status()).actors) {
 *   console.log(a.name, a.pending, a.inFlight, a.deadLetters, a.instances.length);
 * }
 * ```
 */
export interface Admin extends AsyncDisposable {
  /** The underlying nats.js connection. */
  readonly connection: NatsConnection;
  /** Dead letters: list, show, redrive, retry, purge. */
  readonly deadLetters: DeadLetters;
  /**
   * The status now: asks running listeners for their heartbeat (waits `wait` ms), then
   * reads streams and consumers.
   */
  status(options?: StatusOptions): Promise<Status>;
  /** A status every `interval` ms until `signal` aborts, with a live heartbeat subscription. */
  watch(options?: WatchOptions): AsyncIterable<Status>;
  /** Close the connection if `connectAdmin` opened it. */
  close(): Promise<void>;
}

/**
 * Connect the admin API.
 *
 * @example Connect to the server in NATS_URL
 * ```ts ignore
 * import { connectAdmin } from "@walnats/walnats/admin";
 *
 * await using admin = await connectAdmin(Deno.env.get("NATS_URL") ?? "nats://localhost:4222");
 * const status = await admin.status();
 * if (!status.healthy) console.error(status.problems.join("\n"));
 * ```
 *
 * @param server URL(s), connection options, or an open connection (then not closed)
 *   @default nats://127.0.0.1:4222
 * @param options declared events and actors to show @default everything on the server
 * @returns the admin API
 */
export async function connectAdmin(
  server?: ServerOrConnection,
  options: AdminOptions = {},
): Promise<Admin> {
  const { nc, owned } = await useConnection(server);
  try {
    const jsm = await jetstreamManager(nc);
    return new AdminImpl(nc, jsm, owned, declarations(options));
  } catch (error) {
    if (owned) await nc.close();
    throw error;
  }
}

function declarations(options: AdminOptions): Declarations {
  const list = <T>(
    value: { readonly [key: string]: unknown } | readonly T[] | undefined,
    key: string,
  ) =>
    value === undefined
      ? undefined
      : Array.isArray(value)
      ? [...value] as T[]
      : [...(value as Record<string, readonly T[]>)[key] ?? []];
  const events = list<Event<unknown, unknown>>(options.events, "events");
  const actors = list<Actor<unknown, unknown>>(options.actors, "actors");
  return { ...(events ? { events } : {}), ...(actors ? { actors } : {}) };
}

class AdminImpl implements Admin {
  readonly connection: NatsConnection;
  readonly deadLetters: DeadLetters;
  readonly #jsm: JetStreamManager;
  readonly #owned: boolean;
  readonly #declarations: Declarations;
  readonly #instances: InstanceTracker;

  constructor(nc: NatsConnection, jsm: JetStreamManager, owned: boolean, declared: Declarations) {
    this.connection = nc;
    this.#jsm = jsm;
    this.#owned = owned;
    this.#declarations = declared;
    this.#instances = new InstanceTracker(nc);
    this.deadLetters = new DeadLetters(jsm, jetstream(nc), declared.actors);
  }

  async status(options: StatusOptions = {}): Promise<Status> {
    const wait = options.wait ?? 500;
    if (!(Number.isFinite(wait) && wait >= 0)) {
      throw new RangeError(`Invalid status option: wait must be milliseconds >= 0, got ${wait}`);
    }
    if (wait > 0) await this.#instances.ask(wait);
    return await readStatus(
      this.connection,
      this.#jsm,
      this.#declarations,
      this.#instances.instances(),
    );
  }

  async *watch(options: WatchOptions = {}): AsyncGenerator<Status> {
    const interval = options.interval ?? 2000;
    if (!(Number.isFinite(interval) && interval > 0)) {
      throw new RangeError(
        `Invalid watch option: interval must be a positive number of milliseconds, got ${interval}`,
      );
    }
    const { signal } = options;
    this.#instances.watch();
    try {
      let first = true;
      while (!signal?.aborted) {
        const started = Date.now();
        yield await this.status({ wait: first ? Math.min(500, interval) : 0 });
        first = false;
        const rest = interval - (Date.now() - started);
        if (rest > 0) await sleep(rest, signal);
      }
    } finally {
      this.#instances.stop();
    }
  }

  async close(): Promise<void> {
    this.#instances.stop();
    if (this.#owned && !this.connection.isClosed()) await this.connection.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
