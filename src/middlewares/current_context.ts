/**
 * `CurrentContext`: the running job's context, readable from anywhere the handler calls.
 *
 * @module
 */
import type { Context, Middleware } from "../actors/actor.ts";
import { currentJob, type MessageHeaders } from "../actors/context.ts";

/**
 * Gives code called by a handler (loggers, database wrappers, outgoing calls) the
 * context of the job it runs in, without passing it down: actor, message, attempt,
 * delivery metadata and trace id. It reads the job scope the listener opens around
 * every handler call (an `AsyncLocalStorage` from `node:async_hooks`), so it works
 * across `await`s and timers, in Deno and in Bun.
 *
 * Add it to the actor's middlewares: the listener opens the job scope only for actors
 * that have middlewares (an actor without them saves that cost). Outside a handler call (and
 * in handlers that run in a worker, `executeIn: "thread" | "process"`) there is no
 * current job: `context` is `undefined` and `get()` throws.
 *
 * @example Read the current job in a helper
 * ```ts
 * import * as v from "valibot";
 * import { Actor, CurrentContext, Event } from "@walnats/walnats";
 *
 * const current = new CurrentContext();
 *
 * function log(text: string): void {
 *   const job = current.context;
 *   console.log(`[${job?.actor.name} attempt ${job?.attempts}] ${text}`);
 * }
 *
 * const userCreated = new Event("user-created", v.object({ id: v.number() }));
 * const greet = new Actor("greet-user", userCreated, (user) => log(`hello ${user.id}`), {
 *   middlewares: [current],
 * });
 * ```
 */
export class CurrentContext implements Middleware {
  /** The context of the job running in this async context, or `undefined`. */
  get context(): Context | undefined {
    return currentJob()?.context;
  }

  /** The headers of the message of the running job, or `undefined`. */
  get headers(): MessageHeaders | undefined {
    return currentJob()?.headers;
  }

  /** Nothing to do: being a middleware makes the listener open the job scope. */
  onStart(): void {}

  /**
   * The context of the running job.
   *
   * @returns the context
   * @throws {TypeError} when called outside a handler call
   */
  get(): Context {
    const context = this.context;
    if (context === undefined) {
      throw new TypeError("Cannot get the current job context: no job is running here");
    }
    return context;
  }
}
