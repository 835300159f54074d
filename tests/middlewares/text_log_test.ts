import { test } from "node:test";
import assert from "node:assert/strict";
import { type Logger, TextLog } from "../../mod.ts";
import { context, failure, success, unitActor } from "./_setup.ts";

test("TextLog writes a readable line per job event", () => {
  const lines: string[] = [];
  const logger: Logger = {
    error: (m) => void lines.push(`error ${m}`),
    warn: (m) => void lines.push(`warn ${m}`),
    info: (m) => void lines.push(`info ${m}`),
  };
  const mw = new TextLog({ logger });
  const base = context(unitActor("send-email"), { attempt: 2 });
  const seq = base.metadata.streamSeq;
  const event = base.actor.event.name;
  mw.onStart(base);
  mw.onSuccess(success(base, 3.21));
  mw.onFailure(failure(base, new RangeError("bad"), 4));
  mw.onFailure(failure({ ...base, message: undefined }, new Error("cannot decode")));
  assert.deepEqual(lines, [
    `info actor "send-email" started message ${seq} of "${event}" (attempt 2)`,
    `info actor "send-email" handled message ${seq} of "${event}" in 3.2 ms (attempt 2)`,
    `error actor "send-email" failed on message ${seq} of "${event}" in 4.0 ms (attempt 2): RangeError: bad`,
    `error actor "send-email" could not handle message ${seq} of "${event}" (attempt 2): Error: cannot decode`,
  ]);
});

test("TextLog with start: false skips starts", () => {
  const lines: string[] = [];
  const logger: Logger = { error: () => {}, warn: () => {}, info: (m) => void lines.push(m) };
  const mw = new TextLog({ logger, start: false });
  mw.onStart(context());
  assert.deepEqual(lines, []);
});
