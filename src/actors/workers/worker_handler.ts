/**
 * Worker handlers: a handler named by module URL and export name, so that a Web
 * Worker or a worker process can import it (functions cannot be sent to a worker).
 * The types still flow from the event, through the exported function's signature.
 *
 * @module
 */
import type { Job } from "../job.ts";

/** Marks worker handlers at run time (shared by every copy of walnats in a process). */
const brand: unique symbol = Symbol.for("walnats.WorkerHandler") as never;

/**
 * A function that can serve as a handler: `(message, job) => result`.
 *
 * @example Accept any handler
 * ```ts
 * import type { AnyHandler } from "@walnats/walnats";
 *
 * const handlers: Record<string, AnyHandler> = { resize: (url: string) => console.log(url) };
 * ```
 */
// deno-lint-ignore no-explicit-any
export type AnyHandler = (message: any, job: Job) => unknown;

/**
 * The names of the exports of module `M` that are functions.
 *
 * @example The handler exports of a module
 * ```ts
 * import type { Job, WorkerExport } from "@walnats/walnats";
 *
 * type Jobs = { resize(url: string, job: Job): Promise<void>; VERSION: string };
 * const name: WorkerExport<Jobs> = "resize"; // "VERSION" is not a handler
 * ```
 */
export type WorkerExport<M> =
  & {
    [K in keyof M]: M[K] extends AnyHandler ? K : never;
  }[keyof M]
  & string;

/**
 * A handler that lives in a module and runs where its actor's `executeIn` says:
 * in a Web Worker (`"thread"`), in a worker process (`"process"`), or imported
 * into the listener (`"main"`). Made by {@linkcode workerHandler} or
 * {@linkcode workerModule}.
 *
 * @example A handler that runs in a worker
 * ```ts
 * import { type WorkerHandler, workerHandler } from "@walnats/walnats";
 *
 * type Jobs = { resize(url: string): Promise<void> };
 * const resize: WorkerHandler = workerHandler<Jobs, "resize">(
 *   new URL("./jobs.ts", import.meta.url),
 *   "resize",
 * );
 * ```
 *
 * @typeParam F the exported function's type; the actor checks it like a plain handler
 */
export interface WorkerHandler<F extends AnyHandler = AnyHandler> {
  /** The module's absolute URL (`file:`, `https:`, …). */
  readonly module: string;
  /** The name of the exported function. */
  readonly name: string;
  /** Type-level only: the exported function's signature. Always `undefined` at run time. */
  readonly signature?: F;
}

/**
 * A worker module: makes {@linkcode WorkerHandler}s for its exported functions.
 *
 * @example Several handlers of one module
 * ```ts
 * import { type WorkerModule, workerModule } from "@walnats/walnats";
 *
 * type Jobs = { resize(url: string): Promise<void>; crop(url: string): Promise<void> };
 * const jobs: WorkerModule<Jobs> = workerModule<Jobs>(new URL("./jobs.ts", import.meta.url));
 * const resize = jobs.handler("resize");
 * ```
 */
export interface WorkerModule<M> {
  /** The module's absolute URL. */
  readonly url: string;
  /**
   * A handler for one exported function of the module.
   * @param name the export's name (checked against the module's type)
   * @returns the worker handler
   */
  handler<K extends WorkerExport<M>>(name: K): WorkerHandler<Extract<M[K], AnyHandler>>;
}

