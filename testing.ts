/**
 * Test helpers for walnats users and for walnats itself: real `nats-server`
 * processes on free loopback ports, single or clustered.
 *
 * @example Run a test against a real server
 * ```ts ignore
 * import { startNatsServer } from "@walnats/walnats/testing";
 *
 * await using server = await startNatsServer();
 * // connect your Events / Actors to server.url
 * ```
 *
 * @module
 */
export {
  findNatsServer,
  NatsServerNotFoundError,
  startNatsCluster,
  startNatsServer,
} from "./src/testing/nats_server.ts";
export type {
  FindNatsServerOptions,
  NatsCluster,
  NatsServer,
  NatsServerOptions,
} from "./src/testing/nats_server.ts";
