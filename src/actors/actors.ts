/**
 * The `Actors` registry and its connected form: register consumers, listen.
 * This module alone wires the listener's stages together.
 *
 * @module
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { availableParallelism } from "node:os";
import { type NatsConnection, type ServerOrConnection, useConnection } from "../connection.ts";
import { consoleLogger, type Logger } from "../_logger.ts";
import type { Actor } from "./actor.ts";
import { registerConsumer } from "./consumer.ts";
import { PrioritySemaphore } from "./priority.ts";
import { ActorRunner } from "./scheduler.ts";
import { processProblem, WorkerPools } from "./workers/worker_pool.ts";

/** Options of `listen()`. Durations are milliseconds. */
export interface ListenOptions {
  /** Stop listening: pulls stop, running jobs get `shutdownGrace`, the rest is given back. */
  readonly signal?: AbortSignal;
  /** Handle what is in the streams now, then return (for tests and batch jobs). @default false */
  readonly burst?: boolean;
  /** Return after this many pull requests per actor (and their jobs). @default unlimited */
  readonly maxPolls?: number;
  /** How long a pull request waits for messages on the server. @default 5000 */
  readonly pollDelay?: number;
  /** At most this many messages per pull request. @default each actor's `maxJobs` */
  readonly batch?: number;
  /** Jobs running at once across all actors of this listener. @default 16 */
  readonly maxJobs?: number;
  /**
   * Web Workers for `executeIn: "thread"`, started on demand and shared by all actors.
   * @default min(32, cores + 4)
   */
  readonly maxThreads?: number;
  /**
   * Worker processes for `executeIn: "process"`, started on demand and shared by all
   * actors. Jobs beyond the pool's size wait for a process (pulses keep their messages);
   * keep such actors' `maxJobs` near this number so that other instances get the rest.
   * @default cores
   */
  readonly maxProcesses?: number;
  /**
   * Extra runtime arguments for worker processes, before the entry script: for Deno e.g.
   * `["--allow-read=./data", "--v8-flags=--max-old-space-size=512"]` (the listener's
   * unrestricted permissions are passed on by themselves), for Bun e.g. `["--smol"]`.
   * @default []
   */
  readonly processArgs?: readonly string[];
  /** On shutdown, how long running jobs may finish before their signal aborts. @default 5000 */
  readonly shutdownGrace?: number;
  /** Where the listener reports. @default console */
  readonly logger?: Logger;
}

/** A live view of a listener, for liveness probes. */
export interface Health {
  /** Whether the NATS connection is up. */
  readonly connected: boolean;
  /** Jobs running now, all actors. */
  readonly running: number;
  /**
   * Per actor: jobs running, messages received and waiting for a global slot (`held`),
   * messages requested and not yet delivered, and the last pull (epoch ms).
   */
  readonly actors: Readonly<
    Record<string, { running: number; held: number; outstanding: number; lastPull: number }>
  >;
  /** Workers alive now, by pool (`executeIn`), and how many of them run a job. */
  readonly workers: {
    readonly thread: { readonly alive: number; readonly busy: number };
    readonly process: { readonly alive: number; readonly busy: number };
  };
}

/** An `Actors` registry bound to a connection. Dispose it (`await using`) to close. */
export interface ConnectedActors extends AsyncDisposable {
  /** The underlying nats.js connection. */
  readonly connection: NatsConnection;
  /**
   * Create (or update) the durable consumers of all actors. The events' streams must exist.
   * @throws {ConsumerConfigError} names the actor and the option the server rejected
   */
  register(): Promise<void>;
  /** Pull and handle messages until `signal` aborts (or the burst / polls are done). */
  listen(options?: ListenOptions): Promise<void>;
  /** The running listener's state (empty actors when none runs). */
  health(): Health;
  /** Close the connection if `connect()` opened it. */
  close(): Promise<void>;
}

/**
 * A registry of actors for subscribers: connect, register the consumers, listen.
 *
 * @example Listen until interrupted
 * ```ts ignore
 * import { Actors } from "@walnats/walnats";
 * import { sendWelcome } from "./actors.ts";
 *
 * const controller = new AbortController();
 * Deno.addSignalListener("SIGINT", () => controller.abort());
 * await using conn = await new Actors(sendWelcome).connect();
 * await conn.register();
 * await conn.listen({ signal: controller.signal });
 * ```
 */
export class Actors {
  /** The registered actors. */
  readonly actors: readonly Actor<unknown, unknown>[];

  /**
   * Collect actors to register and run together.
   *
   * @param actors the actors to run
   * @throws {TypeError} when two actors of one event share a name
   */
  constructor(
    // deno-lint-ignore no-explicit-any
    ...actors: Actor<any, any>[]
  ) {
    const seen = new Set<string>();
    for (const actor of actors) {
      const key = `${actor.event.streamName}/${actor.name}`;
      if (seen.has(key)) {
        throw new TypeError(
          `Cannot register actor "${actor.name}" twice on event "${actor.event.name}"`,
        );
      }
      seen.add(key);
    }
    this.actors = Object.freeze([...actors]);
  }

  /**
   * Connect to server URL(s), with options, or through an open `NatsConnection`.
   * @param server URL(s), connection options or a connection @default nats://127.0.0.1:4222
   * @returns the connected registry
   */
  async connect(server?: ServerOrConnection): Promise<ConnectedActors> {
    const { nc, owned } = await useConnection(server);
    return new ConnectedActorsImpl(this.actors, nc, owned);
  }
}

