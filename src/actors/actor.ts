/**
 * The `Actor` declaration: an event, a handler and how to run it.
 *
 * @module
 */
import { checkDuration, MAX_SERVER_DURATION, MAX_TIMER } from "../_duration.ts";
import { checkDescription, checkName } from "../_names.ts";
import type { Event } from "../events/event.ts";
import type { Job, JobMetadata } from "./job.ts";
import { Priority } from "./priority.ts";
import { isWorkerHandler, type WorkerHandler } from "./workers/worker_handler.ts";
import { type DeadLetter, deadLetterEvent, type DeadLetterReason } from "./dead_letter.ts";

/**
 * Where the handler runs. `"thread"` and `"process"` need a worker handler
 * ({@linkcode workerHandler}): a function cannot be sent to a worker, a module URL can.
 *
 * @example A CPU-bound actor in worker processes
 * ```ts ignore
 * import { Actor, ExecuteIn, workerHandler } from "@walnats/walnats";
 * import { dayPassed } from "./events.ts";
 *
 * export const dailyReport = new Actor(
 *   "daily-report",
 *   dayPassed,
 *   workerHandler<typeof import("./jobs.ts"), "dailyReport">(
 *     new URL("./jobs.ts", import.meta.url),
 *     "dailyReport",
 *   ),
 *   { executeIn: ExecuteIn.PROCESS },
 * );
 * ```
 */
export const ExecuteIn = {
  /**
   * On the event loop of the listener: async handlers, or sync ones that are fast.
   * A worker handler is imported into the listener.
   */
  MAIN: "main",
  /**
   * In a pool of long-lived Web Workers (`listen({ maxThreads })`), for handlers that
   * block. The job's signal is mirrored into the worker: an async handler sees it abort,
   * and a blocking one sees `signal.aborted` turn true when it polls it. A handler that
   * ignores it keeps its worker until it returns (a Web Worker cannot be stopped from
   * outside reliably: Deno's `terminate()` does not stop one that is busy in JavaScript),
   * so code that may never return belongs in `"process"`.
   */
  THREAD: "thread",
  /**
   * In a pool of worker processes of the same runtime (`listen({ maxProcesses })`), for
   * CPU-bound handlers: on `jobTimeout` (and on shutdown after the grace period) the
   * process is killed, so even a busy loop stops; a process that crashes or runs out of
   * memory fails only its job. Either way the job is retried and another process takes
   * the next job. Processes get the listener's environment, working directory and
   * unrestricted permissions (`listen({ processArgs })` adds runtime flags); under Deno
   * the listener needs `--allow-run` and `--allow-env` to start them.
   */
  PROCESS: "process",
} as const;
/** Where the handler runs: `"main"`, `"thread"` or `"process"`. */
export type ExecuteIn = typeof ExecuteIn[keyof typeof ExecuteIn];

/**
 * A handler: gets the message (and the job) and returns the response, if the event has one.
 *
 * @example A typed handler
 * ```ts
 * import type { Handler } from "@walnats/walnats";
 *
 * const sendWelcome: Handler<{ email: string }, never> = async (user, job) => {
 *   const init = { method: "POST", body: user.email, signal: job.signal };
 *   await fetch("https://mail.example/send", init);
 * };
 * ```
 */
export type Handler<T, R> = (message: T, job: Job) => HandlerResult<R>;
/**
 * What an actor runs: a function, or a worker handler (module URL + export name) whose
 * exported function is checked like a plain handler.
 *
 * @example A handler given to an actor
 * ```ts
 * import type { ActorHandler } from "@walnats/walnats";
 *
 * const handler: ActorHandler<{ id: number }, never> = (message) => console.log(message.id);
 * ```
 */
export type ActorHandler<T, R> = Handler<T, R> | WorkerHandler<Handler<T, R>>;
/**
 * What a handler returns: the response type for request/response events, anything otherwise.
 *
 * @example What a request/response handler returns
 * ```ts
 * import type { HandlerResult } from "@walnats/walnats";
 *
 * const price: HandlerResult<number> = Promise.resolve(42); // number | Promise<number>
 * ```
 */
export type HandlerResult<R> = [R] extends [never] ? unknown : R | Promise<R>;

