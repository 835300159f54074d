/**
 * The `Actors` registry and its connected form: register consumers, listen.
 * This module alone wires the listener's stages together.
 *
 * @module
 */
import { jetstreamManager } from "@nats-io/jetstream";
import type { Status } from "@nats-io/nats-core";
import { availableParallelism } from "node:os";
import { type NatsConnection, type ServerOrConnection, useConnection } from "../connection.ts";
import { redactCredentials } from "../_redact.ts";
import { checkDuration, MAX_TIMER } from "../_duration.ts";
import { consoleLogger, type Logger } from "../_logger.ts";
import type { Actor } from "./actor.ts";
import {
  type ConsumerChange,
  isMissing,
  registerConsumer,
  type RegisterConsumersOptions,
} from "./consumer.ts";
import { Healer } from "./_healing.ts";
import { sleep, within } from "../_async.ts";
import { checkHeartbeatOptions, type HeartbeatOptions, startHeartbeat } from "./heartbeat.ts";
import { PrioritySemaphore } from "./priority.ts";
import { ActorRunner } from "./runner.ts";
import { MAX_PROGRESS_JOBS } from "./job_progress.ts";
import type { Health } from "./health.ts";
import { processProblem, WorkerPools } from "./workers/worker_pool.ts";
import { refuseSharedStreams } from "../events/stream.ts";

/**
 * Options of `listen()`. Durations are milliseconds.
 *
 * @example Listen with more jobs and a longer grace period
 * ```ts
 * import type { ListenOptions } from "@walnats/walnats";
 *
 * const options: ListenOptions = { maxJobs: 32, shutdownGrace: 10_000 };
 * ```
 */
export interface ListenOptions {
  /** Stop listening: pulls stop, running jobs get `shutdownGrace`, the rest is given back. */
  readonly signal?: AbortSignal;
  /** Handle what is in the streams now, then return (for tests and batch jobs). @default false */
  readonly burst?: boolean;
  /** Return after this many pull requests per actor (and their jobs). @default unlimited */
  readonly maxPolls?: number;
  /**
   * How long a pull request waits for messages on the server, ms: from 200 (the server
   * wants the request's heartbeat, at least 100 ms, within half of it) up to
   * 2,147,483,647 (the longest timer the runtime keeps). @default 5000
   */
  readonly pollDelay?: number;
  /**
   * At most this many messages per pull request. Without it a request asks for what the
   * actor's free slots and pull-ahead allow (see `pullAhead`). @default no limit of its own
   */
  readonly batch?: number;
  /** Jobs running at once across all actors of this listener. @default 16 */
  readonly maxJobs?: number | undefined;
  /**
   * Ask for more messages than there are free slots when jobs are far shorter than a
   * pull round trip: as many as each actor finishes in one round trip, at most 16 per
   * job slot, 1,024, and 8 MiB of payload (see the actors guide). `false` holds no more
   * than the free slots.
   * @default true
   */
  readonly pullAhead?: boolean;
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
  /**
   * On shutdown, how long running jobs may finish before their signal aborts, ms: from 0
   * up to 2,147,483,647 (about 24.8 days, the longest timer the runtime keeps), or
   * `Infinity` to wait for them however long they take. @default 5000
   */
  readonly shutdownGrace?: number;
  /**
   * How often the listener reads its consumers' settings on the server (one small request per
   * actor) and times its pulses from their live `ack_wait`: another instance's `register()`
   * may have changed it. Also read when listening starts and after healing.
   * @default 60000
   */
  readonly consumerCheckInterval?: number;
  /** Where the listener reports. @default console */
  readonly logger?: Logger;
  /**
   * Announce this listener on core NATS (`$WALNATS.heartbeat.<id>`, and in answer to
   * `$WALNATS.ping`) with its `health()`, host, pid and runtime, so that `walnats status`
   * counts the instances of each actor. `false` turns it off (e.g. when the account may
   * not publish there).
   * @default { interval: 5000 }
   */
  readonly heartbeat?: HeartbeatOptions | false;
}

