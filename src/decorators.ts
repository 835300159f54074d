/**
 * Handler decorators: plain higher-order functions that wrap a handler and keep
 * its message and result types. Apply one by calling it on the handler,
 * `rateLimit(10, 60_000)(handler)`; nest calls to combine them (the outermost
 * runs first).
 *
 * @module
 */
import type { Job } from "./actors/job.ts";
import { sleep } from "./_async.ts";
import { MAX_TIMER } from "./_duration.ts";
import { consoleLogger, type Logger } from "./_logger.ts";

/**
 * Wraps a handler into one with the same message type and result (made async).
 * The state a decorator keeps (a rate limit's count) is shared by every handler
 * it wraps.
 *
 * @example Wrap a handler in a decorator
 * ```ts
 * import { type Decorator, rateLimit } from "@walnats/walnats";
 *
 * const tenPerSecond: Decorator = rateLimit(10, 1000);
 * const handler = tenPerSecond(async (url: string) => await fetch(url));
 * ```
 *
 * @typeParam T the messages the decorator can read (`unknown`: any)
 */
export type Decorator<T = unknown> = <M extends T, R>(
  handler: (message: M, job: Job) => R,
) => (message: M, job: Job) => Promise<Awaited<R>>;

/**
 * Wraps a handler into one that may skip it (or swallow its error) and then
 * resolves with `undefined` instead of the handler's result. So it cannot wrap
 * the handler of a request/response event unless `undefined` is a valid response.
 *
 * @example A decorator that may skip the handler
 * ```ts
 * import { filterTime, type SkippingDecorator } from "@walnats/walnats";
 *
 * const weekdays: SkippingDecorator<Date> = filterTime({ weekday: { from: 1, to: 5 } });
 * const report = weekdays((date: Date) => console.info("report for", date));
 * ```
 *
 * @typeParam T the messages the decorator can read (`unknown`: any)
 */
export type SkippingDecorator<T = unknown> = <M extends T, R>(
  handler: (message: M, job: Job) => R,
) => (message: M, job: Job) => Promise<Awaited<R> | undefined>;

// ---------------------------------------------------------------------------
// filterTime

/**
 * An inclusive range of values of a date field, `{ from: 9, to: 17 }`.
 *
 * @example A range of hours
 * ```ts
 * import { filterTime, type TimeRange } from "@walnats/walnats";
 *
 * const lunch: TimeRange = { from: 12, to: 14 };
 * const atLunch = filterTime({ hour: lunch });
 * ```
 */
export interface TimeRange {
  /** The first value that matches. */
  readonly from: number;
  /** The last value that matches. Below `from` wraps around (not for `year`). */
  readonly to: number;
}

/**
 * The values a date field may take: one value, an inclusive range, or a list
 * of values and ranges (any of them matches).
 *
 * @example Several hours and a range
 * ```ts
 * import { filterTime, type TimePattern } from "@walnats/walnats";
 *
 * const hours: TimePattern = [8, { from: 12, to: 14 }, 20];
 * const atMealtimes = filterTime({ hour: hours });
 * ```
 */
export type TimePattern = number | TimeRange | readonly (number | TimeRange)[];

/**
 * Options of {@linkcode filterTime}: the pattern the message's date must match.
 * An omitted field matches any value; all given fields must match.
 *
 * @example Only during business hours
 * ```ts
 * import { filterTime, type FilterTimeOptions } from "@walnats/walnats";
 *
 * const options: FilterTimeOptions = {
 *   weekday: { from: 1, to: 5 },
 *   hour: { from: 9, to: 17 },
 *   timezone: "Europe/Amsterdam",
 * };
 * const businessHours = filterTime(options);
 * ```
 */
