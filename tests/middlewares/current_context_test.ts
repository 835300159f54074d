import { test } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { startNatsServer } from "../../testing.ts";
import { Actor, type Context, CurrentContext, Event } from "../../mod.ts";
import { sleep, uniqueName } from "../_helpers.ts";
import { quiet, setup } from "./_setup.ts";

test("CurrentContext gives the handler's callees the running job across awaits and timers", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.object({ n: v.number() }));
  const current = new CurrentContext();
  const seen: {
    n: number;
    actor: string;
    attempt: number;
    traceId?: string | undefined;
    seq: number;
  }[] = [];
  // A helper deep in the user's code: it gets no argument about the job.
  async function audit(): Promise<void> {
    await sleep(5);
    await new Promise((resolve) => setTimeout(resolve, 1));
    const job = current.get();
    seen.push({
      n: (job.message as { n: number }).n,
      actor: job.actor.name,
      attempt: job.attempts,
      traceId: job.traceId,
      seq: job.metadata.streamSeq,
    });
  }
  const a = new Actor("audit-jobs", e, () => audit(), { middlewares: [current], maxJobs: 4 });
  await using ctx = await setup(server.url, e, [a]);
  for (let n = 0; n < 8; n++) {
    await ctx.events.emit(e, { n }, { traceId: `trace-${n}`, sync: true });
  }
  await ctx.conn.listen({ burst: true, logger: quiet });
  assert.equal(seen.length, 8);
  // Jobs ran concurrently, yet each callee saw its own job.
  for (const s of seen) {
    assert.equal(s.actor, "audit-jobs");
    assert.equal(s.attempt, 1);
    assert.equal(s.traceId, `trace-${s.n}`);
    assert.equal(s.seq, s.n + 1);
  }
});

test("CurrentContext exposes the message headers to the handler", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.string());
  const current = new CurrentContext();
  let header: string | undefined;
  const a = new Actor("read-headers", e, () => {
    header = current.headers?.get("x-tenant");
  }, { middlewares: [current] });
  await using ctx = await setup(server.url, e, [a]);
  await ctx.events.emit(e, "x", { meta: { "x-tenant": "acme" }, sync: true });
  await ctx.conn.listen({ burst: true, logger: quiet });
  assert.equal(header, "acme");
});

test("CurrentContext has no context outside a handler call", async () => {
  const current = new CurrentContext();
  assert.equal(current.context, undefined);
  assert.throws(() => current.get(), {
    name: "TypeError",
    message: /no job is running here/,
  });
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.string());
  let later: Promise<Context | undefined> | undefined;
  const a = new Actor("leave-scope", e, () => {}, {
    middlewares: [current, {
      // Hooks run outside the handler's scope.
      onSuccess: () => {
        later = Promise.resolve(current.context);
      },
    }],
  });
  await using ctx = await setup(server.url, e, [a]);
  await ctx.events.emit(e, "x", { sync: true });
  await ctx.conn.listen({ burst: true, logger: quiet });
  assert.equal(await later, undefined);
});
