import { test } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { jetstreamManager } from "@nats-io/jetstream";
import { startNatsServer } from "../../testing.ts";
import {
  CloudEvent,
  EmitTimeoutError,
  Event,
  Events,
  NoStreamError,
  RequestTimeoutError,
} from "../../mod.ts";
import { addInterest, uniqueName, until } from "../_helpers.ts";

test("ConnectedEvents.emit sync to an event without a stream throws NoStreamError", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.string());
  await using conn = await new Events(e).connect(server.url);
  await assert.rejects(conn.emit(e, "lost", { sync: true }), (error: Error) => {
    assert.ok(error instanceof NoStreamError, `${error.name}: ${error.message}`);
    assert.equal(error.event, e.name);
    assert.equal(error.subject, e.name);
    assert.match(
      error.message,
      new RegExp(`No stream for event "${e.name}" \\(subject "${e.name}"\\)`),
    );
    assert.match(error.message, /call Events\.register\(\)/);
    return true;
  });
});

test("ConnectedEvents.emit with verifyStreams refuses a plain emit to an event without a stream", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.string());
  const other = new Event(uniqueName(), v.string());
  await using conn = await new Events(e, other).connect(server.url, { verifyStreams: true });
  await assert.rejects(conn.emit(e, "lost"), (error: Error) => {
    assert.ok(error instanceof NoStreamError, `${error.name}: ${error.message}`);
    assert.match(error.message, /call Events\.register\(\)/);
    return true;
  });
  // A failed check is not remembered: once registered, the emit goes through.
  await conn.register();
  const jsm = await addInterest(conn.connection, e.streamName);
  await conn.emit(e, "kept");
  await conn.emit(e, "kept too");
  // A plain emit is a core publish: the flush's round trip shows the server has it, but
  // JetStream stores it in its own time.
  await conn.connection.flush();
  await until(
    async () => (await jsm.streams.info(e.streamName)).state.messages === 2,
    5000,
    "both plain emits stored",
  );
  // A stream of that name that does not take the subject stores nothing either.
  await jsm.streams.update(other.streamName, { subjects: [`${other.name}.elsewhere`] });
  await assert.rejects(conn.emit(other, "lost"), NoStreamError);
});

test("ConnectedEvents.emit with verifyStreams checks each event once", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.string());
  await using conn = await new Events(e).connect(server.url, { verifyStreams: true });
  await conn.register();
  // A burst of first emits shares one check: count the stream info requests.
  let infos = 0;
  const spy = conn.connection.subscribe(`$JS.API.STREAM.INFO.${e.streamName}`, {
    callback: () => void infos++,
  });
  await conn.connection.flush();
  await Promise.all(Array.from({ length: 50 }, (_, i) => conn.emit(e, `burst ${i}`)));
  await conn.emit(e, "checked");
  await conn.connection.flush();
  spy.unsubscribe();
  assert.equal(infos, 1);
  // The check's success is remembered for the connection: a stream deleted afterwards
  // is not noticed by plain emits (as documented), only by sync ones.
  await (await jetstreamManager(conn.connection)).streams.delete(e.streamName);
  await conn.emit(e, "not checked again");
  await assert.rejects(conn.emit(e, "sync", { sync: true }), NoStreamError);
});

test("ConnectedEvents.request with verifyStreams throws NoStreamError instead of timing out", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.string()).withResponse(v.string());
  await using plain = await new Events(e).connect(server.url);
  await assert.rejects(plain.request(e, "x", { timeout: 300 }), RequestTimeoutError);
  await using conn = await new Events(e).connect(server.url, { verifyStreams: true });
  await assert.rejects(conn.request(e, "x", { timeout: 300 }), NoStreamError);
});

test("ConnectedEvents.emit sync against a frozen server throws EmitTimeoutError", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.string());
  await using conn = await new Events(e).connect(server.url);
  await conn.register();
  const jsm = await addInterest(conn.connection, e.streamName);
  await server.pause();
  const started = Date.now();
  const [withUid, withoutUid] = await Promise.allSettled([
    conn.emit(e, "a", { uid: "order-42", sync: true }),
    conn.emit(e, "b", { sync: true }),
  ]);
  const took = Date.now() - started;
  await server.resume();
  assert.equal(withUid.status, "rejected");
  const error = (withUid as PromiseRejectedResult).reason as EmitTimeoutError;
  assert.ok(error instanceof EmitTimeoutError, `${error}`);
  assert.equal(error.event, e.name);
  assert.equal(error.uid, "order-42");
  assert.equal(error.outcome, "unknown");
  assert.equal((error.cause as Error).name, "TimeoutError");
  assert.match(error.message, new RegExp(`stream of event "${e.name}" \\(uid "order-42"\\)`));
  assert.match(error.message, /the outcome is unknown, the message may have been stored/);
  assert.match(
    error.message,
    /emitting again with the same uid is safe within the stream's duplicate window/,
  );
  assert.equal(withoutUid.status, "rejected");
  const bare = (withoutUid as PromiseRejectedResult).reason as EmitTimeoutError;
  assert.ok(bare instanceof EmitTimeoutError);
  assert.equal(bare.uid, undefined);
  assert.match(bare.message, /\(no uid\).*may store it twice: pass a uid/);
  // The message reached the frozen server's socket: it was stored after all, and the
  // retry with the same uid is dropped as a duplicate, as the error promised.
  const retry = await conn.emit(e, "a", { uid: "order-42", sync: true });
  assert.equal(retry.duplicate, true);
  assert.equal((await jsm.streams.info(e.streamName)).state.messages, 2);
  console.info(`sync emit to a frozen server failed after ${took} ms; the retry was a duplicate`);
});

