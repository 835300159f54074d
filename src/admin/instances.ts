/**
 * Running listeners, as their heartbeats tell: who runs which actors where, and whether
 * each is healthy.
 *
 * @module
 */
import { createInbox, type NatsConnection, type Subscription } from "@nats-io/nats-core";
import { sleep } from "../_async.ts";
import { type Heartbeat, HEARTBEAT_SUBJECTS } from "../actors/heartbeat.ts";

/**
 * A running listener (one `listen()` call), as its last heartbeat described it. Times are
 * ISO 8601.
 *
 * @example Print where listeners run
 * ```ts
 * import type { InstanceStatus } from "@walnats/walnats/admin";
 *
 * const line = (i: InstanceStatus): string =>
 *   `${i.host}:${i.pid} ${i.runtime} ${i.healthy ? "healthy" : "UNHEALTHY"}`;
 * ```
 */
export interface InstanceStatus {
  /** The listener's random id (new for each `listen()`). */
  readonly id: string;
  /** Host name of its machine. */
  readonly host: string;
  /** Its process id. */
  readonly pid: number;
  /** Runtime and version, e.g. `deno 2.1.4`. */
  readonly runtime: string;
  /** When it started listening. */
  readonly started: string;
  /** When it was last heard from. */
  readonly lastSeen: string;
  /** Its heartbeat interval, ms. */
  readonly interval: number;
  /** Its own `health().healthy`, and heard within three intervals. */
  readonly healthy: boolean;
  /** Why it is not healthy (empty when healthy). */
  readonly problems: readonly string[];
  /** Jobs it runs now. */
  readonly running: number;
  /**
   * The actors it runs: name, event, jobs running and held, healing state, dead letters it
   * could not store.
   */
  readonly actors: readonly {
    readonly name: string;
    readonly event: string;
    readonly running: number;
    readonly held: number;
    readonly healing: string;
    /** Dead letters this listener could not store (their messages were terminated). */
    readonly lostDeadLetters: number;
  }[];
}

/** How many intervals of silence make an instance unhealthy. */
const STALE_INTERVALS = 3;
/** How many intervals of silence make an instance forgotten. */
const GONE_INTERVALS = 10;

/**
 * Heartbeats heard, by instance id. `ask()` pings every listener and waits a moment for
 * answers; `watch()` keeps a subscription so that beats arrive as they are sent.
 */
export class InstanceTracker {
  readonly #nc: NatsConnection;
  readonly #now: () => number;
  readonly #beats = new Map<string, { beat: Heartbeat; heard: number }>();
  #watching: Subscription | undefined;

  constructor(nc: NatsConnection, now: () => number = Date.now) {
    this.#nc = nc;
    this.#now = now;
  }

  /** Keep listening to heartbeats until `stop()`. */
  watch(): void {
    if (this.#watching) return;
    this.#watching = this.#nc.subscribe(`${HEARTBEAT_SUBJECTS.beat}.>`, {
      callback: (error, msg) => {
        if (!error) this.#record(msg.data);
      },
    });
  }

  /** Ask every listener for a beat now and collect answers for `wait` ms. */
  async ask(wait: number): Promise<void> {
    const inbox = createInbox();
    const sub = this.#nc.subscribe(inbox, {
      callback: (error, msg) => {
        if (!error) this.#record(msg.data);
      },
    });
    try {
      this.#nc.publish(HEARTBEAT_SUBJECTS.ping, new Uint8Array(), { reply: inbox });
      await sleep(wait);
    } finally {
      sub.unsubscribe();
    }
  }

  /** Stop watching. */
  stop(): void {
    this.#watching?.unsubscribe();
    this.#watching = undefined;
  }

  /** The instances heard from recently, oldest start first. */
  instances(): InstanceStatus[] {
    const now = this.#now();
    const out: InstanceStatus[] = [];
    for (const [id, { beat, heard }] of this.#beats) {
      const silent = now - heard;
      if (silent > GONE_INTERVALS * beat.interval) {
        this.#beats.delete(id);
        continue;
      }
      const problems: string[] = [];
      if (silent > STALE_INTERVALS * beat.interval) {
        problems.push(`not heard from for ${Math.round(silent / 1000)} s`);
      }
      const health = beat.health;
      if (!health.connected) problems.push("disconnected from NATS");
      const actors = beat.actors.map((a) => {
        const h = health.actors?.[a.name];
        if (h && h.healing.state !== "ok") {
          problems.push(
            `actor "${a.name}" is ${h.healing.state}${
              h.healing.lastError ? `: ${h.healing.lastError}` : ""
            }`,
          );
        }
        return {
          name: a.name,
          event: a.event,
          running: h?.running ?? 0,
          held: h?.held ?? 0,
          healing: h?.healing.state ?? "ok",
          // Older listeners do not report it.
          lostDeadLetters: h?.deadLetters?.lost ?? 0,
        };
      });
      if (!health.healthy && problems.length === 0) problems.push("reports itself unhealthy");
      out.push({
        id,
        host: beat.host,
        pid: beat.pid,
        runtime: beat.runtime,
        started: new Date(beat.started).toISOString(),
        lastSeen: new Date(heard).toISOString(),
        interval: beat.interval,
        healthy: problems.length === 0,
        problems,
        running: health.running,
        actors,
      });
    }
    return out.sort((a, b) => a.started.localeCompare(b.started) || a.id.localeCompare(b.id));
  }

  #record(data: Uint8Array): void {
    let beat: Heartbeat;
    try {
      beat = JSON.parse(new TextDecoder().decode(data));
    } catch {
      return; // Not ours, or cut: the next beat counts.
    }
    if (
      beat?.v !== 1 || typeof beat.id !== "string" || !Array.isArray(beat.actors) ||
      typeof beat.health !== "object" || !(beat.interval > 0)
    ) return;
    this.#beats.set(beat.id, { beat, heard: this.#now() });
  }
}