/**
 * Context given to every middleware hook.
 *
 * @example Log every job start
 * ```ts
 * import type { Context, Middleware } from "@walnats/walnats";
 *
 * const logStart: Middleware = {
 *   onStart(context: Context) {
 *     console.info(`${context.actor.name}: attempt ${context.attempts}`, context.message);
 *   },
 * };
 * ```
 */
export interface Context {
  /** The actor handling the message. */
  readonly actor: Actor<unknown, unknown>;
  /** The decoded message; `undefined` when it could not be decoded. */
  readonly message: unknown;
  /** Delivery facts. */
  readonly metadata: JobMetadata;
  /** The attempt, from 1 (delayed redeliveries not counted). */
  readonly attempts: number;
  /** The `Walnats-Trace` header. */
  readonly traceId: string | undefined;
}

/**
 * Context of `onFailure`.
 *
 * @example Log failures
 * ```ts
 * import type { FailureContext, Middleware } from "@walnats/walnats";
 *
 * const logFailures: Middleware = {
 *   onFailure(context: FailureContext) {
 *     console.error(`${context.actor.name} failed`, context.error);
 *   },
 * };
 * ```
 */
export interface FailureContext extends Context {
  /** Why the job failed. */
  readonly error: unknown;
  /**
   * Set when the message was given up on (terminated): why, and what became of its copy:
   * `stored` in the actor's dead-letter event, `lost` when it can never be stored (too
   * large for the server or the stream, or no dead-letter stream can be created; an
   * error line says why), `off` with `deadLetters: false`. `undefined` when the message
   * will be retried.
   */
  readonly terminated?: Termination;
}

/**
 * How a message was given up on, in {@linkcode FailureContext.terminated}.
 *
 * @example Count messages terminated without a dead letter
 * ```ts
 * import type { FailureContext, Middleware } from "@walnats/walnats";
 *
 * let lost = 0;
 * const countLost: Middleware = {
 *   onFailure({ terminated }: FailureContext) {
 *     if (terminated?.deadLetter === "lost") lost++;
 *   },
 * };
 * ```
 */
export interface Termination {
  /** Why the message was given up on. */
  readonly reason: DeadLetterReason;
  /** What became of its dead letter. */
  readonly deadLetter: "stored" | "lost" | "off";
}

/**
 * Context of `onSuccess`.
 *
 * @example Report slow jobs
 * ```ts
 * import type { Middleware, SuccessContext } from "@walnats/walnats";
 *
 * const slowJobs: Middleware = {
 *   onSuccess(context: SuccessContext) {
 *     if (context.duration > 1000) console.warn(`${context.actor.name} is slow`);
 *   },
 * };
 * ```
 */
export interface SuccessContext extends Context {
  /** How long the handler ran, in milliseconds. */
  readonly duration: number;
}

/**
 * Hooks around each job, for logs, metrics and alerts (not flow control).
 * They may be async; they never delay the ack or the next job, and an error
 * thrown in a hook is logged, not propagated.
 *
 * @example A middleware that times jobs
 * ```ts
 * import type { Middleware } from "@walnats/walnats";
 *
 * const timing: Middleware = {
 *   onSuccess: ({ actor, duration }) => console.info(`${actor.name} took ${duration} ms`),
 *   onFailure: ({ actor, error }) => console.error(`${actor.name} failed`, error),
 * };
 * ```
 */
export interface Middleware {
  /** Before the handler starts. */
  onStart?(context: Context): void | Promise<void>;
  /** After the handler failed (or the message could not be decoded). */
  onFailure?(context: FailureContext): void | Promise<void>;
  /** After the handler succeeded and the message was acked. */
  onSuccess?(context: SuccessContext): void | Promise<void>;
}

/**
 * Options of {@linkcode Actor}. All durations are milliseconds.
 *
 * @example Retry five times, slowly
 * ```ts
 * import type { ActorOptions } from "@walnats/walnats";
 *
 * const options: ActorOptions = { maxAttempts: 5, jobTimeout: 10_000, retryDelay: [1000, 5000] };
 * ```
 */
