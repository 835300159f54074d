// Shared setup of the middleware tests: real Events + Actors on one server, and
// contexts built from real (pure-data) Actor declarations for the unit tests.
import * as v from "valibot";
import {
  Actor,
  Actors,
  type ConnectedActors,
  type ConnectedEvents,
  type Context,
  type EmitHook,
  Event,
  Events,
  type FailureContext,
  type Logger,
  type SuccessContext,
} from "../../mod.ts";
import { uniqueName } from "../_helpers.ts";

export const quiet: Logger = { error() {}, warn() {}, info() {} };

/** Connected publisher and listener registries; dispose to close both. */
export interface Setup extends AsyncDisposable {
  readonly events: ConnectedEvents;
  readonly conn: ConnectedActors;
}

export async function setup<T, R>(
  url: string,
  event: Event<T, R>,
  actors: Actor<T, R>[],
  emitHooks: EmitHook[] = [],
): Promise<Setup> {
  const events = await new Events(event as Event<unknown, unknown>).connect(url, { emitHooks });
  await events.register();
  const conn = await new Actors(...actors as Actor<unknown, unknown>[]).connect(url);
  await conn.register();
  return {
    events,
    conn,
    async [Symbol.asyncDispose]() {
      await conn.close();
      await events.close();
    },
  };
}

const unitEvent = new Event(uniqueName("unit"), v.string());

/** An actor declaration for unit tests (no connection involved). */
export function unitActor(name = "unit-actor"): Actor<string> {
  return new Actor(name, unitEvent, () => {});
}

let seq = 0;

/** A context as the listener builds it. */
export function context(
  actor: Actor<string> = unitActor(),
  extra: { attempt?: number; traceId?: string } = {},
): Context {
  seq += 1;
  return {
    actor: actor as Actor<unknown, unknown>,
    message: "m",
    metadata: { streamSeq: seq, consumerSeq: seq, timestamp: Date.now(), delivered: 1, pending: 0 },
    attempts: extra.attempt ?? 1,
    traceId: extra.traceId,
  };
}

export function failure(
  base: Context,
  error: unknown = new Error("boom"),
  duration?: number,
): FailureContext {
  return { ...base, error, ...(duration !== undefined && { duration }) };
}

export function success(base: Context, duration = 5): SuccessContext {
  return { ...base, duration };
}