function positive(name: string, value: number | undefined, integer: boolean): void {
  if (value === undefined) return;
  const ok = integer
    ? Number.isSafeInteger(value) && value > 0
    : Number.isFinite(value) && value > 0;
  if (!ok) {
    throw new RangeError(
      `Invalid listen option: ${name} must be a positive ${
        integer ? "integer" : "number"
      }, got ${value}`,
    );
  }
}

class ConnectedActorsImpl implements ConnectedActors {
  readonly connection: NatsConnection;
  readonly #actors: readonly Actor<unknown, unknown>[];
  readonly #owned: boolean;
  #runners: ActorRunner[] = [];
  #pools: WorkerPools | undefined;

  constructor(actors: readonly Actor<unknown, unknown>[], nc: NatsConnection, owned: boolean) {
    this.connection = nc;
    this.#actors = actors;
    this.#owned = owned;
  }

  async register(): Promise<void> {
    const jsm = await jetstreamManager(this.connection);
    for (const actor of this.#actors) await registerConsumer(jsm, actor);
  }

  health(): Health {
    const actors: Record<
      string,
      { running: number; held: number; outstanding: number; lastPull: number }
    > = {};
    let running = 0;
    for (const r of this.#runners) {
      actors[r.actor.name] = {
        running: r.running,
        held: r.held,
        outstanding: r.outstanding,
        lastPull: r.lastPull,
      };
      running += r.running;
    }
    const pool = (p: WorkerPools["thread"] | undefined) => ({
      alive: p?.size ?? 0,
      busy: p?.busy ?? 0,
    });
    return {
      connected: !this.connection.isClosed(),
      running,
      actors,
      workers: { thread: pool(this.#pools?.thread), process: pool(this.#pools?.process) },
    };
  }

  async listen(options: ListenOptions = {}): Promise<void> {
    positive("maxJobs", options.maxJobs, true);
    positive("maxPolls", options.maxPolls, true);
    positive("pollDelay", options.pollDelay, false);
    positive("batch", options.batch, true);
    positive("maxThreads", options.maxThreads, true);
    positive("maxProcesses", options.maxProcesses, true);
    if (options.shutdownGrace !== undefined && !(options.shutdownGrace >= 0)) {
      throw new RangeError(
        `Invalid listen option: shutdownGrace must be >= 0, got ${options.shutdownGrace}`,
      );
    }
    if (this.#runners.length) throw new TypeError("Cannot listen twice at once on one connection");
    if (
      options.processArgs !== undefined &&
      !(Array.isArray(options.processArgs) &&
        options.processArgs.every((a) => typeof a === "string"))
    ) {
      throw new TypeError("Invalid listen option: processArgs must be an array of strings");
    }
    const inProcess = this.#actors.find((a) => a.executeIn === "process");
    const problem = inProcess && processProblem();
    if (problem) {
      throw new Error(
        `Cannot listen: actor "${inProcess.name}" runs in worker processes; ${problem}`,
      );
    }
    // Workers start on the first job that needs one.
    const pools = new WorkerPools(
      options.maxThreads ?? Math.min(32, availableParallelism() + 4),
      options.maxProcesses ?? availableParallelism(),
      { processArgs: options.processArgs },
    );
    const { signal, burst = false, logger = consoleLogger } = options;
    const expires = options.pollDelay ?? 5000;
    const heartbeat = Math.max(100, Math.min(5000, expires / 2));
    const stopping = new AbortController();
    const slots = new PrioritySemaphore(options.maxJobs ?? 16);
    let wake: () => void = () => {};
    const runners: ActorRunner[] = [];
    const deps = {
      nc: this.connection,
      slots,
      logger,
      stopping: stopping.signal,
      heldTotal: () => runners.reduce((sum, r) => sum + r.held, 0),
      changed: () => {
        for (const r of runners) r.refill();
        wake();
      },
      expires: burst ? Math.min(expires, 1000) : expires,
      heartbeat,
      noWait: burst,
      batch: options.batch ?? Number.MAX_SAFE_INTEGER,
      maxPolls: options.maxPolls ?? Number.POSITIVE_INFINITY,
      pools,
    };
    for (const actor of this.#actors) runners.push(new ActorRunner(actor, deps));
    this.#runners = runners;
    this.#pools = pools;
    const finished = () => runners.every((r) => r.idle && (r.pollsUsed || (burst && r.drained)));
    // Missed heartbeats: the link (or the server) died under outstanding requests.
    const watchdog = burst ? undefined : setInterval(() => {
      const now = Date.now();
      for (const r of runners) {
        if (r.outstanding > 0 && now - r.lastActivity > 2 * heartbeat + 1000) {
          logger.warn(`no heartbeat for actor "${r.actor.name}", pulling again`);
          r.resetPulls();
        }
      }
    }, heartbeat);
    try {
      await new Promise<void>((resolve) => {
        const check = () => {
          if (signal?.aborted || finished()) resolve();
        };
        wake = check;
        signal?.addEventListener("abort", check, { once: true });
        for (const r of runners) r.refill();
        check();
      });
    } finally {
      if (watchdog !== undefined) clearInterval(watchdog);
      stopping.abort();
      const grace = options.shutdownGrace ?? 5000;
      await Promise.all(runners.map((r) => r.stop(grace)));
      await pools.close();
      this.#pools = undefined;
      if (!this.connection.isClosed()) await this.connection.flush();
      this.#runners = [];
    }
  }

  async close(): Promise<void> {
    if (this.#owned && !this.connection.isClosed()) await this.connection.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
