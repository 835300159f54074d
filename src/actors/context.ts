/**
 * The job scope: the async context in which a handler runs, so that code called
 * by the handler can find its job (`CurrentContext`) and middlewares can wrap the
 * call (`aroundJob`, used by the OpenTelemetry middleware to make the consumer
 * span active).
 *
 * One module-level `AsyncLocalStorage` (node:async_hooks, available in Deno and
 * Bun) holds the scope; it is the only state of this module and holds nothing
 * outside a handler call.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { MessageHeaders } from "../headers.ts";
import type { Context, Middleware } from "./actor.ts";

export type { MessageHeaders };

/**
 * What the job scope knows about the running job.
 *
 * @example Read a header of the running job
 * ```ts
 * import type { AroundJob, JobScope } from "@walnats/walnats";
 *
 * const tenants: AroundJob = {
 *   async aroundJob(scope: JobScope, next) {
 *     console.info("tenant", scope.headers?.get("X-Tenant"));
 *     await next();
 *   },
 * };
 * ```
 */
export interface JobScope {
  /** The context also given to the middlewares' hooks. */
  readonly context: Context;
  /** The delivered message's headers (`undefined` when it had none). */
  readonly headers: MessageHeaders | undefined;
}

/**
 * An optional member of a middleware: wraps the handler call of each job, inside
 * the job scope. It must call `next` once and await it; what it returns is ignored
 * (a wrapper cannot change the outcome). When it throws before calling `next`, the
 * handler is called anyway and the error is reported to the listener's logger.
 *
 * Used by integrations that must put something in the async context of the handler,
 * such as an active tracing span. It runs only for jobs whose message was decoded.
 *
 * @example Time each handler call
 * ```ts
 * import type { AroundJob, Middleware } from "@walnats/walnats";
 *
 * const timing: Middleware & AroundJob = {
 *   async aroundJob(scope, next) {
 *     const start = performance.now();
 *     await next();
 *     console.info(scope.context.actor.name, performance.now() - start);
 *   },
 * };
 * ```
 */
export interface AroundJob {
  /**
   * Wrap one handler call.
   *
   * @param scope the running job
   * @param next calls the handler; resolves when it has finished (never rejects)
   */
  aroundJob(scope: JobScope, next: () => Promise<void>): unknown;
}

const storage = new AsyncLocalStorage<JobScope>();

/** The running job, when called (directly or through awaits) from a handler. */
export function currentJob(): JobScope | undefined {
  return storage.getStore();
}

/**
 * Run the handler call `run` inside the job scope, through the `aroundJob`
 * wrappers of the actor's middlewares (first middleware outermost).
 *
 * @param scope the job's context and headers
 * @param run calls the handler; must not reject
 * @param report told about a wrapper that failed
 * @returns what `run` returned
 */
export function jobScope<T>(
  scope: JobScope,
  run: () => Promise<T>,
  report: (error: unknown) => void,
): Promise<T> {
  const wrappers = scope.context.actor.middlewares.filter(hasAroundJob);
  return storage.run(scope, async () => {
    let result: { value: T } | undefined;
    let call = async () => {
      result = { value: await run() };
    };
    for (const wrapper of wrappers.toReversed()) {
      const inner = call;
      call = async () => {
        let called: Promise<void> | undefined;
        const next = () => (called ??= inner());
        try {
          await wrapper.aroundJob(scope, next);
        } catch (error) {
          report(error);
        }
        await next();
      };
    }
    await call();
    return result!.value;
  });
}

function hasAroundJob(middleware: Middleware): middleware is Middleware & AroundJob {
  return typeof (middleware as Partial<AroundJob>).aroundJob === "function";
}
