import { test } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { startNatsServer } from "../../testing.ts";
import { Actor, Event, SentryMiddleware } from "../../mod.ts";
import { uniqueName } from "../_helpers.ts";
import { quiet, setup } from "./_setup.ts";

test("SentryMiddleware captures a failed job with actor, event and attempt tags", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.string());
  const captured: { exception: unknown; context: unknown }[] = [];
  // The shape of the Sentry SDK's namespace: walnats only calls captureException.
  const client = {
    captureException(exception: unknown, context?: unknown): string {
      captured.push({ exception, context });
      return "event-id";
    },
  };
  const boom = new Error("payment declined");
  const a = new Actor("charge-card", e, () => {
    throw boom;
  }, { middlewares: [new SentryMiddleware(client)], maxAttempts: 1 });
  await using ctx = await setup(server.url, e, [a]);
  await ctx.events.emit(e, "order-1", { traceId: "t-9", sync: true });
  await ctx.conn.listen({ burst: true, logger: quiet });
  assert.equal(captured.length, 1);
  assert.equal(captured[0]?.exception, boom);
  const c = captured[0]!.context as {
    tags: Record<string, string>;
    extra: Record<string, unknown>;
  };
  assert.deepEqual(c.tags, {
    "walnats.actor": "charge-card",
    "walnats.event": e.name,
    "walnats.attempt": "1",
    "walnats.trace_id": "t-9",
  });
  assert.equal(c.extra.streamSeq, 1);
  assert.equal(typeof c.extra.duration, "number");
});

test("SentryMiddleware rejects a client without captureException", () => {
  assert.throws(() => new SentryMiddleware({} as never), /captureException/);
});
