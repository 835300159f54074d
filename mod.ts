/**
 * walnats: event-driven background jobs and microservices on NATS JetStream,
 * for Deno and Bun.
 *
 * @module
 */
export type { ConnectionOptions, NatsConnection, ServerOrConnection } from "./src/connection.ts";
