// Shared test helpers: unique names, a durable consumer so interest streams keep messages.
import {
  AckPolicy,
  type ConsumerInfo,
  type JetStreamManager,
  jetstreamManager,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { execFileSync } from "node:child_process";
import { findNatsServer } from "../testing.ts";

let counter = 0;

/** A unique kebab-case name per call. */
export function uniqueName(prefix = "test"): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}

/** Add a durable consumer so an interest-retention stream keeps what is emitted. */
export async function addInterest(nc: NatsConnection, stream: string): Promise<JetStreamManager> {
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.add(stream, { durable_name: "interest", ack_policy: AckPolicy.Explicit });
  return jsm;
}

/**
 * A consumer's info once nothing it delivered waits for an ack, or after `timeout` ms. A
 * listener writes its acks and waits for a round trip before `listen()` returns, but
 * JetStream applies acks in its own time, so a read right away (on another connection)
 * may still count some. The wait is shorter than the ackWait of the tests that use it,
 * so a message left unacked still shows.
 */
export async function settledInfo(
  jsm: JetStreamManager,
  stream: string,
  consumer: string,
  timeout = 5_000,
): Promise<ConsumerInfo> {
  const deadline = Date.now() + timeout;
  let info = await jsm.consumers.info(stream, consumer);
  while (info.num_ack_pending > 0 && Date.now() < deadline) {
    await sleep(20);
    info = await jsm.consumers.info(stream, consumer);
  }
  return info;
}

/**
 * Wait (at most `timeout` ms) until each stream holds its count of messages. Plain emits
 * are core publishes that JetStream stores in its own time, and a burst listener handles
 * what is stored when it runs.
 */
export async function untilStored(
  jsm: JetStreamManager,
  counts: Record<string, number>,
  timeout = 10_000,
): Promise<void> {
  const streams = Object.entries(counts);
  await until(
    async () => {
      for (const [stream, count] of streams) {
        if ((await jsm.streams.info(stream)).state.messages !== count) return false;
      }
      return true;
    },
    timeout,
    `the streams to hold ${streams.map(([s, n]) => `${n} in ${s}`).join(", ")}`,
  );
}

/** Wait until `predicate` holds, polling; throws after `timeout` ms. */
export async function until(
  predicate: () => boolean | Promise<boolean>,
  timeout = 10_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`Timed out after ${timeout} ms waiting for ${what}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * The release of the nats-server the tests start (as `startNatsServer()` finds it), e.g.
 * "2.10.27", read without starting one: for tests that depend on the server's behaviour.
 */
export function serverVersion(): string {
  try {
    const out = execFileSync(findNatsServer(), ["--version"], { encoding: "utf8" });
    return /v?(\d+\.\d+\.\d+)/.exec(out)?.[1] ?? "";
  } catch {
    return "";
  }
}

/** Whether the tests run built to JavaScript (Node.js, scripts/test_node.sh) instead of as sources. */
export const built: boolean = import.meta.url.endsWith(".js");

/** A module of this repository by its source path, relative to `base`: its `.js` twin when built. */
export function sourceUrl(path: string, base: string | URL): URL {
  return new URL(built ? path.replace(/\.ts$/, ".js") : path, base);
}
