import { test } from "node:test";
import assert from "node:assert/strict";
import { msgpack } from "../../src/serializers/msgpack.ts";
import { assertSerializerError, large, small, unicode } from "./_fixtures.ts";

function bytes(...values: number[]): Uint8Array {
  return new Uint8Array(values);
}

test("msgpack is named msgpack", () => {
  assert.equal(msgpack().name, "msgpack");
});

test("msgpack round-trips a small object", async () => {
  const serializer = msgpack<typeof small>();
  const payload = await serializer.encode(small);
  assert.ok(payload instanceof Uint8Array);
  assert.deepEqual(await serializer.decode(payload), small);
});

test("msgpack round-trips a unicode string", async () => {
  const serializer = msgpack<string>();
  assert.equal(await serializer.decode(await serializer.encode(unicode)), unicode);
});

test("msgpack round-trips a 10 KB payload in fewer bytes than JSON", async () => {
  const serializer = msgpack<typeof large>();
  const payload = await serializer.encode(large);
  assert.ok(JSON.stringify(large).length > 10_000);
  assert.ok(payload.length < JSON.stringify(large).length, `${payload.length} bytes`);
  assert.deepEqual(await serializer.decode(payload), large);
});

test("msgpack keeps bytes and dates", async () => {
  const serializer = msgpack<{ raw: Uint8Array; at: Date }>();
  const message = { raw: bytes(0, 1, 255), at: new Date("2025-01-02T03:04:05.678Z") };
  const decoded = await serializer.decode(await serializer.encode(message));
  assert.deepEqual([...decoded.raw], [0, 1, 255]);
  assert.ok(decoded.at instanceof Date);
  assert.equal(decoded.at.toISOString(), "2025-01-02T03:04:05.678Z");
});

test("msgpack writes objects as standard MessagePack maps", async () => {
  const payload = await msgpack().encode({ a: 1, b: [true, null] });
  // fixmap(2) "a" 1 "b" fixarray(2) true nil: what Python's msgpack.packb writes
  assert.deepEqual([...payload], [0x82, 0xa1, 0x61, 0x01, 0xa1, 0x62, 0x92, 0xc3, 0xc0]);
});

test("msgpack leaves out undefined properties as JSON does", async () => {
  const serializer = msgpack<{ a: number; b?: string | undefined; list: unknown[] }>();
  const decoded = await serializer.decode(
    await serializer.encode({ a: 1, b: undefined, list: [undefined] }),
  );
  assert.deepEqual(decoded, { a: 1, list: [null] });
  assert.equal("b" in decoded, false);
});

test("msgpack reads 64-bit integers from other encoders as numbers", async () => {
  // {"ts": uint64 1732300000000}, as Python's msgpack writes it
  const payload = bytes(0x81, 0xa2, 0x74, 0x73, 0xcf, 0, 0, 0x01, 0x93, 0x55, 0x20, 0x4b, 0);
  assert.deepEqual(await msgpack().decode(payload), { ts: 1732300000000 });
});

test("msgpack payloads stay intact when more messages are encoded", async () => {
  const serializer = msgpack<{ n: number }>();
  const payloads = [];
  for (let n = 0; n < 2000; n++) payloads.push(await serializer.encode({ n }));
  for (const [n, payload] of payloads.entries()) {
    assert.deepEqual(await serializer.decode(payload), { n });
  }
});

test("msgpack decodes unknown extension types as ExtData", async () => {
  const decoded = await msgpack<{ type: number; data: Uint8Array }>().decode(bytes(0xd4, 5, 7));
  assert.equal(decoded.type, 5);
  assert.deepEqual([...decoded.data], [7]);
});

test("msgpack rejects a truncated payload", async () => {
  const payload = await msgpack().encode(large);
  for (const length of [1, 100, payload.length - 1]) {
    await assertSerializerError(
      () => msgpack().decode(payload.subarray(0, length)),
      "msgpack",
      /invalid MessagePack data: payload ends too early/,
    );
  }
});

test("msgpack rejects an empty payload", async () => {
  await assertSerializerError(
    () => msgpack().decode(new Uint8Array(0)),
    "msgpack",
    /invalid MessagePack data: payload ends too early/,
  );
});

test("msgpack rejects trailing bytes", async () => {
  await assertSerializerError(
    () => msgpack().decode(bytes(0x01, 0x02)),
    "msgpack",
    /invalid MessagePack data: Extra 1 of 2 byte\(s\)/,
  );
});

test("msgpack rejects the never-used byte 0xc1", async () => {
  await assertSerializerError(
    () => msgpack().decode(bytes(0xc1)),
    "msgpack",
    /invalid MessagePack data: Unrecognized type byte: 0xc1/,
  );
});

test("msgpack rejects a __proto__ key", async () => {
  const proto = [...new TextEncoder().encode("__proto__")];
  await assertSerializerError(
    () => msgpack().decode(bytes(0x81, 0xa9, ...proto, 0x80)),
    "msgpack",
    /invalid MessagePack data: The key __proto__ is not allowed/,
  );
});

test("msgpack rejects garbage that claims a huge length", async () => {
  await assertSerializerError(
    () => msgpack().decode(bytes(0xdb, 0xff, 0xff, 0xff, 0xff, 0x61)),
    "msgpack",
    /invalid MessagePack data: payload ends too early/,
  );
});

test("msgpack rejects values it cannot encode", async () => {
  await assertSerializerError(
    () => msgpack().encode({ id: Symbol("id") }),
    "msgpack",
    /cannot encode the message: Unrecognized object: \[object Symbol\]/,
  );
  await assertSerializerError(
    () => msgpack().encode({ id: 1n }),
    "msgpack",
    /cannot encode the message: Unrecognized object: \[object BigInt\]/,
  );
});
