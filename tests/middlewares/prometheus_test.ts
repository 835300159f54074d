import { test } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { Registry } from "prom-client";
import { startNatsServer } from "../../testing.ts";
import { jetstreamManager } from "@nats-io/jetstream";
import { Actor, Event, UnrecoverableError } from "../../mod.ts";
import { PrometheusMiddleware } from "../../prometheus.ts";
import { uniqueName, untilStored } from "../_helpers.ts";
import { context, failure, quiet, setup } from "./_setup.ts";

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** Parse Prometheus text exposition format 0.0.4 (what a scraper reads). */
function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith("# HELP ")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not an exposition line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (
      const [, k = "", val = ""] of (m[2] ?? "").matchAll(
        /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g,
      )
    ) {
      labels[k] = val;
    }
    const value = m[3] === "+Inf" ? Infinity : Number(m[3]);
    assert.ok(!Number.isNaN(value), line);
    samples.push({ name: m[1]!, labels, value });
  }
  return { types, samples };
}

function value(
  samples: Sample[],
  name: string,
  labels: Record<string, string>,
): number | undefined {
  return samples.find((s) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  )?.value;
}

test("PrometheusMiddleware exposes started, succeeded, failed, durations and in-flight per event and actor", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.object({ n: v.number() }));
  const metrics = new PrometheusMiddleware();
  const odd = new Actor("odd-fails", e, (m) => {
    if (m.n % 2 === 1) throw new Error("odd");
  }, { middlewares: [metrics], maxAttempts: 1 });
  const all = new Actor("all-pass", e, () => {}, { middlewares: [metrics] });
  await using ctx = await setup(server.url, e, [odd, all]);
  for (let n = 0; n < 5; n++) await ctx.events.emit(e, { n });
  // A payload the schema rejects: a failure without a start.
  ctx.events.connection.publish(e.name, new TextEncoder().encode('{"n":"x"}'));
  await ctx.events.connection.flush();
  await untilStored(await jetstreamManager(ctx.events.connection), { [e.streamName]: 6 });
  await ctx.conn.listen({ burst: true, logger: quiet });

  assert.match(metrics.contentType, /^text\/plain; version=0\.0\.4/);
  const { types, samples } = parseExposition(await metrics.metrics());
  assert.equal(types.get("walnats_jobs_started_total"), "counter");
  assert.equal(types.get("walnats_jobs_succeeded_total"), "counter");
  assert.equal(types.get("walnats_jobs_failed_total"), "counter");
  assert.equal(types.get("walnats_job_duration_seconds"), "histogram");
  assert.equal(types.get("walnats_jobs_in_flight"), "gauge");
  const oddLabels = { event: e.name, actor: "odd-fails" };
  const allLabels = { event: e.name, actor: "all-pass" };
  assert.equal(value(samples, "walnats_jobs_started_total", oddLabels), 5);
  assert.equal(value(samples, "walnats_jobs_succeeded_total", oddLabels), 3);
  assert.equal(value(samples, "walnats_jobs_failed_total", oddLabels), 3); // 2 odd + 1 undecodable
  assert.equal(value(samples, "walnats_jobs_started_total", allLabels), 5);
  assert.equal(value(samples, "walnats_jobs_succeeded_total", allLabels), 5);
  assert.equal(value(samples, "walnats_jobs_failed_total", allLabels), 1);
  assert.equal(value(samples, "walnats_job_duration_seconds_count", oddLabels), 5);
  assert.equal(value(samples, "walnats_job_duration_seconds_count", allLabels), 5);
  assert.equal(
    value(samples, "walnats_job_duration_seconds_bucket", { ...allLabels, le: "+Inf" }),
    5,
  );
  assert.ok(value(samples, "walnats_job_duration_seconds_sum", allLabels)! < 5);
  assert.equal(value(samples, "walnats_jobs_in_flight", oddLabels), 0);
  assert.equal(value(samples, "walnats_jobs_in_flight", allLabels), 0);
  assert.equal(types.get("walnats_messages_terminated_total"), "counter");
  const terminated = (actor: string, reason: string) =>
    value(samples, "walnats_messages_terminated_total", {
      event: e.name,
      actor,
      reason,
      dead_letter: "stored",
    });
  assert.equal(terminated("odd-fails", "failed"), 2);
  assert.equal(terminated("odd-fails", "undecodable"), 1);
  assert.equal(terminated("all-pass", "undecodable"), 1);
  assert.equal(terminated("all-pass", "failed"), undefined);
});

test("PrometheusMiddleware counts messages terminated without a dead letter as lost", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.string());
  const metrics = new PrometheusMiddleware();
  const a = new Actor("picky", e, () => {
    throw new UnrecoverableError("no");
  }, { middlewares: [metrics] });
  await using ctx = await setup(server.url, e, [a]);
  // A dead-letter stream that takes no message over 16 bytes: every copy is lost.
  const jsm = await jetstreamManager(ctx.events.connection);
  await jsm.streams.add({
    name: a.deadLetters!.streamName,
    subjects: [a.deadLetters!.name],
    max_msg_size: 16,
  });
  await ctx.events.emit(e, "a message longer than sixteen bytes", { sync: true });
  await ctx.conn.listen({ burst: true, logger: quiet });
  const { samples } = parseExposition(await metrics.metrics());
  assert.equal(
    value(samples, "walnats_messages_terminated_total", {
      event: e.name,
      actor: "picky",
      reason: "unrecoverable",
      dead_letter: "lost",
    }),
    1,
  );
  assert.deepEqual(ctx.conn.health().actors, {}, "the listener stopped");
});

test("PrometheusMiddleware counts a running job in flight until it settles", async () => {
  const metrics = new PrometheusMiddleware({ prefix: "app_" });
  const ctx = context();
  metrics.onStart(ctx);
  const running = parseExposition(await metrics.metrics()).samples;
  assert.equal(value(running, "app_jobs_in_flight", { actor: ctx.actor.name }), 1);
  metrics.onFailure(failure(ctx, new Error("x"), 12));
  const done = parseExposition(await metrics.metrics()).samples;
  assert.equal(value(done, "app_jobs_in_flight", { actor: ctx.actor.name }), 0);
  assert.equal(value(done, "app_job_duration_seconds_sum", { actor: ctx.actor.name }), 0.012);
});

test("PrometheusMiddleware instances on one registry share its metrics", async () => {
  const registry = new Registry();
  const first = new PrometheusMiddleware({ registry });
  const second = new PrometheusMiddleware({ registry });
  first.onStart(context());
  second.onStart(context());
  const { samples } = parseExposition(await registry.metrics());
  assert.equal(value(samples, "walnats_jobs_started_total", {}), 2);
  assert.throws(() => new PrometheusMiddleware({ prefix: "bad prefix" }), TypeError);
});