/**
 * Name a handler by module URL and export name, for actors that run in Web Workers
 * (`executeIn: "thread"`) or worker processes (`executeIn: "process"`). The worker
 * imports the module and calls the export with the decoded message and a
 * {@linkcode Job}; give the module's type as `M` so that the actor checks the
 * export against its event like a plain handler.
 *
 * The module is loaded only in workers (and in the listener for `executeIn: "main"`),
 * so keep the export and what it imports free of listener state: it gets the
 * message, not the connection. Every worker imports the module, so it should do
 * nothing at top level but declare (a program's entry module can serve if its work is
 * behind `if (import.meta.main)`). The message reaches the worker as a structured
 * clone of the decoded, validated message (class instances arrive as plain objects),
 * and the return value comes back the same way.
 *
 * @example A CPU-bound actor in worker processes
 * ```ts ignore
 * // jobs.ts
 * export function thumbnail(image: Uint8Array): Uint8Array {
 *   return image.subarray(0, 64); // stands for real work
 * }
 *
 * // actors.ts
 * import { Actor, bytes, Event, workerHandler } from "@walnats/walnats";
 *
 * const imageUploaded = new Event("image-uploaded", bytes());
 * export const makeThumbnail = new Actor(
 *   "make-thumbnail",
 *   imageUploaded,
 *   workerHandler<typeof import("./jobs.ts"), "thumbnail">(
 *     new URL("./jobs.ts", import.meta.url),
 *     "thumbnail",
 *   ),
 *   { executeIn: "process", jobTimeout: 10_000 },
 * );
 * ```
 *
 * @typeParam M the module's type: `typeof import("./jobs.ts")`
 * @typeParam K the export's name
 * @param module the module's absolute URL, usually `new URL("./jobs.ts", import.meta.url)`
 * @param name the name of the exported function
 * @returns a worker handler to give to `new Actor(…)`
 * @throws {TypeError} when the URL is not absolute or the name is empty
 */
export function workerHandler<M, K extends WorkerExport<M>>(
  module: URL | string,
  name: K,
): WorkerHandler<Extract<M[K], AnyHandler>> {
  const url = moduleUrl(module);
  if (typeof name !== "string" || name === "") {
    throw new TypeError(
      `Invalid export name of worker module "${url}": expected a non-empty string, got ${
        String(name)
      }`,
    );
  }
  return Object.freeze({ module: url, name, [brand]: true }) as WorkerHandler<
    Extract<M[K], AnyHandler>
  >;
}

/**
 * A worker module with several handlers: the URL once, export names checked and
 * completed from the module's type.
 *
 * @example Two actors from one module
 * ```ts ignore
 * import { Actor, workerModule } from "@walnats/walnats";
 * import { pageRequested, reportDue } from "./events.ts";
 *
 * const jobs = workerModule<typeof import("./jobs.ts")>(new URL("./jobs.ts", import.meta.url));
 * export const render = new Actor("render", pageRequested, jobs.handler("render"), {
 *   executeIn: "thread",
 * });
 * export const report = new Actor("report", reportDue, jobs.handler("report"), {
 *   executeIn: "process",
 * });
 * ```
 *
 * @typeParam M the module's type: `typeof import("./jobs.ts")`
 * @param module the module's absolute URL
 * @returns a factory of worker handlers for the module's exports
 * @throws {TypeError} when the URL is not absolute
 */
export function workerModule<M>(module: URL | string): WorkerModule<M> {
  const url = moduleUrl(module);
  return Object.freeze({
    url,
    handler<K extends WorkerExport<M>>(name: K): WorkerHandler<Extract<M[K], AnyHandler>> {
      return workerHandler<M, K>(url, name);
    },
  });
}

/**
 * Whether `value` was made by {@linkcode workerHandler} or {@linkcode workerModule}.
 * @param value anything
 * @returns true for a worker handler
 */
export function isWorkerHandler(value: unknown): value is WorkerHandler {
  return typeof value === "object" && value !== null &&
    (value as Record<symbol, unknown>)[brand] === true;
}

function moduleUrl(module: URL | string): string {
  if (module instanceof URL) return module.href;
  if (typeof module === "string" && URL.canParse(module)) return new URL(module).href;
  throw new TypeError(
    `Invalid worker module ${
      JSON.stringify(String(module))
    }: expected an absolute URL, e.g. new URL("./jobs.ts", import.meta.url)`,
  );
}
