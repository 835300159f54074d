/**
 * OpenTelemetry tracing across NATS: the publisher's `emit` span is the parent of the
 * actor's `process` span, and a span the handler starts nests under that. Spans go to
 * the SDK's in-memory exporter, and the example prints them as a tree.
 *
 *     deno run -A examples/otel_tracing.ts
 *     bun examples/otel_tracing.ts
 */
import * as v from "valibot";
import { context, SpanKind, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { Actor, Actors, Event, Events } from "@walnats/walnats";
import { otel } from "@walnats/walnats/otel";
import { exampleNats, runtime } from "./_nats.ts";

// #region setup
// What an application does once at startup: an SDK with an exporter (a real one would
// send to a collector), a context manager so that spans follow `await`s, a propagator.
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
trace.setGlobalTracerProvider(provider);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

// Both halves use the global provider; the propagator writes W3C `traceparent` headers.
const tracing = otel({ propagator: new W3CTraceContextPropagator() });
// #endregion setup

const tracedOrder = new Event("traced-order", v.object({ id: v.string(), total: v.number() }));

// #region wire
const tracer = trace.getTracer("shop");
const chargeCard = new Actor("charge-traced-order", tracedOrder, async (order) => {
  // The consumer span is active here: this span becomes its child.
  await tracer.startActiveSpan("payment-provider.charge", async (span) => {
    span.setAttribute("order.total", order.total);
    await new Promise((resolve) => setTimeout(resolve, 5));
    span.end();
  });
}, { middlewares: [tracing.middleware] });

await using nats = await exampleNats();
console.log(`otel_tracing: ${runtime}, NATS at ${nats.url}`);

await using events = await new Events(tracedOrder).connect(nats.url, {
  emitHooks: [tracing.emitHook],
});
await events.register();
// #endregion wire
await using actors = await new Actors(chargeCard).connect(nats.url);
await actors.register();

// An application span around the emit: the producer span nests under it.
await tracer.startActiveSpan("checkout", async (span) => {
  const id = `order-${crypto.randomUUID()}`; // also the uid: a second emit of it is dropped
  await events.emit(tracedOrder, { id, total: 42 }, { uid: id, sync: true });
  span.end();
});
await actors.listen({ burst: true });
await provider.forceFlush();

// Print the finished spans as a tree.
const spans = exporter.getFinishedSpans();
const children = (parent: ReadableSpan | undefined) =>
  spans.filter((s) =>
    parent
      ? s.parentSpanContext?.spanId === parent.spanContext().spanId
      : !spans.some((p) => p.spanContext().spanId === s.parentSpanContext?.spanId)
  );
function print(span: ReadableSpan, depth: number): void {
  const attrs = ["messaging.destination.name", "messaging.consumer.group.name", "walnats.attempt"]
    .filter((key) => span.attributes[key] !== undefined)
    .map((key) => ` ${key}=${span.attributes[key]}`);
  console.log(
    `otel_tracing: ${"  ".repeat(depth)}${span.name} [${SpanKind[span.kind]}]${attrs.join("")}`,
  );
  for (const child of children(span)) print(child, depth + 1);
}
for (const root of children(undefined)) print(root, 0);

const traceIds = new Set(spans.map((s) => s.spanContext().traceId));
console.log(`otel_tracing: ${spans.length} spans in ${traceIds.size} trace`);
if (spans.length !== 4 || traceIds.size !== 1) throw new Error("otel_tracing: unexpected spans");
await provider.shutdown();
console.log("otel_tracing: done");