const refusedUids: [unknown, RegExp][] = [
  ["   ", /uid " {3}" starts or ends with whitespace/],
  [" pad ", /uid " pad " starts or ends with whitespace/],
  ["pad\t", /uid "pad\\t" starts or ends with whitespace/],
  ["", /uid must be a non-empty string/],
  ["a\r\nNats-Expected-Stream: x", /uid .* contains a line break/],
  [42, /uid must be a non-empty string, got 42/],
];

const refusedMeta: [Record<string, unknown>, RegExp][] = [
  [{ "Walnats-Delay": "soon" }, /meta header "Walnats-Delay" is reserved/],
  [{ "walnats-trace": "t" }, /meta header "walnats-trace" is reserved/],
  [{ "NATS-Msg-Id": "dup" }, /meta header "NATS-Msg-Id" is reserved/],
  [{ "Nats-Expected-Last-Sequence": "1" }, /meta header "Nats-Expected-Last-Sequence" is reserved/],
  [{ "": "x" }, /meta header name "" is invalid/],
  [{ "X Tenant": "x" }, /meta header name "X Tenant" is invalid/],
  [{ "X:Tenant": "x" }, /meta header name "X:Tenant" is invalid/],
  [{ "X-Count": 3 }, /meta header "X-Count" must be a string, got 3/],
  [{ "X-Tenant": "a\nb" }, /meta header "X-Tenant" .* contains a line break/],
  [{ "X-Tenant": " acme" }, /meta header "X-Tenant" " acme" starts or ends with whitespace/],
];

test("ConnectedEvents.emit refuses a uid or meta it would send changed, and sends nothing", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.string());
  await using conn = await new Events(e).connect(server.url);
  await conn.register();
  const jsm = await addInterest(conn.connection, e.streamName);
  const where = new RegExp(`^Cannot emit event "${e.name}": `);
  for (const sync of [false, true]) {
    for (const [uid, why] of refusedUids) {
      await assert.rejects(conn.emit(e, "x", { uid: uid as string, sync }), (error: Error) => {
        assert.ok(error instanceof TypeError, `${uid}: ${error}`);
        assert.match(error.message, where);
        assert.match(error.message, why);
        return true;
      });
    }
    for (const [meta, why] of refusedMeta) {
      await assert.rejects(
        conn.emit(e, "x", { meta: meta as Record<string, string>, sync }),
        (error: Error) => {
          assert.ok(error instanceof TypeError, `${JSON.stringify(meta)}: ${error}`);
          assert.match(error.message, where);
          assert.match(error.message, why);
          return true;
        },
      );
    }
    await assert.rejects(
      conn.emit(e, "x", { traceId: " t", sync }),
      /traceId " t" starts or ends with whitespace/,
    );
    await assert.rejects(
      conn.emit(e, "x", {
        meta: new CloudEvent({ id: "a\nb", source: "/s", type: "t" }),
        sync,
      }),
      /meta header "ce-id" .* contains a line break/,
    );
  }
  await conn.connection.flush();
  assert.equal((await jsm.streams.info(e.streamName)).state.messages, 0);
  // What is allowed still goes through as given.
  const ok = await conn.emit(e, "x", {
    uid: "pad",
    meta: { "X-Tenant": "acme", "ce-custom": "" },
    sync: true,
  });
  const stored = (await jsm.streams.getMessage(e.streamName, { seq: ok.seq }))!;
  assert.equal(stored.header.get("Nats-Msg-Id"), "pad");
  assert.equal(stored.header.get("X-Tenant"), "acme");
});

test("ConnectedEvents.request refuses a bad uid or meta, naming request, and sends nothing", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.string()).withResponse(v.string());
  await using conn = await new Events(e).connect(server.url);
  await conn.register();
  const jsm = await addInterest(conn.connection, e.streamName);
  const where = new RegExp(`^Cannot request event "${e.name}": `);
  await assert.rejects(conn.request(e, "x", { uid: " pad " }), (error: Error) => {
    assert.ok(error instanceof TypeError);
    assert.match(error.message, where);
    assert.match(error.message, /uid " pad " starts or ends with whitespace/);
    return true;
  });
  await assert.rejects(
    conn.request(e, "x", { meta: { "Walnats-Reply": "_INBOX.x" } }),
    /^TypeError: Cannot request event .*: meta header "Walnats-Reply" is reserved/,
  );
  await conn.connection.flush();
  assert.equal((await jsm.streams.info(e.streamName)).state.messages, 0);
});
