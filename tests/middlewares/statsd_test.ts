import { test } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import type { AddressInfo } from "node:net";
import * as v from "valibot";
import { startNatsServer } from "../../testing.ts";
import { Actor, Event, StatsdMiddleware } from "../../mod.ts";
import { uniqueName, until } from "../_helpers.ts";
import { quiet, setup } from "./_setup.ts";

/** A real UDP listener standing in for the StatsD agent. */
async function agent() {
  const socket = createSocket("udp4");
  const lines: string[] = [];
  socket.on("message", (data) => lines.push(...String(data).split("\n").filter(Boolean)));
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return {
    port: (socket.address() as AddressInfo).port,
    lines,
    [Symbol.dispose]: () => socket.close(),
  };
}

test("StatsdMiddleware sends DogStatsD counters and timings over UDP", async () => {
  using statsdAgent = await agent();
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.number());
  using statsd = new StatsdMiddleware({ port: statsdAgent.port, tags: { env: "test" } });
  const a = new Actor("count-it", e, (n) => {
    if (n === 2) throw new RangeError("two");
  }, { middlewares: [statsd], maxAttempts: 1 });
  await using ctx = await setup(server.url, e, [a]);
  for (const n of [1, 2, 3]) await ctx.events.emit(e, n, { sync: true });
  await ctx.conn.listen({ burst: true, logger: quiet });
  await until(() => statsdAgent.lines.length >= 9, 5000, "nine statsd lines");

  const tags = `#env:test,event:${e.name},actor:count-it`;
  const lines = statsdAgent.lines;
  const count = (prefix: string) => lines.filter((l) => l.startsWith(prefix)).length;
  assert.equal(lines.filter((l) => l === `walnats.started:1|c|${tags}`).length, 3);
  assert.equal(lines.filter((l) => l === `walnats.succeeded:1|c|${tags}`).length, 2);
  assert.deepEqual(lines.filter((l) => l.startsWith("walnats.failed:")), [
    `walnats.failed:1|c|${tags},error:RangeError`,
  ]);
  assert.equal(count("walnats.duration:"), 3);
  for (const l of lines.filter((l) => l.startsWith("walnats.duration:"))) {
    assert.match(l, new RegExp(`^walnats\\.duration:\\d+(\\.\\d+)?\\|ms\\|${tags}`));
    assert.match(l, /,status:(success|failure)$/);
  }
  assert.equal(lines.length, 9);
});

test("StatsdMiddleware without an agent loses metrics, not jobs", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.number());
  // Nothing listens on this port: the datagrams go nowhere.
  let port: number;
  {
    using nobody = await agent();
    port = nobody.port;
  }
  using statsd = new StatsdMiddleware({ port, prefix: "jobs." });
  const seen: number[] = [];
  const a = new Actor("no-agent", e, (n) => void seen.push(n), { middlewares: [statsd] });
  await using ctx = await setup(server.url, e, [a]);
  for (let n = 0; n < 20; n++) await ctx.events.emit(e, n, { sync: true });
  await ctx.conn.listen({ burst: true, logger: quiet });
  assert.equal(seen.length, 20);
});

test("StatsdMiddleware rejects a bad port and drops metrics after close", async () => {
  assert.throws(() => new StatsdMiddleware({ port: 70000 }), RangeError);
  using statsdAgent = await agent();
  const statsd = new StatsdMiddleware({ port: statsdAgent.port });
  statsd.close();
  const e = new Event(uniqueName(), v.number());
  statsd.onStart({
    actor: new Actor("closed", e, () => {}) as Actor<unknown, unknown>,
    message: 1,
    metadata: { streamSeq: 1, consumerSeq: 1, timestamp: 0, delivered: 1, pending: 0 },
    attempts: 1,
    traceId: undefined,
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(statsdAgent.lines, []);
});
