// Bad payloads through a real nats-server: each is terminated once, reported to onFailure with an
// error that names the serializer, and the listener goes on to the next message.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { startNatsServer } from "../../testing.ts";
import {
  Actor,
  Actors,
  aesGcm,
  Event,
  Events,
  fernet,
  gzip,
  hmac,
  jsonSerializer,
  type Logger,
  msgpack,
  type Serializer,
  SerializerError,
} from "../../mod.ts";
import { settledInfo, uniqueName } from "../_helpers.ts";

const schema = v.object({ n: v.number() });
type Message = v.InferOutput<typeof schema>;
const json = jsonSerializer as Serializer<Message>;
const fernetKey = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";
const otherFernetKey = "x8rkNHSEh5BRnkGO8OvXpGQj0ZIZcaiwAN7b9uGBxjs=";
const aesKey = new Uint8Array(32).fill(7);
const otherAesKey = new Uint8Array(32).fill(9);
const encoder = new TextEncoder();

interface Case {
  name: string;
  serializer: Serializer<Message>;
  /** Payloads the serializer must refuse, each with the reason its error should give. */
  bad: () => Promise<[Uint8Array, RegExp][]>;
}

async function gzipBomb(size: number): Promise<Uint8Array> {
  const stream = new Blob([new Uint8Array(size)]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const cases: Case[] = [
  {
    name: "msgpack",
    serializer: msgpack<Message>(),
    bad: () =>
      Promise.resolve([
        [new Uint8Array([0xc1]), /msgpack/],
        [new Uint8Array([0x92, 0x01]), /msgpack/],
      ]),
  },
  {
    name: "gzip",
    serializer: gzip(json, { maxSize: 64 * 1024 }),
    bad: async () => {
      const good = await gzip(json).encode({ n: 1 });
      return [
        [encoder.encode("not gzip at all"), /gzip/],
        [good.subarray(0, good.length - 6), /gzip/],
        [await gzipBomb(1024 * 1024), /gzip.*(64|65536|larger|more than)/i],
      ];
    },
  },
  {
    name: "hmac",
    serializer: hmac(json, "the key"),
    bad: async () => {
      const signed = await hmac(json, "the key").encode({ n: 1 });
      const tampered = signed.slice();
      tampered[tampered.length - 2]! ^= 1;
      return [
        [tampered, /hmac.*signature does not match/],
        [await hmac(json, "another key").encode({ n: 1 }), /hmac.*signature does not match/],
        [signed.subarray(0, 10), /hmac.*shorter than the digest/],
      ];
    },
  },
  {
    name: "aes-gcm",
    serializer: aesGcm(json, { current: "k1", keys: { k1: aesKey } }),
    bad: async () => {
      const sealed = await aesGcm(json, { current: "k1", keys: { k1: aesKey } }).encode({ n: 1 });
      const tampered = sealed.slice();
      tampered[tampered.length - 1]! ^= 1;
      return [
        [tampered, /aes-gcm.*wrong key or altered/],
        [
          await aesGcm(json, { current: "k1", keys: { k1: otherAesKey } }).encode({ n: 1 }),
          /aes-gcm.*wrong key or altered/,
        ],
        [
          await aesGcm(json, { current: "k9", keys: { k9: aesKey } }).encode({ n: 1 }),
          /unknown key id/,
        ],
        [sealed.subarray(0, 8), /aes-gcm.*truncated/],
      ];
    },
  },
  {
    name: "fernet",
    serializer: fernet(json, fernetKey, { ttl: 60_000 }),
    bad: async () => [
      [await fernet(json, otherFernetKey).encode({ n: 1 }), /fernet.*signature does not match/],
      [
        await fernet(json, fernetKey, { now: () => Date.now() - 3_600_000 }).encode({ n: 1 }),
        /fernet.*expired/,
      ],
      [encoder.encode("%%% not base64 %%%"), /fernet.*base64/],
    ],
  },
];

const quiet: Logger = { error() {}, warn() {}, info() {} };

for (const c of cases) {
  test(`a ${c.name} payload that cannot be decoded is terminated, reported, and the next one handled`, async () => {
    await using server = await startNatsServer();
    const event = new Event(uniqueName(c.name), schema, { serializer: c.serializer });
    const handled: number[] = [];
    const failures: { message: unknown; error: unknown }[] = [];
    const actor = new Actor("decoder", event, (m) => void handled.push(m.n), {
      retryDelay: [10],
      middlewares: [{ onFailure: (ctx) => void failures.push(ctx) }],
    });
    await using actors = await new Actors(actor).connect(server.url);
    await actors.register();
    await using events = await new Events(event).connect(server.url);
    const js = jetstream(events.connection);
    const bad = await c.bad();
    for (const [payload] of bad) await js.publish(event.name, payload);
    await events.emit(event, { n: 42 }, { sync: true });
    await actors.listen({ burst: true, logger: quiet });

    assert.deepEqual(handled, [42], "the good message after the bad ones was handled");
    assert.equal(failures.length, bad.length, "each bad payload was reported once");
    for (const failure of failures) {
      assert.equal(failure.message, undefined);
      assert.ok(failure.error instanceof SerializerError, String(failure.error));
    }
    // Jobs run concurrently, so the reports come in any order.
    const reasons = failures.map((f) => (f.error as Error).message);
    for (const [, reason] of bad) {
      assert.ok(reasons.some((r) => reason.test(r)), `no report matched ${reason}: ${reasons}`);
    }
    // JetStream applies the terms in its own time (see settledInfo).
    const jsm = await jetstreamManager(events.connection);
    const info = await settledInfo(jsm, event.streamName, "decoder");
    assert.equal(info.num_pending, 0);
    assert.equal(info.num_ack_pending, 0, "bad payloads were terminated, not left to ackWait");
    assert.equal(info.num_redelivered, 0, "no bad payload was retried");
  });
}
