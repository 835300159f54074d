import { test } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { startNatsServer } from "../../testing.ts";
import { Actor, Event, ExtraLog, type Logger } from "../../mod.ts";
import { uniqueName, until } from "../_helpers.ts";
import { context, failure, quiet, setup, success, unitActor } from "./_setup.ts";

function recording() {
  const records: { level: string; msg: string; data?: Record<string, unknown> | undefined }[] = [];
  const logger: Logger = {
    error: (msg, data) => void records.push({ level: "error", msg, data }),
    warn: (msg, data) => void records.push({ level: "warn", msg, data }),
    info: (msg, data) => void records.push({ level: "info", msg, data }),
  };
  return { records, logger };
}

test("ExtraLog writes one record per job event with actor, event, attempt, duration, error", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.object({ n: v.number() }));
  const { records, logger } = recording();
  let calls = 0;
  const a = new Actor("log-jobs", e, () => {
    calls += 1;
    if (calls === 1) throw new TypeError("first try fails");
  }, { middlewares: [new ExtraLog({ logger })], retryDelay: [10] });
  await using ctx = await setup(server.url, e, [a]);
  const controller = new AbortController();
  const listening = ctx.conn.listen({ signal: controller.signal, logger: quiet });
  await ctx.events.emit(e, { n: 1 }, { traceId: "t-1" });
  await until(() => records.length === 4, 10_000, "four records");
  controller.abort();
  await listening;
  const data = records.map((r) => r.data!);
  assert.deepEqual(records.map((r) => `${r.level} ${r.msg}`), [
    "info job started",
    "error job failed",
    "info job started",
    "info job succeeded",
  ]);
  for (const d of data) {
    assert.equal(d.actor, "log-jobs");
    assert.equal(d.event, e.name);
    assert.equal(d.traceId, "t-1");
    assert.equal(d.streamSeq, 1);
    assert.ok(!Number.isNaN(Date.parse(d.time as string)));
  }
  assert.deepEqual(data.map((d) => d.attempt), [1, 1, 2, 2]);
  assert.deepEqual(data[1]?.error, { type: "TypeError", message: "first try fails" });
  assert.equal(typeof data[1]?.duration, "number");
  assert.equal(typeof data[3]?.duration, "number");
  assert.equal(data[0]?.duration, undefined);
  assert.equal(data[3]?.error, undefined);
  assert.equal(data[3]?.message, undefined);
});

test("ExtraLog without a logger prints one JSON line per record", () => {
  const lines: { stream: string; line: string }[] = [];
  const { log, error } = console;
  console.log = (line: string) => void lines.push({ stream: "out", line });
  console.error = (line: string) => void lines.push({ stream: "err", line });
  try {
    const mw = new ExtraLog({ start: false, message: true });
    const base = context(unitActor("json-lines"), { attempt: 3 });
    mw.onStart(base);
    mw.onSuccess(success(base, 12.34567));
    mw.onFailure(failure(base, "not an error"));
  } finally {
    console.log = log;
    console.error = error;
  }
  assert.deepEqual(lines.map((l) => l.stream), ["out", "err"]);
  const [ok, failed] = lines.map((l) => JSON.parse(l.line));
  assert.equal(ok.level, "info");
  assert.equal(ok.phase, "success");
  assert.equal(ok.actor, "json-lines");
  assert.equal(ok.attempt, 3);
  assert.equal(ok.duration, 12.346);
  assert.equal(ok.message, "m");
  assert.equal(failed.level, "error");
  assert.deepEqual(failed.error, { type: "string", message: "not an error" });
});
