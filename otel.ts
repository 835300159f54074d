/**
 * OpenTelemetry tracing for walnats: a producer span per `emit` and `request` with
 * W3C `traceparent`/`tracestate` headers, and a consumer span per job, child of the
 * producer's. A separate entry point, so that only its users load `@opentelemetry/api`.
 *
 * @example Trace emits and jobs
 * ```ts ignore
 * import { otel } from "@walnats/walnats/otel";
 * import { Actor, Actors, Events } from "@walnats/walnats";
 *
 * const tracing = otel(); // the global tracer provider and propagator
 * const events = await new Events(userCreated).connect(url, { emitHooks: [tracing.emitHook] });
 * const actor = new Actor("welcome", userCreated, handler, { middlewares: [tracing.middleware] });
 * ```
 *
 * @module
 */
export { otel, OTEL_TRACER_NAME } from "./src/middlewares/otel.ts";
export type {
  Otel,
  OtelOptions,
  OtelPropagator,
  OtelTracerProvider,
} from "./src/middlewares/otel.ts";