/**
 * An `Actors` registry bound to a connection. Dispose it (`await using`) to close.
 *
 * @example Register and listen until aborted
 * ```ts
 * import type { ConnectedActors } from "@walnats/walnats";
 *
 * async function run(conn: ConnectedActors, signal: AbortSignal): Promise<void> {
 *   await conn.register();
 *   await conn.listen({ signal });
 * }
 * ```
 */
export interface ConnectedActors extends AsyncDisposable {
  /** The underlying nats.js connection. */
  readonly connection: NatsConnection;
  /**
   * Create (or update) the durable consumers of all actors; a missing event stream is created
   * from the event's declaration. Settings of existing consumers that differ from the
   * declarations are logged (a warning each), changed, and returned.
   * @param options allow a filter subject change, where to log
   * @returns every setting that differed from the declaration (empty when none did)
   * @throws {ConsumerConfigError} names the actor and the option the server rejected, or the
   * filter subject change that `allowFilterChange` does not allow
   */
  register(options?: RegisterConsumersOptions): Promise<readonly ConsumerChange[]>;
  /**
   * Pull and handle messages until `signal` aborts (or the burst / polls are done).
   * The listener heals itself: after a reconnect, missed heartbeats, or a consumer or
   * stream deleted under it, it recreates what is missing from the actors' declarations
   * and pulls again (see `health()`).
   * @throws {Error} the connection closed for good (reconnect attempts exhausted)
   */
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
   * @throws {TypeError} when two actors of one event share a name, or two events map to one
   * stream (`x.y` and `x-y`)
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
    refuseSharedStreams(actors.map((actor) => actor.event), "Actors");
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

function positive(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) {
    throw new RangeError(`Invalid listen option: ${name} must be a positive integer, got ${value}`);
  }
}

/** The running listener, as the status watcher and `health()` see it. */
interface Listening {
  readonly logger: Logger;
  readonly healer: Healer;
  readonly runners: readonly ActorRunner[];
  /** Look again whether the listener is done. */
  wake(): void;
}

class ConnectedActorsImpl implements ConnectedActors {
  readonly connection: NatsConnection;
  readonly #actors: readonly Actor<unknown, unknown>[];
  readonly #owned: boolean;
  readonly #status: AsyncIterable<Status> & { stop?(): void };
  #listening: Listening | undefined;
  #pools: WorkerPools | undefined;
  #connected: boolean;
  #closing = false;
  /** Set once the connection has closed for good (with nats.js's reason, if any). */
  #closed: { readonly error: Error | undefined } | undefined;

  constructor(actors: readonly Actor<unknown, unknown>[], nc: NatsConnection, owned: boolean) {
    this.connection = nc;
    this.#actors = actors;
    this.#owned = owned;
    this.#connected = !nc.isClosed();
    this.#status = nc.status();
    this.#watch().catch(() => {});
    nc.closed().then((error) => {
      this.#closed = { error: error ?? undefined };
      this.#listening?.wake();
    });
  }