export interface FilterTimeOptions<T = Date> {
  /** Four-digit year, e.g. `2025`. @default any */
  readonly year?: TimePattern;
  /** Month, 1 (January) to 12 (December). @default any */
  readonly month?: TimePattern;
  /** Day of the month, 1 to 31. @default any */
  readonly day?: TimePattern;
  /** Day of the week, 0 (Sunday) to 6 (Saturday); 7 is Sunday too, as in cron. @default any */
  readonly weekday?: TimePattern;
  /** Hour, 0 to 23. @default any */
  readonly hour?: TimePattern;
  /** Minute, 0 to 59. @default any */
  readonly minute?: TimePattern;
  /**
   * IANA time zone in which the fields are read, e.g. `"Europe/Berlin"`; with
   * daylight saving time an hour may occur twice or not at all.
   * @default "UTC"
   */
  readonly timezone?: string;
  /**
   * Picks the date from the message. Without it the message must be a `Date`
   * (as the clock's `minute-passed`).
   * @default the message itself
   */
  readonly date?: (message: T) => Date;
}

const fields = {
  year: { min: -271820, max: 275759, cyclic: false },
  month: { min: 1, max: 12, cyclic: true },
  day: { min: 1, max: 31, cyclic: true },
  weekday: { min: 0, max: 7, cyclic: true },
  hour: { min: 0, max: 23, cyclic: true },
  minute: { min: 0, max: 59, cyclic: true },
} as const;
type Field = keyof typeof fields;
const weekdays: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/**
 * Run the handler only when the message's date matches a cron-like pattern in
 * a time zone; otherwise resolve with `undefined` without calling it (the job
 * succeeds). The companion of `Clock`: several actors can share one
 * `minute-passed` clock and each run at its own times.
 *
 * Each field is a number, a `{ from, to }` range (inclusive; `from > to` wraps
 * around, as `{ from: 22, to: 6 }` for night hours) or a list of both.
 *
 * @example Every weekday at 09:00 in Berlin
 * ```ts
 * import { Actor, filterTime, minutePassed } from "@walnats/walnats";
 *
 * const standup = new Actor(
 *   "remind-standup",
 *   minutePassed,
 *   filterTime({ weekday: { from: 1, to: 5 }, hour: 9, minute: 0, timezone: "Europe/Berlin" })(
 *     (date) => console.log("stand-up!", date),
 *   ),
 * );
 * ```
 *
 * @example Every 15 minutes, and on another event's date
 * ```ts
 * import { filterTime } from "@walnats/walnats";
 *
 * const quarterly = filterTime({ minute: [0, 15, 30, 45] });
 * const atNight = filterTime({
 *   hour: { from: 22, to: 5 },
 *   date: (order: { placedAt: Date }) => order.placedAt,
 * });
 * const handler = atNight((order) => console.log("night order", order.placedAt));
 * ```
 *
 * @typeParam T the message type (`Date` unless `date` picks the date from another type)
 * @param options the pattern, the time zone and how to find the date
 * @returns a decorator for handlers of `T` messages
 * @throws {TypeError} for an unknown option, a non-numeric field or a bad `date`
 * @throws {RangeError} for a value out of its field's bounds, an empty list or an unknown time zone
 */
