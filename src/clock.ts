/**
 * The `Clock`: emits a date-time event at every period boundary, so actors can
 * run periodic jobs (cron-like, with `filterTime`). Any number of clocks may run
 * on one NATS deployment: each tick is stored once.
 *
 * @module
 */
import { JetStreamApiCodes, JetStreamApiError, jetstreamManager } from "@nats-io/jetstream";
import { sleep } from "./_async.ts";
import { MAX_SERVER_DURATION } from "./_duration.ts";
import { consoleLogger, type Logger } from "./_logger.ts";
import { StreamConfigError } from "./errors.ts";
import type { EmitOptions } from "./events/emit.ts";
import { Event } from "./events/event.ts";
import type { ConnectedEvents } from "./events/events.ts";
import { dateTime } from "./events/schema.ts";

const STREAM_NOT_FOUND = JetStreamApiCodes.StreamNotFound;
// setTimeout fires at once for delays above 2^31 - 1 ms (about 24.8 days).
const MAX_TIMEOUT = 2 ** 31 - 1;

/**
 * The default event of {@linkcode Clock}: a date-time, the start of the minute
 * that has just begun (`2024-11-22T18:31:00.000Z`). The stream keeps the
 * server's default duplicate window (2 minutes), which covers a one-minute period.
 *
 * @example Run a job every day at 09:00 in Berlin
 * ```ts
 * import { Actor, filterTime, minutePassed } from "@walnats/walnats";
 *
 * const report = new Actor(
 *   "send-daily-report",
 *   minutePassed,
 *   filterTime({ hour: 9, minute: 0, timezone: "Europe/Berlin" })(async (date) => {
 *     console.log("report for", date.toISOString());
 *   }),
 * );
 * ```
 */
export const minutePassed: Event<Date> = new Event("minute-passed", dateTime());

/**
 * Options of {@linkcode Clock}.
 *
 * @example A clock that ticks every minute
 * ```ts
 * import { Clock, type ClockOptions } from "@walnats/walnats";
 *
 * const options: ClockOptions = { period: 60_000 };
 * const clock = new Clock(options);
 * ```
 */
export interface ClockOptions {
  /**
   * The event to emit; its message is the tick's start as a `Date`.
   * Its stream's duplicate window (`limits.duplicateWindow`) must be at least `period`.
   * @default minutePassed (`"minute-passed"`)
   */
  readonly event?: Event<Date, unknown>;
  /**
   * Time between ticks, in milliseconds, a positive integer up to 9,223,372,036,854
   * (the longest duplicate window, which must cover it). Ticks fall on multiples of it
   * since the Unix epoch (UTC): with one hour, at every full hour.
   * @default 60000
   */
  readonly period?: number;
  /** Headers (or CloudEvents metadata) sent with every tick. @default none */
  readonly meta?: EmitOptions["meta"];
}

/**
 * Options of {@linkcode Clock.run}.
 *
 * @example Emit one tick and return
 * ```ts
 * import type { Clock, ClockRunOptions, ConnectedEvents } from "@walnats/walnats";
 *
 * async function tickOnce(clock: Clock, conn: ConnectedEvents): Promise<void> {
 *   const options: ClockRunOptions = { burst: true };
 *   await clock.run(conn, options);
 * }
 * ```
 */
export interface ClockRunOptions {
  /** Stop: `run` resolves once the signal aborts (and a tick being emitted is stored). */
  readonly signal?: AbortSignal;
  /**
   * Emit the current tick (the start of the period now running) once and return,
   * instead of waiting for the next boundaries. Errors are thrown, not logged.
   * @default false
   */
  readonly burst?: boolean;
  /** Where failed emits are reported while running. @default the console */
  readonly logger?: Logger;
}

/**
 * A clock: emits its event at every period boundary with the tick's start time
 * as the message. Run it in one or more processes; all clocks of an event emit
 * the tick with the same deduplication id (`Nats-Msg-Id`, the tick's start as
 * ISO 8601), so the stream stores each tick once. That needs the event's
 * duplicate window to cover the period, which {@linkcode Clock.run} checks.
 *
 * Missed ticks are not back-filled: a tick passes unseen while no clock runs
 * (or while the process is too busy to wake at the boundary, in which case only
 * the latest tick is emitted). Actors must not count ticks to tell time; they
 * should read the message's date. The first tick is the next boundary after
 * `run` starts (with `burst`, the current one).
 *
 * As every event's stream, the clock's keeps messages only for registered actors
 * (interest retention): ticks emitted before any actor exists are dropped.
 *
 * @example Run a clock until the process is asked to stop
 * ```ts ignore
 * import { Clock, Events, minutePassed } from "@walnats/walnats";
 *
 * await using conn = await new Events(minutePassed).connect();
 * await conn.register();
 * const stop = new AbortController();
 * Deno.addSignalListener("SIGTERM", () => stop.abort());
 * await new Clock().run(conn, { signal: stop.signal });
 * ```
 *
 * @example An hourly clock on its own event
 * ```ts
 * import { Clock, dateTime, Event } from "@walnats/walnats";
 *
 * const hourPassed = new Event("hour-passed", dateTime(), {
 *   limits: { duplicateWindow: 3_600_000 },
 * });
 * const clock = new Clock({ event: hourPassed, period: 3_600_000 });
 * ```
 */
