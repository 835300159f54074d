/**
 * The listener's heartbeat: a running listener announces itself on core NATS (nothing is
 * stored), so that `walnats status`, the admin API and the dashboard can count the
 * instances of each actor, see where they run and whether they are healthy.
 *
 * Wire format (JSON, one message per listener):
 * - every `interval` ms on `$WALNATS.heartbeat.<instance id>`,
 * - and at once in reply to any message on `$WALNATS.ping` (the admin asks, so that a
 *   status needs not wait for the next beat).
 *
 * Subjects starting with `$WALNATS.` cannot collide with events: event names are
 * kebab-case and may not contain `$`.
 *
 * @module
 */
import type { NatsConnection, Subscription } from "@nats-io/nats-core";
import { hostname } from "node:os";
import process from "node:process";
import type { Health } from "./health.ts";

/**
 * The subjects of the heartbeat: beats go to `${HEARTBEAT_SUBJECTS.beat}.<instance id>`,
 * a message on `HEARTBEAT_SUBJECTS.ping` makes every listener answer with its beat.
 *
 * @example Watch listeners announce themselves with nats.js
 * ```ts ignore
 * import { HEARTBEAT_SUBJECTS } from "@walnats/walnats";
 *
 * for await (const msg of nc.subscribe(`${HEARTBEAT_SUBJECTS.beat}.>`)) console.log(msg.json());
 * ```
 */
export const HEARTBEAT_SUBJECTS = {
  beat: "$WALNATS.heartbeat",
  ping: "$WALNATS.ping",
} as const;

/**
 * Options of the listener's heartbeat (`listen({ heartbeat })`).
 *
 * @example Beat every ten seconds
 * ```ts
 * import type { HeartbeatOptions } from "@walnats/walnats";
 *
 * const heartbeat: HeartbeatOptions = { interval: 10_000 };
 * ```
 */
export interface HeartbeatOptions {
  /** Milliseconds between two beats. @default 5000 */
  readonly interval?: number;
}

/**
 * One heartbeat, as published (JSON). Times are epoch milliseconds.
 *
 * @example Read a heartbeat
 * ```ts
 * import type { Heartbeat } from "@walnats/walnats";
 *
 * const where = (beat: Heartbeat): string => `${beat.host}:${beat.pid} (${beat.runtime})`;
 * ```
 */
export interface Heartbeat {
  /** Format version, 1. */
  readonly v: 1;
  /** A random id of this listener, new for each `listen()`. */
  readonly id: string;
  /** The machine's host name. */
  readonly host: string;
  /** The process id. */
  readonly pid: number;
  /** The runtime and its version, e.g. `deno 2.1.4` or `bun 1.2.0`. */
  readonly runtime: string;
  /** When the listener started. */
  readonly started: number;
  /** When this beat was sent. */
  readonly time: number;
  /** Milliseconds between two beats: silence for longer than a few means the listener is gone. */
  readonly interval: number;
  /** The actors this listener runs: name and event name. */
  readonly actors: readonly { readonly name: string; readonly event: string }[];
  /** The listener's `health()` (a NaN `rtt` is sent as `null`). */
  readonly health: Health;
}

/** What the heartbeat needs from the listener. */
export interface HeartbeatSource {
  readonly actors: readonly { readonly name: string; readonly event: { readonly name: string } }[];
  health(): Health;
}

/** A running heartbeat; `stop()` ends it. */
export interface RunningHeartbeat {
  stop(): void;
}

/** The default interval between beats, ms. */
export const DEFAULT_HEARTBEAT_INTERVAL = 5000;

/**
 * Check `listen({ heartbeat })`.
 * @throws {TypeError} neither `false` nor an options object
 * @throws {RangeError} an interval that is not a positive number of milliseconds
 */
export function checkHeartbeatOptions(options: HeartbeatOptions | false | undefined): void {
  if (options === undefined || options === false) return;
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Invalid listen option: heartbeat must be false or { interval }, got ${String(options)}`,
    );
  }
  const interval = options.interval;
  if (interval !== undefined && !(Number.isFinite(interval) && interval > 0)) {
    throw new RangeError(
      `Invalid listen option: heartbeat.interval must be a positive number of milliseconds, got ${interval}`,
    );
  }
}

/**
 * Start beating: one beat at once, then every `interval` ms, and an answer to each ping.
 * Publishing never throws into the listener: a closed or disconnected connection just
 * skips beats.
 */
export function startHeartbeat(
  nc: NatsConnection,
  source: HeartbeatSource,
  options: HeartbeatOptions = {},
): RunningHeartbeat {
  const interval = options.interval ?? DEFAULT_HEARTBEAT_INTERVAL;
  const id = crypto.randomUUID();
  const started = Date.now();
  const actors = source.actors.map((a) => ({ name: a.name, event: a.event.name }));
  const subject = `${HEARTBEAT_SUBJECTS.beat}.${id}`;
  const encode = (): Uint8Array => {
    const beat: Heartbeat = {
      v: 1,
      id,
      host: hostname(),
      pid: process.pid,
      runtime: runtime(),
      started,
      time: Date.now(),
      interval,
      actors,
      health: source.health(),
    };
    return new TextEncoder().encode(JSON.stringify(beat));
  };
  const send = (to: string) => {
    if (nc.isClosed()) return;
    try {
      nc.publish(to, encode());
    } catch {
      // A beat lost while the connection is down is replaced by the next one.
    }
  };
  let pings: Subscription | undefined;
  try {
    pings = nc.subscribe(HEARTBEAT_SUBJECTS.ping, {
      callback: (error, msg) => {
        if (!error && msg.reply) send(msg.reply);
      },
    });
  } catch {
    // Closed connection: the listener reports that itself.
  }
  send(subject);
  const timer = setInterval(() => send(subject), interval);
  return {
    stop() {
      clearInterval(timer);
      try {
        pings?.unsubscribe();
      } catch {
        // Already closed.
      }
    },
  };
}

/** The runtime's name and version, e.g. `deno 2.1.4`. */
export function runtime(): string {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  if (g.Bun) return `bun ${g.Bun.version}`;
  return `node ${process.versions.node}`;
}
