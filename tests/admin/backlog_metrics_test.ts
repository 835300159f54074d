// Backlog gauges through the real prom-client, polled from a real nats-server.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { Registry } from "prom-client";
import { startNatsServer } from "../../testing.ts";
import { Actor, Actors, Event, Events, type Logger, UnrecoverableError } from "../../mod.ts";
import { BacklogMetrics, PrometheusMiddleware } from "../../prometheus.ts";
import { uniqueName } from "../_helpers.ts";

const quiet: Logger = { error() {}, warn() {}, info() {} };

/** The value of one sample in the exposition text. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.split(" ").at(-1));
}

test("BacklogMetrics exports per-actor pending, in flight and dead letters beside the job counters", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("order"), v.number());
  const registry = new Registry();
  const jobs = new PrometheusMiddleware({ registry });
  const ship = new Actor("ship", e, (n) => {
    if (n < 0) throw new UnrecoverableError("negative");
  }, { middlewares: [jobs] });
  const bill = new Actor("bill", e, () => {});
  await using events = await new Events(e).connect(server.url);
  await events.register();
  await using actors = await new Actors(ship, bill).connect(server.url);
  await actors.register();
  for (const n of [1, -2, 3]) await events.emit(e, n, { sync: true });

  await using backlog = new BacklogMetrics(events.connection, { registry, interval: 100 });
  await backlog.next();
  let text = await registry.metrics();
  const labels = (actor: string) => `event="${e.name}",actor="${actor}"`;
  assert.equal(sample(text, "walnats_actor_pending_messages", labels("ship")), 3, text);
  assert.equal(sample(text, "walnats_actor_pending_messages", labels("bill")), 3);
  assert.equal(sample(text, "walnats_actor_in_flight_messages", labels("ship")), 0);
  assert.equal(sample(text, "walnats_actor_dead_letters", labels("ship")), 0);
  assert.equal(sample(text, "walnats_event_messages", `event="${e.name}"`), 3);

  const only = await new Actors(ship).connect(server.url);
  await only.listen({ burst: true, logger: quiet, heartbeat: false });
  await only.close();
  await backlog.next();
  text = await registry.metrics();
  assert.equal(sample(text, "walnats_actor_pending_messages", labels("ship")), 0, text);
  assert.equal(sample(text, "walnats_actor_dead_letters", labels("ship")), 1);
  assert.equal(sample(text, "walnats_actor_pending_messages", labels("bill")), 3);
  // The job counters sit beside them in the same registry.
  assert.equal(sample(text, "walnats_jobs_started_total", labels("ship")), 3);
});

test("BacklogMetrics counts failed polls and carries on", async () => {
  const server = await startNatsServer();
  const registry = new Registry();
  const backlog = new BacklogMetrics(
    { servers: server.url, reconnectTimeWait: 50, maxReconnectAttempts: -1 },
    { registry, interval: 100, logger: quiet },
  );
  try {
    await backlog.next();
    await server.stop();
    const deadline = Date.now() + 10_000;
    let failed = 0;
    while (Date.now() < deadline && failed === 0) {
      await new Promise((r) => setTimeout(r, 100));
      const text = await registry.metrics();
      failed = Number(text.match(/^walnats_backlog_polls_failed_total (\d+)/m)?.[1] ?? 0);
    }
    assert.ok(failed > 0, "a failed poll is counted");
    await server.restart();
    await backlog.next();
  } finally {
    await backlog.dispose();
    await server[Symbol.asyncDispose]();
  }
});

test("BacklogMetrics connects again after its connection closed for good", async () => {
  const server = await startNatsServer();
  const registry = new Registry();
  const backlog = new BacklogMetrics(
    { servers: server.url, reconnectTimeWait: 50, maxReconnectAttempts: 1 },
    { registry, interval: 100, logger: quiet },
  );
  try {
    await backlog.next();
    await server.stop();
    await new Promise((r) => setTimeout(r, 1000)); // its one reconnect attempt is spent
    await server.restart();
    const polled = await Promise.race([
      backlog.next().then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 15_000)),
    ]);
    assert.equal(polled, true, "polling resumed on a new connection");
  } finally {
    await backlog.dispose();
    await server[Symbol.asyncDispose]();
  }
});

test("BacklogMetrics rejects a bad interval and prefix", () => {
  assert.throws(() => new BacklogMetrics("nats://127.0.0.1:1", { interval: 0 }), RangeError);
  assert.throws(() => new BacklogMetrics("nats://127.0.0.1:1", { prefix: "bad-" }), TypeError);
});
