import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { gzip } from "../../src/serializers/gzip.ts";
import { msgpack } from "../../src/serializers/msgpack.ts";
import type { Serializer } from "../../src/serializers/serializer.ts";
import { assertSerializerError, json, large, small, unicode } from "./_fixtures.ts";

const raw: Serializer<Uint8Array> = {
  name: "raw",
  encode: (message) => message,
  decode: (data) => data,
};

/** Gzip `count` chunks of `chunk` without holding the whole input in memory. */
async function compress(chunk: Uint8Array<ArrayBuffer>, count = 1): Promise<Uint8Array> {
  const stream = new CompressionStream("gzip");
  const writer = stream.writable.getWriter();
  const writing = (async () => {
    for (let i = 0; i < count; i++) await writer.write(chunk);
    await writer.close();
  })();
  const output = new Uint8Array(await new Response(stream.readable).arrayBuffer());
  await writing;
  return output;
}

async function decompress(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

test("gzip is named after the inner serializer", () => {
  assert.equal(gzip(json).name, "gzip(json)");
  assert.equal(gzip(gzip(msgpack())).name, "gzip(gzip(msgpack))");
});

test("gzip round-trips a small object", async () => {
  const serializer = gzip(json);
  assert.deepEqual(await serializer.decode(await serializer.encode(small)), small);
});

test("gzip round-trips a unicode string", async () => {
  const serializer = gzip(json);
  assert.equal(await serializer.decode(await serializer.encode(unicode)), unicode);
});

test("gzip round-trips a 10 KB payload and shrinks it", async () => {
  const serializer = gzip(json);
  const payload = await serializer.encode(large);
  assert.ok(payload.length < JSON.stringify(large).length / 3, `${payload.length} bytes`);
  assert.deepEqual(await serializer.decode(payload), large);
});

test("gzip writes standard gzip of the inner payload", async () => {
  const payload = await gzip(json).encode(small);
  assert.deepEqual([...payload.subarray(0, 3)], [0x1f, 0x8b, 0x08]);
  const inner = await decompress(payload as Uint8Array<ArrayBuffer>);
  assert.equal(new TextDecoder().decode(inner), JSON.stringify(small));
});

test("gzip decodes a payload compressed elsewhere", async () => {
  const payload = await compress(new TextEncoder().encode(JSON.stringify(large)));
  assert.deepEqual(await gzip(json).decode(payload), large);
});

test("gzip round-trips an empty inner payload", async () => {
  const serializer = gzip(raw);
  assert.deepEqual([...await serializer.decode(await serializer.encode(new Uint8Array(0)))], []);
});

test("gzip stacks with msgpack", async () => {
  const serializer = gzip(msgpack<typeof large>());
  assert.equal(serializer.name, "gzip(msgpack)");
  assert.deepEqual(await serializer.decode(await serializer.encode(large)), large);
});

test("gzip accepts output of exactly maxSize bytes", async () => {
  const data = new Uint8Array(4096).fill(7);
  const serializer = gzip(raw, { maxSize: 4096 });
  assert.deepEqual(await serializer.decode(await serializer.encode(data)), data);
});

test("gzip rejects output one byte over maxSize", async () => {
  const serializer = gzip(raw, { maxSize: 4095 });
  const payload = await serializer.encode(new Uint8Array(4096));
  await assertSerializerError(
    () => serializer.decode(payload),
    "gzip(raw)",
    /decompressed payload is larger than the limit of 4095 bytes/,
  );
});

test("gzip stops a decompression bomb early and without allocating its output", async () => {
  // 100 MB of zeros compress to about 100 KB.
  const bomb = await compress(new Uint8Array(1024 * 1024), 100);
  assert.ok(bomb.length < 200_000, `${bomb.length} bytes`);
  const serializer = gzip(raw, { maxSize: 1024 * 1024 });
  const rss = process.memoryUsage().rss;
  const started = performance.now();
  await assertSerializerError(
    () => serializer.decode(bomb),
    "gzip(raw)",
    /decompressed payload is larger than the limit of 1048576 bytes/,
  );
  const elapsed = performance.now() - started;
  const grown = process.memoryUsage().rss - rss;
  assert.ok(elapsed < 1000, `took ${elapsed} ms`);
  assert.ok(grown < 50 * 1024 * 1024, `RSS grew by ${grown} bytes`);
});

test("gzip limits the output to 16 MiB by default", async () => {
  const bomb = await compress(new Uint8Array(1024 * 1024), 17);
  await assertSerializerError(
    () => gzip(raw).decode(bomb),
    "gzip(raw)",
    /larger than the limit of 16777216 bytes/,
  );
});

test("gzip rejects data that is not gzip", async () => {
  await assertSerializerError(
    () => gzip(json).decode(new TextEncoder().encode('{"not":"gzip"}')),
    "gzip(json)",
    /invalid gzip data: /,
  );
});

test("gzip rejects a truncated payload", async () => {
  const payload = await gzip(json).encode(large);
  await assertSerializerError(
    () => gzip(json).decode(payload.subarray(0, payload.length - 10)),
    "gzip(json)",
    /invalid gzip data: /,
  );
  await assertSerializerError(
    () => gzip(json).decode(payload.subarray(0, 5)),
    "gzip(json)",
    /invalid gzip data: /,
  );
});

test("gzip rejects an empty payload", async () => {
  await assertSerializerError(
    () => gzip(json).decode(new Uint8Array(0)),
    "gzip(json)",
    /invalid gzip data: /,
  );
});

test("gzip rejects a corrupted payload", async () => {
  const payload = (await gzip(json).encode(large)).slice();
  payload[payload.length - 6]! ^= 0xff; // the CRC-32 of the output
  await assertSerializerError(
    () => gzip(json).decode(payload),
    "gzip(json)",
    /invalid gzip data: /,
  );
});

test("gzip passes errors of the inner serializer through unchanged", async () => {
  const failure = new Error("inner failure");
  const failing: Serializer<unknown> = {
    name: "failing",
    encode: () => new Uint8Array([1, 2, 3]),
    decode: () => {
      throw failure;
    },
  };
  const serializer = gzip(failing);
  const payload = await serializer.encode(null);
  await assert.rejects(async () => await serializer.decode(payload), (error: unknown) => {
    assert.equal(error, failure);
    return true;
  });
});

test("gzip rejects a maxSize that is not a positive integer", () => {
  for (const maxSize of [0, -1, 1.5, NaN, Infinity]) {
    assert.throws(() => gzip(json, { maxSize }), RangeError);
  }
});
