/**
 * walnats: event-driven background jobs and microservices on NATS JetStream,
 * for Deno and Bun.
 *
 * @example Declare, register and emit
 * ```ts ignore
 * import * as v from "valibot";
 * import { Event, Events } from "@walnats/walnats";
 *
 * const userCreated = new Event("user-created", v.object({ id: v.number() }));
 * await using conn = await new Events(userCreated).connect();
 * await conn.register();
 * await conn.emit(userCreated, { id: 1 });
 * ```
 *
 * @module
 */
export { CloudEvent } from "./src/events/cloud_event.ts";
export { Event } from "./src/events/event.ts";
export { Events } from "./src/events/events.ts";
export { bytes, dateTime, defaultSerializer, text, typed } from "./src/events/schema.ts";
export {
  RequestTimeoutError,
  ResponseError,
  SerializerError,
  StreamConfigError,
  StreamExistsError,
  ValidationError,
} from "./src/errors.ts";
export { bytesSerializer } from "./src/serializers/bytes.ts";
export { dateTimeSerializer } from "./src/serializers/date_time.ts";
export { jsonSerializer } from "./src/serializers/json.ts";
export { textSerializer } from "./src/serializers/text.ts";

export type { CloudEventAttributes } from "./src/events/cloud_event.ts";
export type { ConnectionOptions, NatsConnection, ServerOrConnection } from "./src/connection.ts";
export type { EmitOptions, EmitResult } from "./src/events/emit.ts";
export type { EventOptions, ResponseSpec } from "./src/events/event.ts";
export type { ConnectedEvents } from "./src/events/events.ts";
export type { Limits } from "./src/events/limits.ts";
export type { MonitoredEvent, MonitorOptions } from "./src/events/monitor.ts";
export type { RequestOptions } from "./src/events/request.ts";
export type { RegisterStreamsOptions } from "./src/events/stream.ts";
export type { StandardSchemaV1, WalnatsSchema } from "./src/events/schema.ts";
export type { ValidationIssue } from "./src/errors.ts";
export type { Serializer } from "./src/serializers/serializer.ts";