  /** Follow the connection's status notifications (connected state, reconnects). */
  async #watch(): Promise<void> {
    for await (const status of this.#status) {
      const listening = this.#listening;
      const logger = listening?.logger;
      const server = "server" in status ? redactCredentials(String(status.server)) : "";
      switch (status.type) {
        case "disconnect":
          this.#connected = false;
          logger?.warn(`disconnected from ${server}; reconnecting`, { server });
          break;
        case "reconnecting":
          this.#connected = false;
          break;
        case "reconnect":
          this.#connected = true;
          logger?.info(`reconnected to ${server}`, { server });
          // Pull requests sent before died with the old link (or the old server).
          listening?.healer.checkAll(`reconnected to ${server}`);
          break;
        case "ldm":
          logger?.warn(`server ${server} is shutting down (lame duck mode)`);
          break;
        case "staleConnection":
          this.#connected = false;
          logger?.warn("the connection is stale (no answer to pings); reconnecting");
          break;
        case "error":
          logger?.warn(`server error: ${redactCredentials(status.error.message)}`, {
            error: status.error,
          });
          break;
        case "close":
          this.#connected = false;
          break;
      }
    }
  }

  async register(options?: RegisterConsumersOptions): Promise<readonly ConsumerChange[]> {
    const jsm = await jetstreamManager(this.connection);
    const changes: ConsumerChange[] = [];
    for (const actor of this.#actors) changes.push(...await registerConsumer(jsm, actor, options));
    return changes;
  }

  health(): Health {
    const actors: Record<string, Health["actors"][string]> = {};
    let running = 0;
    let healing = false;
    const listening = this.#listening;
    let budget = MAX_PROGRESS_JOBS;
    for (const r of listening?.runners ?? []) {
      const record = listening!.healer.record(r);
      const progress = r.progress(budget);
      budget -= progress.length;
      healing ||= record.state !== "ok";
      actors[r.actor.name] = {
        running: r.running,
        held: r.held,
        outstanding: r.outstanding,
        ahead: r.ahead,
        rtt: r.rtt,
        lastPull: r.lastPull,
        lastActivity: r.lastActivity,
        deadLetters: r.deadLetters,
        healing: record,
        progress,
      };
      running += r.running;
    }
    const pool = (p: WorkerPools["thread"] | undefined) => ({
      alive: p?.size ?? 0,
      busy: p?.busy ?? 0,
    });
    const connected = this.#connected && !this.connection.isClosed();
    return {
      connected,
      listening: listening !== undefined,
      healthy: connected && !healing,
      running,
      actors,
      workers: { thread: pool(this.#pools?.thread), process: pool(this.#pools?.process) },
    };
  }

  async listen(options: ListenOptions = {}): Promise<void> {
    positive("maxJobs", options.maxJobs);
    positive("maxPolls", options.maxPolls);
    // A waiting pull request asks for heartbeats (at least 100 ms apart) and the server
    // refuses one whose heartbeat exceeds half its expiry: under 200 ms nothing is pulled.
    checkDuration("Invalid listen option", "pollDelay", options.pollDelay, {
      min: 200,
      max: MAX_TIMER,
    });
    positive("batch", options.batch);
    positive("maxThreads", options.maxThreads);
    positive("maxProcesses", options.maxProcesses);
    checkDuration("Invalid listen option", "consumerCheckInterval", options.consumerCheckInterval, {
      min: 1,
      max: MAX_TIMER,
    });
    checkDuration("Invalid listen option", "shutdownGrace", options.shutdownGrace, {
      min: 0,
      max: MAX_TIMER,
      infinity: "wait for the running jobs however long they take",
    });
    if (options.pullAhead !== undefined && typeof options.pullAhead !== "boolean") {
      throw new TypeError(
        `Invalid listen option: pullAhead must be a boolean, got ${String(options.pullAhead)}`,
      );
    }
    checkHeartbeatOptions(options.heartbeat);
    if (this.#listening) throw new TypeError("Cannot listen twice at once on one connection");
    if (
      options.processArgs !== undefined &&
      !(Array.isArray(options.processArgs) &&
        options.processArgs.every((a) => typeof a === "string"))
    ) {
      throw new TypeError("Invalid listen option: processArgs must be an array of strings");
    }
    if (this.connection.isClosed()) throw new Error("Cannot listen: the connection is closed");
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
    let refilling = false;
    const runners: ActorRunner[] = [];
    const deps = {
      nc: this.connection,
      slots,
      logger,
      stopping: stopping.signal,
      heldTotal: () => runners.reduce((sum, r) => sum + r.held, 0),
      // Once per microtask turn, however many jobs ended in it: each refill reads
      // every runner's state, which would cost O(actors) per job.
      changed: () => {
        if (refilling) return;
        refilling = true;
        queueMicrotask(() => {
          refilling = false;
          for (const r of runners) r.refill();
          wake();
        });
      },
      expires: burst ? Math.min(expires, 1000) : expires,
      heartbeat,
      noWait: burst,
      batch: options.batch ?? Number.MAX_SAFE_INTEGER,
      pullAhead: options.pullAhead ?? true,
      maxPolls: options.maxPolls ?? Number.POSITIVE_INFINITY,
      pools,
    };
    for (const actor of this.#actors) runners.push(new ActorRunner(actor, deps));
    // Requests that wait get a heartbeat every `heartbeat` ms; burst requests (no_wait,
    // no heartbeats) end within `expires`. Silence beyond that means the requests died.
    const healer = new Healer(runners, {
      nc: this.connection,
      logger,
      signal: stopping.signal,
      silence: burst ? deps.expires + 2000 : 2 * heartbeat + 1000,
    });
    const listening: Listening = { logger, healer, runners, wake: () => {} };
    this.#listening = listening;
    this.#pools = pools;
    const quiet = () => runners.every((r) => r.running === 0 && r.held === 0);
    // Burst: the server ends a no_wait request that finds nothing only when it expires
    // (nats-server 2.9 waits out `expires` once one is given), so "drained" alone would
    // keep the last job's listener up to a second longer. When nothing runs here, the
    // consumers' own counts say whether anything is left.
    let emptied = false;
    let probing = false;
    const probe = async () => {
      probing = true;
      try {
        const jsm = await healer.manager();
        while (!stopping.signal.aborted && !emptied && quiet()) {
          const empty = await Promise.all(runners.map(async (r) => {
            try {
              const info = await jsm.consumers.info(r.actor.event.streamName, r.actor.consumerName);
              // Pending: not yet delivered; ack pending: delivered and not settled, naked
              // for a later redelivery, or held by another listener.
              return info.num_pending === 0 && info.num_ack_pending === 0;
            } catch (error) {
              if (isMissing(error)) healer.check(r, "its consumer is missing");
              return false;
            }
          }));
          if (empty.every(Boolean) && quiet()) emptied = true;
          else await sleep(100, stopping.signal);
        }
      } catch {
        // The server will not say; the requests' expiry ends the burst.
      } finally {
        probing = false;
        wake();
      }
    };
    const finished = () =>
      runners.every((r) => r.idle && (r.pollsUsed || (burst && r.drained))) ||
      (emptied && quiet());
    const watchdog = setInterval(() => healer.watch(), burst ? 250 : Math.min(heartbeat, 1000));
    // The consumers' live settings (another instance may have registered other ones).
    void healer.follow();
    const following = setInterval(
      () => void healer.follow(),
      options.consumerCheckInterval ?? 60_000,
    );
    const beating = options.heartbeat === false ? undefined : startHeartbeat(
      this.connection,
      { actors: this.#actors, health: () => this.health() },
      options.heartbeat,
    );
    let check = () => {};
    try {
      await new Promise<void>((resolve) => {
        check = () => {
          if (signal?.aborted || this.#closed || finished()) resolve();
          else if (burst && !probing && !emptied && quiet()) void probe();
        };
        wake = check;
        listening.wake = check;
        signal?.addEventListener("abort", check, { once: true });
        for (const r of runners) r.refill();
        check();
      });
    } finally {
      signal?.removeEventListener("abort", check);
      clearInterval(watchdog);
      clearInterval(following);
      beating?.stop();
      stopping.abort();
      const grace = options.shutdownGrace ?? 5000;
      await Promise.all(runners.map((r) => r.stop(grace)));
      await pools.close();
      this.#pools = undefined;
      if (!this.connection.isClosed()) {
        // While disconnected a flush waits for the next connection: do not wait forever.
        await within(
          this.connection.flush().catch(() => {}),
          Math.min(Math.max(grace, 1000), MAX_TIMER),
        );
      }
      this.#listening = undefined;
    }
    if (this.#closed && !this.#closing && !signal?.aborted) {
      const reason = this.#closed.error;
      throw new Error(
        `Cannot listen any longer: the connection to NATS closed${
          reason ? `: ${reason.message}` : ""
        }`,
        { cause: reason },
      );
    }
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#status.stop?.();
    if (this.#owned && !this.connection.isClosed()) await this.connection.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
