/**
 * walnats: event-driven background jobs and microservices on NATS JetStream,
 * for Deno and Bun.
 *
 * @module
 */
export type { ServerOrConnection } from "./src/connection.ts";
export type { ConnectionOptions, NatsConnection } from "@nats-io/nats-core";
