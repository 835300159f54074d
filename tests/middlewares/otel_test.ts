import { test } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { context as otelContext, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { startNatsServer } from "../../testing.ts";
import { Actor, CurrentContext, Event } from "../../mod.ts";
import { otel } from "../../otel.ts";
import { uniqueName, until } from "../_helpers.ts";
import { quiet, setup } from "./_setup.ts";

// What an application does once at startup: an async context manager, so that spans
// started in the handler find the consumer span through awaits.
otelContext.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

function sdk() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracing = otel({ tracerProvider: provider, propagator: new W3CTraceContextPropagator() });
  const spans = () => exporter.getFinishedSpans();
  const named = (name: string): ReadableSpan => {
    const span = spans().find((s) => s.name === name);
    assert.ok(span, `no span "${name}" among ${spans().map((s) => s.name).join(", ")}`);
    return span;
  };
  return { provider, tracing, spans, named };
}

test("otel makes the actor's consumer span a child of the emit's producer span across NATS", async () => {
  await using server = await startNatsServer();
  const { tracing, named } = sdk();
  const e = new Event(uniqueName(), v.object({ id: v.number() }));
  const current = new CurrentContext();
  let traceparent: string | undefined;
  const a = new Actor("traced-actor", e, () => {
    traceparent = current.headers?.get("traceparent");
  }, { middlewares: [current, tracing.middleware] });
  await using ctx = await setup(server.url, e, [a], [tracing.emitHook]);
  await ctx.events.emit(e, { id: 1 }, { uid: "order-1", sync: true, traceId: "t-1" });
  await ctx.conn.listen({ burst: true, logger: quiet });

  const producer = named(`emit ${e.name}`);
  const consumer = named(`process ${e.name}`);
  assert.equal(producer.kind, SpanKind.PRODUCER);
  assert.equal(consumer.kind, SpanKind.CONSUMER);
  // The W3C header carried the producer span's context to the actor.
  const p = producer.spanContext();
  assert.equal(traceparent, `00-${p.traceId}-${p.spanId}-01`);
  assert.equal(consumer.spanContext().traceId, p.traceId);
  assert.equal(consumer.parentSpanContext?.spanId, p.spanId);
  assert.equal(consumer.parentSpanContext?.isRemote, true);

  assert.equal(producer.attributes["messaging.system"], "nats");
  assert.equal(producer.attributes["messaging.destination.name"], e.name);
  assert.equal(producer.attributes["messaging.operation.type"], "send");
  assert.equal(producer.attributes["messaging.operation"], "publish");
  assert.equal(producer.attributes["messaging.message.id"], "order-1");
  assert.equal(producer.attributes["walnats.stream_seq"], 1);
  assert.equal(consumer.attributes["messaging.system"], "nats");
  assert.equal(consumer.attributes["messaging.destination.name"], e.name);
  assert.equal(consumer.attributes["messaging.operation.type"], "process");
  assert.equal(consumer.attributes["messaging.operation"], "process");
  assert.equal(consumer.attributes["messaging.consumer.group.name"], "traced-actor");
  assert.equal(consumer.attributes["messaging.message.id"], "order-1");
  assert.equal(consumer.attributes["walnats.attempt"], 1);
  assert.equal(consumer.attributes["walnats.trace_id"], "t-1");
  assert.equal(producer.status.code, SpanStatusCode.UNSET);
  assert.equal(consumer.status.code, SpanStatusCode.UNSET);
});

test("otel marks a failed job's span as an error and nests the handler's spans under it", async () => {
  await using server = await startNatsServer();
  const { tracing, provider, named, spans } = sdk();
  const e = new Event(uniqueName(), v.string());
  const tracer = provider.getTracer("app");
  const a = new Actor("failing-actor", e, async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    tracer.startSpan("query the database").end();
    throw new RangeError("no such order");
  }, { middlewares: [tracing.middleware], maxAttempts: 1 });
  await using ctx = await setup(server.url, e, [a], [tracing.emitHook]);
  await ctx.events.emit(e, "x", { sync: true });
  await ctx.conn.listen({ burst: true, logger: quiet });
  await until(() => spans().length === 3, 5000, "three spans");

  const consumer = named(`process ${e.name}`);
  assert.equal(consumer.status.code, SpanStatusCode.ERROR);
  assert.equal(consumer.status.message, "no such order");
  assert.equal(consumer.attributes["error.type"], "RangeError");
  assert.ok(consumer.events.some((ev) => ev.name === "exception"));
  const child = named("query the database");
  assert.equal(child.parentSpanContext?.spanId, consumer.spanContext().spanId);
  assert.equal(child.spanContext().traceId, named(`emit ${e.name}`).spanContext().traceId);
});

test("otel traces request: the producer span lasts until the response and parents the consumer", async () => {
  await using server = await startNatsServer();
  const { tracing, named } = sdk();
  const e = new Event(uniqueName(), v.number()).withResponse(v.number());
  const a = new Actor("double-it", e, (n) => n * 2, { middlewares: [tracing.middleware] });
  await using ctx = await setup(server.url, e, [a], [tracing.emitHook]);
  const controller = new AbortController();
  const listening = ctx.conn.listen({ signal: controller.signal, logger: quiet });
  assert.equal(await ctx.events.request(e, 21, { timeout: 5000 }), 42);
  controller.abort();
  await listening;
  const producer = named(`request ${e.name}`);
  const consumer = named(`process ${e.name}`);
  assert.equal(producer.kind, SpanKind.PRODUCER);
  assert.equal(producer.attributes["messaging.operation.name"], "request");
  assert.equal(consumer.parentSpanContext?.spanId, producer.spanContext().spanId);
  // The request span covers the job: it ends after the consumer span started. The SDK
  // stamps span starts with Date.now() (whole milliseconds) and ends with the monotonic
  // clock, so two spans' times compare to within a couple of milliseconds only.
  const ms = (t: [number, number]) => t[0] * 1000 + t[1] / 1e6;
  assert.ok(
    ms(producer.endTime) + 2 >= ms(consumer.startTime),
    `request span ended at ${ms(producer.endTime)}, job started at ${ms(consumer.startTime)}`,
  );
});

test("otel records a failed emit on the producer span and the emit still throws", async () => {
  await using server = await startNatsServer();
  const { tracing, named } = sdk();
  const e = new Event(uniqueName(), v.number());
  await using ctx = await setup(server.url, e, [], [tracing.emitHook]);
  await assert.rejects(ctx.events.emit(e, "not a number" as never), { name: "ValidationError" });
  const producer = named(`emit ${e.name}`);
  assert.equal(producer.status.code, SpanStatusCode.ERROR);
  assert.equal(producer.attributes["error.type"], "ValidationError");
});

test("otel without an SDK is a no-op: messages flow and carry no trace headers", async () => {
  await using server = await startNatsServer();
  const tracing = otel(); // global provider and propagator: nothing registered
  const e = new Event(uniqueName(), v.string());
  const current = new CurrentContext();
  let headers: string[] | undefined;
  const a = new Actor("untraced", e, () => {
    headers = [...(current.headers?.keys() ?? [])];
    assert.equal(trace.getActiveSpan()?.isRecording() ?? false, false);
  }, { middlewares: [current, tracing.middleware] });
  await using ctx = await setup(server.url, e, [a], [tracing.emitHook]);
  await ctx.events.emit(e, "x", { sync: true });
  await ctx.conn.listen({ burst: true, logger: quiet });
  assert.deepEqual(headers, []);
});