export function filterTime<T = Date>(options: FilterTimeOptions<T>): SkippingDecorator<T> {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Invalid options of filterTime: expected an object, got ${kind(options)}`);
  }
  const matchers: [Field, (value: number) => boolean][] = [];
  for (const [key, pattern] of Object.entries(options)) {
    if (key === "timezone" || key === "date" || pattern === undefined) continue;
    if (!(key in fields)) {
      throw new TypeError(
        `Invalid option of filterTime: unknown option "${key}" (expected ${
          Object.keys(fields).join(", ")
        }, timezone or date)`,
      );
    }
    matchers.push([key as Field, compilePattern(key as Field, pattern)]);
  }
  const { timezone = "UTC", date: pick } = options;
  if (pick !== undefined && typeof pick !== "function") {
    throw new TypeError(`Invalid date of filterTime: expected a function, got ${kind(pick)}`);
  }
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      year: "numeric",
      month: "numeric",
      day: "numeric",
      weekday: "short",
      hour: "numeric",
      minute: "numeric",
      hourCycle: "h23",
    });
  } catch (cause) {
    throw new RangeError(
      `Invalid timezone of filterTime: ${kind(timezone)} is not an IANA time zone`,
      { cause },
    );
  }

  function matches(message: T): boolean {
    const date = pick ? pick(message) : message;
    if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
      throw new TypeError(
        `filterTime expected ${pick ? "options.date to return" : "the message to be"} a valid ` +
          `Date, got ${kind(date)}${pick ? "" : "; pass options.date to pick it from the message"}`,
      );
    }
    if (matchers.length === 0) return true;
    const parts = dateParts(format, date);
    return matchers.every(([field, match]) =>
      match(parts[field]) || (field === "weekday" && parts.weekday === 0 && match(7))
    );
  }

  return <M extends T, R>(handler: (message: M, job: Job) => R) => {
    checkHandler("filterTime", handler);
    return named(handler, async (message: M, job: Job): Promise<Awaited<R> | undefined> => {
      if (!matches(message)) return undefined;
      return await handler(message, job);
    });
  };
}

function compilePattern(field: Field, pattern: unknown): (value: number) => boolean {
  const { min, max, cyclic } = fields[field];
  const where = `Invalid ${field} of filterTime`;
  const bounds = `an integer from ${min} to ${max}`;
  const value = (v: unknown, what: string): number => {
    if (typeof v !== "number") {
      throw new TypeError(`${where}: ${what} must be ${bounds}, got ${kind(v)}`);
    }
    if (!(Number.isInteger(v) && v >= min && v <= max)) {
      throw new RangeError(`${where}: ${what} must be ${bounds}, got ${v}`);
    }
    return v;
  };
  const one = (item: unknown): (v: number) => boolean => {
    if (typeof item === "object" && item !== null && !Array.isArray(item)) {
      const { from: rawFrom, to: rawTo } = item as Partial<TimeRange>;
      const from = value(rawFrom, "range.from");
      const to = value(rawTo, "range.to");
      if (from <= to) return (v) => v >= from && v <= to;
      if (!cyclic) {
        throw new RangeError(`${where}: range.from (${from}) must not be after range.to (${to})`);
      }
      return (v) => v >= from || v <= to;
    }
    const exact = value(item, "the value");
    return (v) => v === exact;
  };
  if (Array.isArray(pattern)) {
    if (pattern.length === 0) {
      throw new RangeError(`${where}: the list is empty, so nothing would match`);
    }
    const all = pattern.map(one);
    return (v) => all.some((match) => match(v));
  }
  return one(pattern);
}

function dateParts(format: Intl.DateTimeFormat, date: Date): Record<Field, number> {
  const parts = { year: 0, month: 0, day: 0, weekday: 0, hour: 0, minute: 0 };
  for (const part of format.formatToParts(date)) {
    if (part.type === "weekday") parts.weekday = weekdays[part.value] ?? Number.NaN;
    else if (part.type in parts) parts[part.type as Field] = Number(part.value);
  }
  return parts;
}

// ---------------------------------------------------------------------------
// rateLimit

/**
 * Start the handler at most `maxJobs` times per `period` milliseconds in this
 * process (in each worker, for `executeIn: "thread"` or `"process"`); a job
 * beyond the limit waits, in arrival order, until it may start. The window
 * slides: any `period` contains at most `maxJobs` starts. Only starts count,
 * not how long jobs run; limit concurrency with the actor's `maxJobs`.
 *
 * A waiting job holds its job slot, its wait counts toward `jobTimeout`, and
 * pulses keep its message from being redelivered. When `job.signal` aborts,
 * the wait rejects with the signal's reason and the start is not counted.
 * One decorator shares its limit among all handlers it wraps.
 *
 * @example At most 10 SMS per minute
 * ```ts
 * import * as v from "valibot";
 * import { Actor, Event, rateLimit } from "@walnats/walnats";
 *
 * const userCreated = new Event("user-created", v.object({ phone: v.string() }));
 * const sendSms = new Actor(
 *   "send-sms",
 *   userCreated,
 *   rateLimit(10, 60_000)(async (user, job) => {
 *     await fetch("https://sms.example/send", { method: "POST", body: user.phone, signal: job.signal });
 *   }),
 * );
 * ```
 *
 * @param maxJobs handler starts allowed per period, a positive integer
 * @param period the window, in milliseconds, up to 2,147,483,647 (the longest timer the
 *   runtime keeps)
 * @returns a decorator for handlers of any message
 * @throws {RangeError} when `maxJobs` is not a positive integer or `period` not positive
 *   or longer than a timer keeps
 */
export function rateLimit(maxJobs: number, period: number): Decorator {
  if (!(typeof maxJobs === "number" && Number.isSafeInteger(maxJobs) && maxJobs > 0)) {
    throw new RangeError(
      `Invalid maxJobs of rateLimit: must be a positive integer, got ${kind(maxJobs)}`,
    );
  }
  if (!(typeof period === "number" && Number.isFinite(period) && period > 0)) {
    throw new RangeError(
      `Invalid period of rateLimit: must be a positive number of milliseconds, got ${kind(period)}`,
    );
  }
  if (period > MAX_TIMER) {
    throw new RangeError(
      `Invalid period of rateLimit: must be at most ${MAX_TIMER} ms (about 24.8 days, the ` +
        `longest timer the runtime keeps), got ${period}`,
    );
  }
  // Start times, past and reserved, ascending. Each is at least `period` after
  // the one `maxJobs` places before it: reserving spaces the waiters out in order.
  const starts: number[] = [];
  // When jobs really started, ascending. A timer may fire late for one waiter and
  // on time for a later one, so a reserved time is checked against these on waking.
  const started: number[] = [];

  function prune(list: number[], now: number): void {
    while (list.length > 0 && list[0]! <= now - period) list.shift();
  }

  async function acquire(signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    let now = Date.now();
    prune(starts, now);
    const at = starts.length < maxJobs
      ? now
      : Math.max(now, starts[starts.length - maxJobs]! + period);
    starts.push(at);
    try {
      if (at > now) await delay(at - now, signal);
      for (;;) {
        now = Date.now();
        prune(started, now);
        if (started.length < maxJobs) break;
        const free = started[started.length - maxJobs]! + period;
        if (free <= now) break;
        await delay(free - now, signal);
      }
    } catch (error) {
      // Later reservations were computed with this one in place; dropping it
      // only makes them conservative, never too early.
      const index = starts.indexOf(at);
      if (index >= 0) starts.splice(index, 1);
      throw error;
    }
    started.push(now);
  }

  return <M, R>(handler: (message: M, job: Job) => R) => {
    checkHandler("rateLimit", handler);
    return named(handler, async (message: M, job: Job): Promise<Awaited<R>> => {
      await acquire(job?.signal);
      return await handler(message, job);
    });
  };
}

// ---------------------------------------------------------------------------
// requireThat

/**
 * Options of {@linkcode requireThat}.
 *
 * @example Wait for a condition, checking every 5 seconds
 * ```ts
 * import { requireThat } from "@walnats/walnats";
 *
 * const whenPaid = requireThat((order: { paid: boolean }) => order.paid, { pause: 5000 });
 * ```
 */
export interface RequireThatOptions {
  /**
   * Milliseconds between two checks of the predicate, up to 2,147,483,647 (the longest
   * timer the runtime keeps). @default 1000
   */
  readonly pause?: number;
}

/**
 * Run the handler only once the predicate holds: check it, and while it is
 * false wait `pause` milliseconds and check again. Use it to hold jobs until a
 * dependency is ready (a database connection, a feature flag). The predicate
 * gets the message and the job and may be async; if it throws, the job fails
 * (and is retried).
 *
 * Named `requireThat` rather than `require` so it does not shadow CommonJS'
 * `require` (in Node.js and Bun modules, and bundler output). The wait holds
 * the job slot and counts toward `jobTimeout`; when `job.signal` aborts, it
 * rejects with the signal's reason.
 *
 * @example Wait for the database
 * ```ts
 * import * as v from "valibot";
 * import { Actor, Event, requireThat } from "@walnats/walnats";
 *
 * const db = { connected: false };
 * const userCreated = new Event("user-created", v.object({ id: v.number() }));
 * const saveUser = new Actor(
 *   "save-user",
 *   userCreated,
 *   requireThat(() => db.connected, { pause: 500 })(async (user) => {
 *     console.log("saving", user.id);
 *   }),
 * );
 * ```
 *
 * @typeParam T the message type the predicate reads (`unknown` when it ignores the message)
 * @param predicate holds when the handler may run
 * @param options how long to pause between checks
 * @returns a decorator for handlers of `T` messages
 * @throws {TypeError} when `predicate` is not a function
 * @throws {RangeError} when `pause` is not a positive number
 */
export function requireThat<T = unknown>(
  predicate: (message: T, job: Job) => boolean | Promise<boolean>,
  options: RequireThatOptions = {},
): Decorator<T> {
  if (typeof predicate !== "function") {
    throw new TypeError(
      `Invalid predicate of requireThat: expected a function, got ${kind(predicate)}`,
    );
  }
  const { pause = 1000 } = options;
  if (!(typeof pause === "number" && Number.isFinite(pause) && pause > 0)) {
    throw new RangeError(
      `Invalid pause of requireThat: must be a positive number of milliseconds, got ${kind(pause)}`,
    );
  }
  if (pause > MAX_TIMER) {
    throw new RangeError(
      `Invalid pause of requireThat: must be at most ${MAX_TIMER} ms (about 24.8 days, the ` +
        `longest timer the runtime keeps), got ${pause}`,
    );
  }
  return <M extends T, R>(handler: (message: M, job: Job) => R) => {
    checkHandler("requireThat", handler);
    return named(handler, async (message: M, job: Job): Promise<Awaited<R>> => {
      const signal = job?.signal;
      signal?.throwIfAborted();
      while (!await predicate(message, job)) await delay(pause, signal);
      return await handler(message, job);
    });
  };
}

// ---------------------------------------------------------------------------
// suppress

/**
 * A class of errors to catch (anything `instanceof` works with).
 *
 * @example Errors to suppress
 * ```ts
 * import { type ErrorClass, suppress } from "@walnats/walnats";
 *
 * const expected: ErrorClass[] = [TypeError, RangeError];
 * const quiet = suppress(...expected);
 * ```
 */
export type ErrorClass = abstract new (...args: never[]) => unknown;

/**
 * Options of {@linkcode suppress}.
 *
 * @example Log suppressed errors to your logger
 * ```ts
 * import { suppress } from "@walnats/walnats";
 *
 * const ignoreTypeErrors = suppress(TypeError, { logger: console });
 * ```
 */
export interface SuppressOptions {
  /** Where suppressed errors are reported (as warnings). @default the console */
  readonly logger?: Logger;
}

/**
 * Swallow the listed errors: when the handler throws one of them (`instanceof`),
 * log it as a warning and resolve with `undefined`, so the job succeeds and is
 * not retried. Other errors are rethrown. Use it for errors that retrying cannot
 * fix, when the message should simply be dropped (to keep it, throw
 * `UnrecoverableError` instead: it goes to the dead letters).
 *
 * The job's own abort (its `signal`'s reason on timeout or shutdown) is always
 * rethrown, so a shutdown cannot make an interrupted job look successful.
 *
 * @example Drop updates of deleted users
 * ```ts
 * import * as v from "valibot";
 * import { Actor, Event, suppress } from "@walnats/walnats";
 *
 * class NotFoundError extends Error {}
 * const userUpdated = new Event("user-updated", v.object({ id: v.number() }));
 * const syncUser = new Actor(
 *   "sync-user",
 *   userUpdated,
 *   suppress(NotFoundError, SyntaxError)(async (user) => {
 *     throw new NotFoundError(`user ${user.id}`);
 *   }),
 * );
 * ```
 *
 * @param errors the error classes to swallow, at least one
 * @returns a decorator for handlers of any message
 * @throws {TypeError} when no class is given or an argument is not a class
 */
export function suppress(...errors: ErrorClass[]): SkippingDecorator;
/**
 * Swallow the listed errors and log them to the given logger.
 *
 * @example Log suppressed errors with your logger
 * ```ts
 * import { type Logger, suppress } from "@walnats/walnats";
 *
 * const logger: Logger = { error: console.error, warn: console.warn, info: console.info };
 * const dropBadInput = suppress(SyntaxError, RangeError, { logger });
 * ```
 *
 * @param args the error classes to swallow (at least one), then the options
 * @returns a decorator for handlers of any message
 * @throws {TypeError} when no class is given or an argument is not a class
 */
export function suppress(
  ...args: [...errors: ErrorClass[], options: SuppressOptions]
): SkippingDecorator;
export function suppress(...args: (ErrorClass | SuppressOptions)[]): SkippingDecorator {
  const last = args.at(-1);
  const options: SuppressOptions = typeof last === "object" && last !== null
    ? args.pop() as SuppressOptions
    : {};
  const classes = args as ErrorClass[];
  if (classes.length === 0) {
    throw new TypeError("Invalid arguments of suppress: expected at least one error class");
  }
  classes.forEach((cls, i) => {
    if (typeof cls !== "function") {
      throw new TypeError(
        `Invalid argument ${i + 1} of suppress: expected an error class, got ${kind(cls)}`,
      );
    }
  });
  const { logger = consoleLogger } = options;
  if (typeof logger?.warn !== "function") {
    throw new TypeError(`Invalid logger of suppress: expected a Logger, got ${kind(logger)}`);
  }
  return <M, R>(handler: (message: M, job: Job) => R) => {
    checkHandler("suppress", handler);
    return named(handler, async (message: M, job: Job): Promise<Awaited<R> | undefined> => {
      try {
        return await handler(message, job);
      } catch (error) {
        const aborted = job?.signal?.aborted && error === job.signal.reason;
        if (aborted || !classes.some((cls) => error instanceof cls)) throw error;
        const name = (error as Error)?.name ?? kind(error);
        logger.warn(`Suppressed ${name} in handler ${handler.name || "(anonymous)"}`, {
          handler: handler.name || undefined,
          error,
          attempt: job?.attempt,
          traceId: job?.traceId,
        });
        return undefined;
      }
    });
  };
}

// ---------------------------------------------------------------------------
// helpers

function checkHandler(decorator: string, handler: unknown): void {
  if (typeof handler !== "function") {
    throw new TypeError(
      `Invalid handler for ${decorator}: expected a function, got ${kind(handler)}`,
    );
  }
}

/** Give the wrapper the handler's name, for logs and stack traces. */
function named<F extends (...args: never[]) => unknown>(handler: { name: string }, wrapper: F): F {
  Object.defineProperty(wrapper, "name", { value: handler.name, configurable: true });
  return wrapper;
}

/** Wait `ms`; reject with the signal's reason when it aborts. */
async function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (!await sleep(ms, signal)) throw signal!.reason;
}

function kind(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "function") return `function ${value.name || "(anonymous)"}`;
  if (typeof value === "object") return value.constructor?.name ?? "an object";
  return typeof value;
}