export interface ActorOptions {
  /** Stored with the consumer in the server. */
  readonly description?: string;
  /**
   * Redeliver a message when no ack or pulse arrived for this long (server-side), ms:
   * from 1 up to 9,223,372,036,854 (the server's int64 nanoseconds).
   * @default 16000
   */
  readonly ackWait?: number;
  /** Give up (terminate) after this many failed attempts. @default unlimited */
  readonly maxAttempts?: number;
  /** Messages in progress at once across all instances (server-side). @default 1000 */
  readonly maxAckPending?: number;
  /** Hooks around each job. @default [] */
  readonly middlewares?: readonly Middleware[];
  /** Jobs of this actor running at once in this process. @default 16 */
  readonly maxJobs?: number | undefined;
  /**
   * Abort the job (its `signal`) and fail it after this long, ms: up to 2,147,483,647
   * (about 24.8 days, the longest timer the runtime keeps), or `Infinity` for no timeout
   * (the job runs until it ends or the listener shuts down; pulses keep its message).
   * @default 32000
   */
  readonly jobTimeout?: number;
  /**
   * Where the handler runs: `"main"`, `"thread"` (Web Workers) or `"process"` (worker
   * processes); the last two need a worker handler. See {@linkcode ExecuteIn}.
   * @default "main"
   */
  readonly executeIn?: ExecuteIn;
  /**
   * Delay before each retry, ms: the first retry waits `retryDelay[0]`, later ones the
   * next item, then the last one. Each from 0 up to 9,223,372,036,854 (the server's
   * int64 nanoseconds). @default [500, 1000, 2000, 4000]
   */
  readonly retryDelay?: readonly number[];
  /** Send an in-progress ack every `ackWait / 2` while the handler runs. @default true */
  readonly pulse?: boolean;
  /** Order in which actors get a global job slot. @default Priority.NORMAL */
  readonly priority?: Priority | undefined;
  /**
   * Copy every message this actor gives up on (last attempt failed, `UnrecoverableError`,
   * undecodable payload, invalid response) to its dead-letter event
   * ({@linkcode Actor.deadLetters}) before terminating it. `false` terminates without a copy.
   * @default true
   */
  readonly deadLetters?: boolean;
}

/**
 * An actor: a durable JetStream consumer of one event bound to a handler.
 * Exactly one instance of an actor handles each message, however many run.
 *
 * @example Declare an actor
 * ```ts
 * import * as v from "valibot";
 * import { Actor, Event, Priority } from "@walnats/walnats";
 *
 * const userCreated = new Event("user-created", v.object({ email: v.string() }));
 * const sendWelcome = new Actor("send-welcome", userCreated, async (user, job) => {
 *   const init = { method: "POST", body: user.email, signal: job.signal };
 *   await fetch("https://mail.example/send", init);
 * }, { maxAttempts: 5, priority: Priority.HIGH });
 * ```
 *
 * @typeParam T the event's message type
 * @typeParam R the event's response type (`never` for plain events)
 */
export class Actor<T, R = never> {
  /** The actor name, also the durable consumer name. */
  readonly name: string;
  /** The event it listens to. */
  readonly event: Event<T, R>;
  /** The handler: a function, or a worker handler (module URL + export name). */
  readonly handler: ActorHandler<T, R>;
  /** Description stored with the consumer. */
  readonly description: string | undefined;
  /** Milliseconds without ack or pulse before the server redelivers. */
  readonly ackWait: number;
  /** Attempts before the message is terminated; `undefined` = unlimited. */
  readonly maxAttempts: number | undefined;
  /** Messages in progress at once across all instances. */
  readonly maxAckPending: number;
  /** Hooks around each job. */
  readonly middlewares: readonly Middleware[];
  /** Jobs of this actor at once in this process. */
  readonly maxJobs: number;
  /** Milliseconds before a job is aborted and failed. */
  readonly jobTimeout: number;
  /** Where the handler runs. */
  readonly executeIn: ExecuteIn;
  /** Milliseconds to wait before each retry. */
  readonly retryDelay: readonly number[];
  /** Whether an in-progress ack is sent while the handler runs. */
  readonly pulse: boolean;
  /** Global slot priority. */
  readonly priority: Priority;
  /**
   * The event that receives a copy of each message this actor gives up on, with why
   * ({@linkcode DeadLetter}): subject `dead-letter.<event>.<actor>`. An ordinary event:
   * another actor may listen to it. `undefined` when the option `deadLetters` is `false`.
   */
  readonly deadLetters: Event<DeadLetter> | undefined;

