/**
 * The hooks stage: the middlewares' `onStart`, `onSuccess` and `onFailure` of one
 * actor. A hook that throws or rejects is logged and never changes the job's outcome.
 *
 * @module
 */
import type { Logger } from "../_logger.ts";
import { TRACE } from "../headers.ts";
import type {
  Actor,
  Context,
  FailureContext,
  Middleware,
  SuccessContext,
  Termination,
} from "./actor.ts";
import type { DeadLetterReason } from "./dead_letter.ts";
import type { GiveUpEnd } from "./_give_up.ts";
import type { Delivery } from "./delivery.ts";

/** What the failure hooks are told of a give-up (`undefined`: kept for a retry of its copy). */
export function termination(reason: DeadLetterReason, end: GiveUpEnd): Termination | undefined {
  return end === "kept" ? undefined : { reason, deadLetter: end };
}

/** One actor's middleware hooks. */
export class Hooks {
  /** Whether the actor has middlewares (none: every call here is skipped). */
  readonly any: boolean;
  readonly #actor: Actor<unknown, unknown>;
  readonly #logger: Logger;

  constructor(actor: Actor<unknown, unknown>, logger: Logger) {
    this.#actor = actor;
    this.#logger = logger;
    this.any = actor.middlewares.length > 0;
  }

  /** The context the hooks are given for a job (`message` undefined when it did not decode). */
  context(delivery: Delivery, message: unknown, attempt: number): Context {
    return {
      actor: this.#actor,
      message,
      metadata: delivery.metadata,
      attempts: attempt,
      traceId: delivery.headers?.get(TRACE) || undefined,
    };
  }

  /** Call hook `name` of every middleware that has it (nothing without a context). */
  fire(name: keyof Middleware, context: Context | undefined, extra: Record<string, unknown>): void {
    if (!this.any || context === undefined) return;
    const full = { ...context, ...extra } as Context & FailureContext & SuccessContext;
    for (const middleware of this.#actor.middlewares) {
      const hook = middleware[name] as ((c: typeof full) => unknown) | undefined;
      if (!hook) continue;
      const report = (error: unknown) =>
        this.#logger.error(`middleware ${name} of actor "${this.#actor.name}" failed`, {
          error,
        });
      try {
        const result = hook.call(middleware, full);
        if (result instanceof Promise) result.catch(report);
      } catch (error) {
        report(error);
      }
    }
  }
}
