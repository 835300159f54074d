/**
 * OpenTelemetry tracing: a producer span for each `emit` / `request`, a consumer
 * span for each job, linked across NATS by W3C trace-context headers.
 *
 * This is the only module that imports `@opentelemetry/api`. The API package is
 * what OpenTelemetry asks libraries to depend on: without an SDK registered it is a
 * no-op, and the application's SDK (any version compatible with API 1.x) decides
 * where spans go.
 *
 * @module
 */
import {
  type Attributes,
  type Context as OtelContext,
  context as otelContext,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapPropagator,
  trace,
  type Tracer,
  type TracerProvider,
} from "@opentelemetry/api";
import type { Context, FailureContext, Middleware, SuccessContext } from "../actors/actor.ts";
import type { JobMetadata } from "../actors/job.ts";
import type { AroundJob, JobScope, MessageHeaders } from "../actors/context.ts";
import type { EmitHook, EmitHookScope, EmitInfo, EmitOutcome } from "../events/emit.ts";
import { MSG_ID, TRACE } from "../headers.ts";
import { errorType } from "./_job.ts";

/**
 * An OpenTelemetry tracer provider (`TracerProvider` of `@opentelemetry/api`).
 *
 * @example Use the global tracer provider
 * ```ts
 * import { trace } from "@opentelemetry/api";
 * import { otel, type OtelTracerProvider } from "@walnats/walnats/otel";
 *
 * const tracerProvider: OtelTracerProvider = trace.getTracerProvider();
 * const tracing = otel({ tracerProvider });
 * ```
 */
export type OtelTracerProvider = TracerProvider;

/**
 * An OpenTelemetry propagator (`TextMapPropagator` of `@opentelemetry/api`).
 *
 * @example Propagate W3C trace context
 * ```ts
 * import { W3CTraceContextPropagator } from "@opentelemetry/core";
 * import { otel, type OtelPropagator } from "@walnats/walnats/otel";
 *
 * const propagator: OtelPropagator = new W3CTraceContextPropagator();
 * const tracing = otel({ propagator });
 * ```
 */
export type OtelPropagator = TextMapPropagator;

/**
 * Options of {@linkcode otel}.
 *
 * @example Use your own provider and propagator
 * ```ts
 * import { trace } from "@opentelemetry/api";
 * import { W3CTraceContextPropagator } from "@opentelemetry/core";
 * import { otel } from "@walnats/walnats/otel";
 *
 * const tracing = otel({
 *   tracerProvider: trace.getTracerProvider(),
 *   propagator: new W3CTraceContextPropagator(),
 * });
 * ```
 */
export interface OtelOptions {
  /**
   * Where the tracer comes from.
   * @default the global provider (`trace.getTracerProvider()`), set by the SDK
   */
  readonly tracerProvider?: OtelTracerProvider;
  /**
   * Writes and reads the trace context in message headers.
   * @default the global propagator (`propagation`); the Node SDK registers W3C
   * trace context (`traceparent`, `tracestate`) and baggage by default
   */
  readonly propagator?: OtelPropagator;
}

/**
 * The two halves of the tracing integration, see {@linkcode otel}.
 *
 * @example The emit hook and the middleware
 * ```ts
 * import { type Otel, otel } from "@walnats/walnats/otel";
 *
 * const tracing: Otel = otel();
 * const emitHooks = [tracing.emitHook];
 * const middlewares = [tracing.middleware];
 * ```
 */
export interface Otel {
  /** For the publisher: `events.connect(url, { emitHooks: [tracing.emitHook] })`. */
  readonly emitHook: EmitHook;
  /** For each actor: `middlewares: [tracing.middleware]`. */
  readonly middleware: Middleware & AroundJob;
}

/**
 * The instrumentation scope name of the tracer.
 *
 * @example Find walnats' spans
 * ```ts
 * import { OTEL_TRACER_NAME } from "@walnats/walnats/otel";
 *
 * const isWalnats = (instrumentationScope: { name: string }) =>
 *   instrumentationScope.name === OTEL_TRACER_NAME; // "walnats"
 * ```
 */
export const OTEL_TRACER_NAME = "walnats";

/**
 * Trace messages end to end with OpenTelemetry.
 *
 * Design: tracing needs a span around two places that know nothing of each other,
 * so it comes in two halves sharing one tracer and propagator.
 * - `emitHook` is given to `Events.connect`. For each `emit` and `request` it starts
 *   a PRODUCER span (`emit <event>` / `request <event>`, child of the active context),
 *   writes the span's context into the message headers with the propagator (W3C
 *   `traceparent` / `tracestate`), and ends it when the publish (or, with `sync`,
 *   the stream's ack; for `request`, the response) arrives; a failure sets the span
 *   status to ERROR and records the exception.
 * - `middleware` is given to each actor. Around each handler call it extracts the
 *   producer's context from the headers and starts a CONSUMER span
 *   (`process <event>`) as its child, active while the handler runs, so the
 *   handler's own spans (and `emit`s) nest under it when the SDK has a context
 *   manager (e.g. `AsyncLocalStorageContextManager`). The span ends after the ack
 *   (`onSuccess`) or the nak/term (`onFailure`, status ERROR, exception recorded).
 *   A message that could not be decoded gets a CONSUMER span without parent.
 *
 * Attributes follow the OpenTelemetry messaging semantic conventions:
 * `messaging.system` = `nats`, `messaging.destination.name` = the event (subject),
 * `messaging.operation.type` (`send` / `process`), `messaging.operation.name`
 * (`emit`, `request`, `process`), the older `messaging.operation` (`publish` /
 * `process`), `messaging.message.id` (the `uid`, `Nats-Msg-Id`), and on the consumer
 * `messaging.consumer.group.name` and `messaging.destination.subscription.name`
 * (the actor, the durable consumer). walnats' own: `walnats.attempt`,
 * `walnats.stream_seq`, `walnats.trace_id`, `walnats.delay`; failures set `error.type`.
 *
 * @param options the tracer provider and propagator (default: the global ones)
 * @returns the emit hook and the actor middleware
 *
 * @example Trace emit → actor
 * ```ts ignore
 * import * as v from "valibot";
 * import { Actor, Actors, Event, Events } from "@walnats/walnats";
 * import { otel } from "@walnats/walnats/otel";
 *
 * const tracing = otel(); // after the OpenTelemetry SDK is started
 * const userCreated = new Event("user-created", v.object({ id: v.number() }));
 * await using events = await new Events(userCreated).connect(undefined, {
 *   emitHooks: [tracing.emitHook],
 * });
 * const greet = new Actor("greet-user", userCreated, () => {}, {
 *   middlewares: [tracing.middleware],
 * });
 * await events.emit(userCreated, { id: 1 });
 * ```
 */
