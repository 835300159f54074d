// A subscriber process for the fault-injection suite, run by Deno (`deno run -A`) or Bun.
// argv: one JSON SubscriberPlan (see _fault.ts). Prints "listening" once it listens; on
// SIGTERM it shuts down gracefully. Every recorded job appends its id to `out` before the
// handler returns, so the record is on disk before the ack is sent (a SIGKILL between the
// two shows up as a duplicate, never as a loss).
import { closeSync, openSync, writeSync } from "node:fs";
import process from "node:process";
import { Actor, Actors } from "../../mod.ts";
import { idEvent, type SubscriberPlan } from "./_fault.ts";

const plan = JSON.parse(process.argv.at(-1) ?? "{}") as SubscriberPlan;
const event = idEvent(plan.event);
const fd = openSync(plan.out, "a");
const stopping = new AbortController();
process.on("SIGTERM", () => stopping.abort());

const actor = new Actor(plan.actor, event, async (message, job) => {
  if (plan.mode === "block") {
    writeSync(fd, `start ${message.id}\n`);
    await new Promise((resolve) => job.signal.addEventListener("abort", resolve));
    throw new Error("stopped");
  }
  if (plan.jobMs) await new Promise((resolve) => setTimeout(resolve, plan.jobMs));
  writeSync(fd, `${message.id}\n`);
}, {
  maxJobs: plan.maxJobs ?? 16,
  ackWait: plan.ackWait ?? 16_000,
  jobTimeout: 120_000,
});

const conn = await new Actors(actor).connect({
  servers: plan.servers,
  reconnectTimeWait: 250,
  maxReconnectAttempts: -1,
});
await conn.register();
const logger = {
  error: (m: string) => console.error(`error ${m}`),
  warn: (m: string) => console.error(`warn ${m}`),
  info: (m: string) => console.error(`info ${m}`),
};
const listening = conn.listen({
  signal: stopping.signal,
  maxJobs: plan.maxJobs ?? 16,
  pollDelay: plan.pollDelay ?? 1000,
  shutdownGrace: 2000,
  logger,
});
process.stdout.write("listening\n");
await listening;
await conn.close();
closeSync(fd);
process.exit(0);
