// Fault: a subscriber process is SIGKILLed in the middle of its jobs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNatsServer } from "../../testing.ts";
import { Actor, Actors, Events } from "../../mod.ts";
import { uniqueName, until } from "../_helpers.ts";
import { idEvent, lines, recordingLogger, signal, startSubscriber } from "./_fault.ts";

test("Actors.listen: jobs of a SIGKILLed subscriber come back after ackWait and complete once", async () => {
  await using server = await startNatsServer();
  const dir = mkdtempSync(join(tmpdir(), "walnats-kill-"));
  try {
    const e = idEvent(uniqueName("killed"));
    const ackWait = 2000;
    const options = { maxJobs: 4, ackWait };
    await using events = await new Events(e).connect(server.url);
    await events.register();
    // The consumer exists before anything is emitted (interest retention).
    await using conn = await new Actors(new Actor("worker", e, () => {}, options)).connect(
      server.url,
    );
    await conn.register();
    const total = 12;
    for (let id = 0; id < total; id++) await events.emit(e, { id }, { sync: true });

    const out = join(dir, "child.log");
    const child = startSubscriber({
      servers: server.url,
      event: e.name,
      actor: "worker",
      mode: "block",
      out,
      maxJobs: 4,
      ackWait,
    });
    await child.ready;
    await until(() => lines(out).length === 4, 20_000, "four jobs started in the child");
    signal(child.pid, "SIGKILL");
    const killed = Date.now();
    assert.equal(await child.exited, "SIGKILL");
    const inChild = lines(out).map((l) => Number(l.split(" ")[1]));

    // A new listener (here, in the test process) takes over the same durable consumer.
    const done = new Map<number, { at: number; attempt: number; count: number }>();
    const log: string[] = [];
    const again = await new Actors(
      new Actor("worker", e, ({ id }, job) => {
        const seen = done.get(id);
        done.set(id, { at: Date.now(), attempt: job.attempt, count: (seen?.count ?? 0) + 1 });
      }, options),
    ).connect(server.url);
    const controller = new AbortController();
    const listening = again.listen({
      signal: controller.signal,
      pollDelay: 1000,
      logger: recordingLogger(log),
    });
    await until(() => done.size === total, 20_000, "every message completed");
    await new Promise((r) => setTimeout(r, 500)); // a duplicate would show up now
    controller.abort();
    await listening;
    await again.close();

    assert.deepEqual([...done.keys()].sort((a, b) => a - b), [...Array(total).keys()]);
    for (const [id, { count }] of done) assert.equal(count, 1, `message ${id} completed ${count}x`);
    for (const id of inChild) {
      const { at, attempt } = done.get(id)!;
      assert.equal(attempt, 2, `message ${id} held by the killed child is its second attempt`);
      // The server redelivers once ackWait has passed since the child got it.
      assert.ok(at - killed > ackWait - 1500, `message ${id} came back ${at - killed} ms after`);
    }
    // The child pulled only for its free slots: the rest did not wait out ackWait.
    const rest = [...done].filter(([id]) => !inChild.includes(id));
    assert.equal(rest.length, total - 4);
    for (const [id, { attempt }] of rest) assert.equal(attempt, 1, `message ${id}`);
    console.log(
      `subscriber killed: ${inChild.length} in-flight jobs redelivered after ` +
        `${Math.min(...inChild.map((id) => done.get(id)!.at)) - killed} ms ` +
        `(ackWait ${ackWait} ms); ${total} of ${total} completed once`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
