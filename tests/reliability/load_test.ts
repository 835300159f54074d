// Load: many messages through three subscriber processes of 16 jobs each, one of them
// SIGKILLed and replaced mid-run. Every message must be completed; the only duplicates
// allowed are those the kill caused (jobs it interrupted after their side effect, acks
// it had not sent yet). Size: WALNATS_LOAD_MESSAGES (default 20000; RELIABILITY.md
// reports a 100000 run). WALNATS_LOAD_KILL=0 runs without the kill.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { jetstreamManager } from "@nats-io/jetstream";
import { startNatsServer } from "../../testing.ts";
import { Actor, Actors, Events } from "../../mod.ts";
import { uniqueName, until } from "../_helpers.ts";
import {
  idEvent,
  isDeno,
  lines,
  mib,
  peakRss,
  resilient,
  sendAll,
  signal,
  startSubscriber,
  stopSubscriber,
  type Subscriber,
} from "./_fault.ts";

const total = Number(process.env.WALNATS_LOAD_MESSAGES ?? 20_000);
const kill = process.env.WALNATS_LOAD_KILL !== "0";

test(`Actors.listen under load: ${total} messages, 3 processes x 16 jobs${kill ? ", one killed" : ""}`, async () => {
  await using server = await startNatsServer();
  const dir = mkdtempSync(join(tmpdir(), "walnats-load-"));
  const subscribers: Subscriber[] = [];
  try {
    const e = idEvent(uniqueName("load"));
    const ackWait = 4000;
    const jobMs = 2;
    await using events = await new Events(e).connect(resilient(server.url));
    await events.register();
    await using conn = await new Actors(
      new Actor("loaded", e, () => {}, { ackWait, maxJobs: 16 }),
    ).connect(server.url);
    await conn.register();

    const start = (n: number) => {
      const sub = startSubscriber({
        servers: server.url,
        event: e.name,
        actor: "loaded",
        mode: "record",
        out: join(dir, `sub-${n}.log`),
        maxJobs: 16,
        ackWait,
        jobMs,
      });
      subscribers.push(sub);
      return sub;
    };
    await Promise.all([start(0), start(1), start(2)].map((s) => s.ready));
    const files = () => subscribers.map((_, i) => join(dir, `sub-${i}.log`));
    const completions = () => files().reduce((sum, f) => sum + lines(f).length, 0);

    const started = Date.now();
    let killedRss: number | undefined;
    let killedAt = 0;
    await sendAll(total, (id) => events.emit(e, { id }, { uid: `m-${id}`, sync: true }), {
      parallel: 64,
      onSent: (sent) => {
        if (!kill || sent !== Math.floor(total / 2)) return;
        const victim = subscribers[1] ?? assert.fail("the second subscriber is not running");
        killedRss = peakRss(victim.pid);
        killedAt = completions();
        signal(victim.pid, "SIGKILL");
        start(3).ready.catch(() => {});
      },
    });
    const emitted = Date.now() - started;
    await until(
      () => {
        const seen = new Set(files().flatMap(lines));
        return seen.size >= total;
      },
      300_000,
      `all ${total} messages completed`,
    );
    const elapsed = Date.now() - started;
    // What the killed process handled but never acked comes back after ackWait: wait for
    // it, so that the duplicates are all counted.
    const jsm = await jetstreamManager(conn.connection);
    await until(
      async () => {
        const info = await jsm.consumers.info(e.streamName, "loaded");
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      3 * ackWait + 10_000,
      "every message acked",
    );
    const rss = subscribers.map((s, i) => kill && i === 1 ? killedRss : peakRss(s.pid));
    await Promise.all(
      subscribers.filter((_, i) => !(kill && i === 1)).map((s) => stopSubscriber(s)),
    );

    const all = files().flatMap(lines).map(Number);
    const distinct = new Set(all);
    const duplicates = all.length - distinct.size;
    assert.equal(distinct.size, total, "every message completed");
    assert.ok(all.every((id) => Number.isInteger(id) && id >= 0 && id < total));
    const perProcess = files().map((f) => lines(f).length);
    if (kill) {
      // Interrupted jobs (at most 16) plus acks the killed process had not flushed.
      assert.ok(duplicates <= 200, `${duplicates} duplicates after one kill`);
    } else {
      assert.equal(duplicates, 0, "no duplicates without a kill");
    }
    for (const [i, n] of perProcess.entries()) {
      if (!(kill && i === 3)) assert.ok(n > 0, `process ${i} completed jobs`);
    }
    console.log(
      `load (${isDeno ? "deno" : "bun"}): ${total} messages emitted in ${emitted} ms, all ` +
        `completed in ${elapsed} ms (${
          Math.round(total / (elapsed / 1000))
        }/s, jobs of ${jobMs} ms); ` +
        `per process ${perProcess.join(" / ")}; duplicates ${duplicates}` +
        (kill ? ` (process 1 killed after ~${killedAt} completions, replaced by 3)` : "") +
        `; peak RSS ${rss.map(mib).join(" / ")}`,
    );
  } finally {
    for (const s of subscribers) signal(s.pid, "SIGKILL");
    await Promise.all(subscribers.map((s) => s.exited));
    rmSync(dir, { recursive: true, force: true });
  }
});