export function otel(options: OtelOptions = {}): Otel {
  const provider = options.tracerProvider ?? trace.getTracerProvider();
  const tracer = provider.getTracer(OTEL_TRACER_NAME);
  const propagator: Pick<TextMapPropagator, "inject" | "extract"> = options.propagator ??
    propagation;
  return {
    emitHook: new OtelEmitHook(tracer, propagator),
    middleware: new OtelMiddleware(tracer, propagator),
  };
}

const headersGetter: TextMapGetter<MessageHeaders | undefined> = {
  keys: (carrier) => carrier?.keys() ?? [],
  get: (carrier, key) => carrier?.get(key) || undefined,
};

function baseAttributes(event: string): Attributes {
  return { "messaging.system": "nats", "messaging.destination.name": event };
}

function fail(span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  span.setAttribute("error.type", errorType(error));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

class OtelEmitHook implements EmitHook {
  readonly #tracer: Tracer;
  readonly #propagator: Pick<TextMapPropagator, "inject">;

  constructor(tracer: Tracer, propagator: Pick<TextMapPropagator, "inject">) {
    this.#tracer = tracer;
    this.#propagator = propagator;
  }

  onEmit(info: EmitInfo): EmitHookScope {
    const { event, operation, options } = info;
    const attributes: Attributes = {
      ...baseAttributes(event.name),
      "messaging.operation.type": "send",
      "messaging.operation.name": operation,
      "messaging.operation": "publish",
    };
    if (options.uid !== undefined) attributes["messaging.message.id"] = options.uid;
    if (options.traceId !== undefined) attributes["walnats.trace_id"] = options.traceId;
    if (options.delay) attributes["walnats.delay"] = options.delay;
    const parent = otelContext.active();
    const span = this.#tracer.startSpan(
      `${operation} ${event.name}`,
      { kind: SpanKind.PRODUCER, attributes },
      parent,
    );
    const headers: Record<string, string> = {};
    this.#propagator.inject(trace.setSpan(parent, span), headers, {
      set: (carrier, key, value) => {
        carrier[key] = value;
      },
    });
    return {
      headers,
      end(outcome: EmitOutcome) {
        if (outcome.result) {
          span.setAttribute("walnats.stream_seq", outcome.result.seq);
          span.setAttribute("walnats.duplicate", outcome.result.duplicate);
        }
        if ("error" in outcome) fail(span, outcome.error);
        span.end();
      },
    };
  }
}

class OtelMiddleware implements Middleware, AroundJob {
  readonly #tracer: Tracer;
  readonly #propagator: Pick<TextMapPropagator, "extract">;
  /** Spans of running jobs: every hook's context shares the delivery's metadata object. */
  readonly #spans = new WeakMap<JobMetadata, Span>();

  constructor(tracer: Tracer, propagator: Pick<TextMapPropagator, "extract">) {
    this.#tracer = tracer;
    this.#propagator = propagator;
  }

  aroundJob(scope: JobScope, next: () => Promise<void>): Promise<void> {
    const parent = this.#propagator.extract(ROOT_CONTEXT, scope.headers, headersGetter);
    const span = this.#start(scope.context, scope.headers, parent);
    this.#spans.set(scope.context.metadata, span);
    return otelContext.with(trace.setSpan(parent, span), next);
  }

  onSuccess(context: SuccessContext): void {
    const span = this.#spans.get(context.metadata);
    if (!span) return;
    this.#spans.delete(context.metadata);
    span.end();
  }

  onFailure(context: FailureContext): void {
    let span = this.#spans.get(context.metadata);
    this.#spans.delete(context.metadata);
    // Failed before the handler (undecodable message): no headers here, no parent.
    span ??= this.#start(context, undefined, ROOT_CONTEXT);
    fail(span, context.error);
    span.end();
  }

  #start(
    context: Context,
    headers: MessageHeaders | undefined,
    parent: OtelContext,
  ): Span {
    const { actor, metadata } = context;
    const attributes: Attributes = {
      ...baseAttributes(actor.event.name),
      "messaging.operation.type": "process",
      "messaging.operation.name": "process",
      "messaging.operation": "process",
      "messaging.consumer.group.name": actor.name,
      "messaging.destination.subscription.name": actor.name,
      "walnats.attempt": context.attempts,
      "walnats.stream_seq": metadata.streamSeq,
    };
    const uid = headers?.get(MSG_ID);
    if (uid) attributes["messaging.message.id"] = uid;
    const traceId = context.traceId ?? (headers?.get(TRACE) || undefined);
    if (traceId !== undefined) attributes["walnats.trace_id"] = traceId;
    return this.#tracer.startSpan(
      `process ${actor.event.name}`,
      { kind: SpanKind.CONSUMER, attributes },
      parent,
    );
  }
}