  /**
   * Declare an actor.
   *
   * @param name kebab-case, unique among the actors of the event; the consumer name
   * @param event the event to handle
   * @param handler the function called for each message, or a worker handler
   *   ({@linkcode workerHandler}) for `executeIn: "thread"` / `"process"`
   * @param options limits, retries, timeouts, priority, middlewares
   * @throws {TypeError} for an invalid name, description or option type, and for a
   *   plain function with `executeIn` other than `"main"`
   * @throws {RangeError} for a non-positive number where one is required, and a duration
   *   the runtime or the server cannot keep
   */
  constructor(
    name: string,
    event: Event<T, R>,
    handler: Handler<T, NoInfer<R>> | WorkerHandler<Handler<NoInfer<T>, NoInfer<R>>>,
    options: ActorOptions = {},
  ) {
    checkName("actor", name, false);
    const where = `Invalid option of actor "${name}"`;
    if (!event || typeof event.name !== "string" || !event.serializer) {
      throw new TypeError(`Invalid event of actor "${name}": expected an Event`);
    }
    if (typeof handler !== "function" && !isWorkerHandler(handler)) {
      throw new TypeError(
        `Invalid handler of actor "${name}": expected a function or a worker handler`,
      );
    }
    checkDescription("actor", name, options.description);
    const positive = (key: string, value: number | undefined) => {
      if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) {
        throw new RangeError(`${where}: ${key} must be a positive integer, got ${value}`);
      }
    };
    // The server keeps ackWait and retry delays (nak) as int64 nanoseconds; jobTimeout
    // is a timer of this process.
    checkDuration(where, "ackWait", options.ackWait, { min: 1, max: MAX_SERVER_DURATION });
    positive("maxAttempts", options.maxAttempts);
    positive("maxAckPending", options.maxAckPending);
    positive("maxJobs", options.maxJobs);
    checkDuration(where, "jobTimeout", options.jobTimeout, {
      max: MAX_TIMER,
      infinity: "no timeout",
    });
    const retryDelay = options.retryDelay ?? [500, 1000, 2000, 4000];
    if (!Array.isArray(retryDelay) || retryDelay.length === 0) {
      throw new TypeError(`${where}: retryDelay must be a non-empty array of milliseconds`);
    }
    for (const delay of retryDelay) {
      checkDuration(where, "retryDelay items", delay, { min: 0, max: MAX_SERVER_DURATION });
    }
    const executeIn = options.executeIn ?? ExecuteIn.MAIN;
    if (!Object.values(ExecuteIn).includes(executeIn)) {
      throw new TypeError(
        `${where}: executeIn must be "main", "thread" or "process", got ${executeIn}`,
      );
    }
    if (executeIn !== ExecuteIn.MAIN && !isWorkerHandler(handler)) {
      throw new TypeError(
        `Invalid handler of actor "${name}": executeIn "${executeIn}" needs a worker handler, ` +
          "not a plain function (a function cannot be sent to a worker); export it from a " +
          'module and pass workerHandler(new URL("./jobs.ts", import.meta.url), "exportName")',
      );
    }
    const priority = options.priority ?? Priority.NORMAL;
    if (!Object.values(Priority).includes(priority)) {
      throw new TypeError(
        `${where}: priority must be Priority.HIGH, NORMAL or LOW, got ${priority}`,
      );
    }
    this.name = name;
    this.event = event;
    this.handler = handler;
    this.description = options.description;
    this.ackWait = options.ackWait ?? 16_000;
    this.maxAttempts = options.maxAttempts;
    this.maxAckPending = options.maxAckPending ?? 1000;
    this.middlewares = Object.freeze([...(options.middlewares ?? [])]);
    this.maxJobs = options.maxJobs ?? 16;
    this.jobTimeout = options.jobTimeout ?? 32_000;
    this.executeIn = executeIn;
    this.retryDelay = Object.freeze([...retryDelay]);
    this.pulse = options.pulse ?? true;
    this.priority = priority;
    this.deadLetters = options.deadLetters === false
      ? undefined
      : deadLetterEvent(event.name, name);
    Object.freeze(this);
  }

  /** The durable consumer name in JetStream (the actor name). */
  get consumerName(): string {
    return this.name;
  }

  /**
   * The delay before the retry that follows a failed attempt.
   * @param attempt the attempt that failed, from 1
   * @returns milliseconds
   */
  retryDelayAfter(attempt: number): number {
    const i = Math.min(Math.max(attempt - 1, 0), this.retryDelay.length - 1);
    return this.retryDelay[i]!; // non-empty, checked in the constructor
  }
}
