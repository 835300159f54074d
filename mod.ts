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
export { Actor, ExecuteIn } from "./src/actors/actor.ts";
export { Actors } from "./src/actors/actors.ts";
export {
  DEAD_LETTER_AGE,
  DEAD_LETTER_ERROR_BYTES,
  DEAD_LETTER_HEADERS,
  parseDeadLetter,
} from "./src/actors/dead_letter.ts";
export { HEARTBEAT_SUBJECTS } from "./src/actors/heartbeat.ts";
export { Priority, PrioritySemaphore } from "./src/actors/priority.ts";
export { workerHandler, workerModule } from "./src/actors/workers/worker_handler.ts";
export { WorkerCrashError } from "./src/actors/workers/worker_pool.ts";
export { Clock, minutePassed } from "./src/clock.ts";
export { CloudEvent } from "./src/events/cloud_event.ts";
export { filterTime, rateLimit, requireThat, suppress } from "./src/decorators.ts";
export { Event } from "./src/events/event.ts";
export { Events } from "./src/events/events.ts";
export { bytes, dateTime, defaultSerializer, text, typed } from "./src/events/schema.ts";
export {
  ConsumerConfigError,
  EmitTimeoutError,
  JobTimeoutError,
  NoStreamError,
  RequestTimeoutError,
  ResponseError,
  RetryLaterError,
  SerializerError,
  StreamConfigError,
  StreamExistsError,
  UnrecoverableError,
  ValidationError,
} from "./src/errors.ts";
export { CurrentContext } from "./src/middlewares/current_context.ts";
export { ErrorThreshold } from "./src/middlewares/error_threshold.ts";
export { ExtraLog } from "./src/middlewares/extra_log.ts";
export { Frequency } from "./src/middlewares/frequency.ts";
export { SentryMiddleware } from "./src/middlewares/sentry.ts";
export { StatsdMiddleware } from "./src/middlewares/statsd.ts";
export { TextLog } from "./src/middlewares/text_log.ts";
export { aesGcm } from "./src/serializers/aes_gcm.ts";
export { bytesSerializer } from "./src/serializers/bytes.ts";
export {
  dateTimeSerializer,
  dateTimeSerializerOf,
  parseDateTime,
} from "./src/serializers/date_time.ts";
export { fernet } from "./src/serializers/fernet.ts";
export { gzip } from "./src/serializers/gzip.ts";
export { hmac } from "./src/serializers/hmac.ts";
export { jsonSerializer } from "./src/serializers/json.ts";
export { msgpack } from "./src/serializers/msgpack.ts";
export { textSerializer } from "./src/serializers/text.ts";
export { Services } from "./src/services/services.ts";
export { MAX_PROGRESS_BYTES } from "./src/progress.ts";

export type {
  ActorHandler,
  ActorOptions,
  Context,
  FailureContext,
  Handler,
  HandlerResult,
  Middleware,
  SuccessContext,
  Termination,
} from "./src/actors/actor.ts";
export type { Job, JobMetadata } from "./src/actors/job.ts";
export type { ConnectedActors, ListenOptions } from "./src/actors/actors.ts";
export type { Health } from "./src/actors/health.ts";
export type { RunningJobProgress } from "./src/actors/job_progress.ts";
export type { ProgressValue } from "./src/progress.ts";
export type { DeadLetter, DeadLetterMessage, DeadLetterReason } from "./src/actors/dead_letter.ts";
export type { Heartbeat, HeartbeatOptions } from "./src/actors/heartbeat.ts";
export type { AroundJob, JobScope, MessageHeaders } from "./src/actors/context.ts";
export type { AcquireOptions, Permit, PrioritySemaphoreOptions } from "./src/actors/priority.ts";
export type {
  AnyHandler,
  WorkerExport,
  WorkerHandler,
  WorkerModule,
} from "./src/actors/workers/worker_handler.ts";
export type { WorkerKind } from "./src/actors/workers/worker_pool.ts";
export type { Logger } from "./src/_logger.ts";
export type { ClockOptions, ClockRunOptions } from "./src/clock.ts";
export type { CloudEventAttributes } from "./src/events/cloud_event.ts";
export type {
  Decorator,
  ErrorClass,
  FilterTimeOptions,
  RequireThatOptions,
  SkippingDecorator,
  SuppressOptions,
  TimePattern,
  TimeRange,
} from "./src/decorators.ts";
export type {
  ConnectionOptions,
  NatsConnection,
  NatsConnectionOptions,
  ServerOrConnection,
} from "./src/connection.ts";
export type {
  EmitHook,
  EmitHookScope,
  EmitInfo,
  EmitOptions,
  EmitOutcome,
  EmitResult,
} from "./src/events/emit.ts";
export type { EventOptions, ResponseSpec } from "./src/events/event.ts";
export type { ConnectedEvents, EventsConnectOptions } from "./src/events/events.ts";
export type { Limits } from "./src/events/limits.ts";
export type { MonitoredEvent, MonitorOptions } from "./src/events/monitor.ts";
export type { RequestOptions } from "./src/events/request.ts";
export type { DestructiveChange, RegisterStreamsOptions } from "./src/events/stream.ts";
export type { ConsumerChange, RegisterConsumersOptions } from "./src/actors/consumer.ts";
export type { StandardSchemaV1, WalnatsSchema } from "./src/events/schema.ts";
export type { ValidationIssue } from "./src/errors.ts";
export type { FailureTarget } from "./src/middlewares/_job.ts";
export type { ErrorThresholdOptions } from "./src/middlewares/error_threshold.ts";
export type { ExtraLogOptions, ExtraLogRecord } from "./src/middlewares/extra_log.ts";
export type { FrequencyOptions } from "./src/middlewares/frequency.ts";
export type { SentryCaptureContext, SentryClient } from "./src/middlewares/sentry.ts";
export type { StatsdOptions } from "./src/middlewares/statsd.ts";
export type { TextLogOptions } from "./src/middlewares/text_log.ts";
export type { AesGcmKeys } from "./src/serializers/aes_gcm.ts";
export type { DateTimeOptions } from "./src/serializers/date_time.ts";
export type { FernetOptions } from "./src/serializers/fernet.ts";
export type { GzipOptions } from "./src/serializers/gzip.ts";
export type { HmacHash, HmacOptions } from "./src/serializers/hmac.ts";
export type { Serializer, WebCryptoKey } from "./src/serializers/serializer.ts";
export type { AsyncApiDocument, AsyncApiObject, AsyncApiOptions } from "./src/services/asyncapi.ts";
export type { DiagramOptions } from "./src/services/diagrams.ts";
export type { JsonSchema } from "./src/services/_json_schema.ts";
export type { Service } from "./src/services/service.ts";
export type { ServiceOptions } from "./src/services/services.ts";