export class Clock {
  /** The event emitted at each tick. */
  readonly event: Event<Date, unknown>;
  /** Milliseconds between ticks. */
  readonly period: number;
  /** Headers sent with every tick. */
  readonly meta: EmitOptions["meta"];

  /**
   * Declare a clock.
   *
   * @param options the event, the period and the headers
   * @throws {TypeError} when `event` is not an Event
   * @throws {RangeError} when `period` is not a positive integer, or longer than
   *   the duplicate window the event declares
   */
  constructor(options: ClockOptions = {}) {
    const { event = minutePassed, period = 60_000, meta } = options;
    if (typeof event?.name !== "string" || event.serializer === undefined) {
      throw new TypeError(`Invalid event of Clock: expected an Event, got ${describe(event)}`);
    }
    if (!(Number.isSafeInteger(period) && period > 0)) {
      throw new RangeError(
        `Invalid period of Clock for event "${event.name}": must be a positive integer ` +
          `number of milliseconds, got ${describe(period)}`,
      );
    }
    if (period > MAX_SERVER_DURATION) {
      // No duplicate window (int64 nanoseconds on the server) can cover it.
      throw new RangeError(
        `Invalid period of Clock for event "${event.name}": must be at most ` +
          `${MAX_SERVER_DURATION} ms (about 292 years, the longest duplicate window), got ${period}`,
      );
    }
    const window = event.limits.duplicateWindow;
    if (window !== undefined && window < period) {
      throw new RangeError(
        `Invalid period of Clock for event "${event.name}": the event's duplicate window ` +
          `(limits.duplicateWindow, ${window} ms) is shorter than the period (${period} ms); ` +
          `set limits.duplicateWindow to at least ${period}`,
      );
    }
    this.event = event;
    this.period = period;
    this.meta = meta;
    Object.freeze(this);
  }

  /**
   * Emit a tick at every period boundary until `signal` aborts (or once, with
   * `burst`). First checks that the event's stream exists and that its duplicate
   * window covers the period. While running, a failed emit is logged and the
   * clock goes on with the next tick.
   *
   * @param conn a connected `Events` registry that contains the clock's event
   * @param options signal, burst, logger
   * @returns resolves when stopped (or after the burst tick is stored)
   * @throws {StreamConfigError} the stream's duplicate window is shorter than the period
   * @throws {Error} the event's stream does not exist (register the event first)
   * @throws {TypeError} the event is not in the registry (on the first emit)
   */
  async run(conn: ConnectedEvents, options: ClockRunOptions = {}): Promise<void> {
    const { signal, burst = false, logger = consoleLogger } = options;
    if (signal?.aborted) return;
    await this.#checkStream(conn);
    if (burst) {
      await this.#emit(conn, Math.floor(Date.now() / this.period) * this.period);
      return;
    }
    const pending = new Set<Promise<void>>();
    let last = Math.floor(Date.now() / this.period) * this.period;
    try {
      while (!signal?.aborted) {
        const next = last + this.period;
        if (!await sleep(Math.min(next - Date.now(), MAX_TIMEOUT), signal)) break;
        // Timers may wake a little early, or very late: emit the latest boundary passed.
        const tick = Math.floor(Date.now() / this.period) * this.period;
        if (tick <= last) continue;
        last = tick;
        // Emit in the background so a slow ack does not make the clock miss the next tick.
        const emitted = this.#emit(conn, tick).catch((error) => {
          logger.error(`Clock failed to emit event "${this.event.name}"`, {
            event: this.event.name,
            tick: new Date(tick).toISOString(),
            error,
          });
        }).finally(() => pending.delete(emitted));
        pending.add(emitted);
      }
    } finally {
      await Promise.all(pending);
    }
  }

  async #emit(conn: ConnectedEvents, tick: number): Promise<void> {
    const date = new Date(tick);
    await conn.emit(this.event, date, { uid: date.toISOString(), meta: this.meta, sync: true });
  }

  async #checkStream(conn: ConnectedEvents): Promise<void> {
    const { name, streamName } = this.event;
    const jsm = await jetstreamManager(conn.connection);
    let info;
    try {
      info = await jsm.streams.info(streamName);
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === STREAM_NOT_FOUND) {
        throw new Error(
          `Cannot run the clock of event "${name}": its stream "${streamName}" does not exist; ` +
            `register the event first (conn.register())`,
          { cause: error },
        );
      }
      throw error;
    }
    const window = info.config.duplicate_window / 1e6;
    if (window < this.period) {
      throw new StreamConfigError(
        name,
        ["limits.duplicateWindow"],
        `Cannot run the clock of event "${name}": the stream's duplicate window (${window} ms) ` +
          `is shorter than the clock's period (${this.period} ms), so clocks in several ` +
          `processes could store a tick twice; declare the event with ` +
          `limits: { duplicateWindow: ${this.period} } (or more) and register it`,
      );
    }
  }
}

function describe(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null) return "null";
  if (typeof value === "object") return value.constructor?.name ?? "an object";
  return typeof value;
}
