import { test } from "node:test";
import assert from "node:assert/strict";
import { aesGcm } from "../../src/serializers/aes_gcm.ts";
import { gzip } from "../../src/serializers/gzip.ts";
import { hmac } from "../../src/serializers/hmac.ts";
import { msgpack } from "../../src/serializers/msgpack.ts";
import type { Serializer } from "../../src/serializers/serializer.ts";
import { assertSerializerError, json, large, small, unicode } from "./_fixtures.ts";

const k1 = crypto.getRandomValues(new Uint8Array(32));
const k2 = crypto.getRandomValues(new Uint8Array(16));
const one = { current: "k1", keys: { k1 } };

test("aesGcm is named after the inner serializer", () => {
  assert.equal(aesGcm(json, one).name, "aes-gcm(json)");
});

test("aesGcm round-trips a small object", async () => {
  const serializer = aesGcm(json, one);
  assert.deepEqual(await serializer.decode(await serializer.encode(small)), small);
});

test("aesGcm round-trips a unicode string", async () => {
  const serializer = aesGcm(json, one);
  assert.equal(await serializer.decode(await serializer.encode(unicode)), unicode);
});

test("aesGcm round-trips a 10 KB payload", async () => {
  const serializer = aesGcm(json, one);
  assert.deepEqual(await serializer.decode(await serializer.encode(large)), large);
});

test("aesGcm lays out version, key id, nonce, then ciphertext and tag", async () => {
  const serializer = aesGcm(json, { current: "clé-1", keys: { "clé-1": k1 } });
  const payload = await serializer.encode(small) as Uint8Array<ArrayBuffer>;
  const id = new TextEncoder().encode("clé-1");
  assert.equal(payload[0], 1);
  assert.equal(payload[1], id.length);
  assert.deepEqual([...payload.subarray(2, 2 + id.length)], [...id]);
  assert.equal(payload.length, 2 + id.length + 12 + JSON.stringify(small).length + 16);
  const nonce = payload.subarray(2 + id.length, 2 + id.length + 12);
  const key = await crypto.subtle.importKey("raw", k1, "AES-GCM", false, ["decrypt"]);
  const plaintext = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: nonce, additionalData: payload.subarray(0, 2 + id.length) },
    key,
    payload.subarray(2 + id.length + 12),
  );
  assert.equal(new TextDecoder().decode(plaintext), JSON.stringify(small));
});

test("aesGcm uses a fresh nonce for every message", async () => {
  const serializer = aesGcm(json, one);
  const nonces = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const payload = await serializer.encode(small);
    nonces.add(payload.subarray(4, 16).join(","));
  }
  assert.equal(nonces.size, 50);
});

test("aesGcm decrypts with the key the payload names after rotation", async () => {
  const before = aesGcm(json, { current: "k1", keys: { k1 } });
  const after = aesGcm(json, { current: "k2", keys: { k1, k2 } });
  const old = await before.encode(small);
  const fresh = await after.encode(large);
  assert.equal(new TextDecoder().decode(fresh.subarray(2, 4)), "k2");
  assert.deepEqual(await after.decode(old), small);
  assert.deepEqual(await after.decode(fresh), large);
  await assertSerializerError(
    () => before.decode(fresh),
    "aes-gcm(json)",
    /unknown key id "k2"/,
  );
});

test("aesGcm accepts CryptoKeys", async () => {
  const current = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
    "encrypt",
    "decrypt",
  ]);
  const old = await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 }, false, [
    "decrypt",
  ]);
  const serializer = aesGcm(json, { current: "new", keys: { new: current, old } });
  assert.deepEqual(await serializer.decode(await serializer.encode(small)), small);
});

test("aesGcm stacks with other wrappers", async () => {
  const serializer = aesGcm(gzip(msgpack<typeof large>()), one);
  assert.equal(serializer.name, "aes-gcm(gzip(msgpack))");
  assert.deepEqual(await serializer.decode(await serializer.encode(large)), large);
  const signed = hmac(aesGcm(json, one), "signing key");
  assert.deepEqual(await signed.decode(await signed.encode(small)), small);
});

test("aesGcm imports keys given as bytes once", async () => {
  const subtle = crypto.subtle as SubtleCrypto & { importKey: SubtleCrypto["importKey"] };
  const original = subtle.importKey;
  let imports = 0;
  subtle.importKey = function (this: SubtleCrypto, ...args: unknown[]) {
    imports++;
    return (original as (...args: unknown[]) => Promise<CryptoKey>).apply(this, args);
  } as SubtleCrypto["importKey"];
  try {
    const serializer = aesGcm(json, { current: "k1", keys: { k1, k2 } });
    const payloads = await Promise.all([1, 2, 3].map((n) => serializer.encode({ n })));
    for (const payload of payloads) await serializer.decode(payload);
    assert.equal(imports, 1);
  } finally {
    delete (subtle as Partial<typeof subtle>).importKey;
    if (crypto.subtle.importKey !== original) subtle.importKey = original;
  }
});

test("aesGcm rejects a payload encrypted with another key of the same id", async () => {
  const payload = await aesGcm(json, { current: "k1", keys: { k1: k2 } }).encode(small);
  await assertSerializerError(
    () => aesGcm(json, one).decode(payload),
    "aes-gcm(json)",
    /decryption failed with key "k1": wrong key or altered payload/,
  );
});

test("aesGcm rejects a tampered ciphertext", async () => {
  const serializer = aesGcm(json, one);
  const payload = (await serializer.encode(small)).slice();
  payload[20]! ^= 1;
  await assertSerializerError(
    () => serializer.decode(payload),
    "aes-gcm(json)",
    /decryption failed with key "k1"/,
  );
});

test("aesGcm rejects a payload whose key id was swapped", async () => {
  const serializer = aesGcm(json, { current: "k1", keys: { k1, k2: k1 } });
  const payload = (await serializer.encode(small)).slice();
  payload[3] = "2".charCodeAt(0); // now names k2, which holds the same key
  await assertSerializerError(
    () => serializer.decode(payload),
    "aes-gcm(json)",
    /decryption failed with key "k2"/,
  );
});

test("aesGcm rejects an unknown format version", async () => {
  const payload = (await aesGcm(json, one).encode(small)).slice();
  payload[0] = 2;
  await assertSerializerError(
    () => aesGcm(json, one).decode(payload),
    "aes-gcm(json)",
    /unsupported payload version 2/,
  );
});

test("aesGcm rejects truncated payloads", async () => {
  const serializer = aesGcm(json, one);
  const payload = await serializer.encode(small);
  for (const length of [0, 1, 5, 2 + 2 + 12 + 15]) {
    await assertSerializerError(
      () => serializer.decode(payload.subarray(0, length)),
      "aes-gcm(json)",
      /payload is truncated/,
    );
  }
  await assertSerializerError(
    () => serializer.decode(payload.subarray(0, payload.length - 1)),
    "aes-gcm(json)",
    /decryption failed/,
  );
});

test("aesGcm rejects garbage", async () => {
  const garbage = new TextEncoder().encode('{"this is":"not encrypted at all"}');
  await assertSerializerError(
    () => aesGcm(json, one).decode(garbage),
    "aes-gcm(json)",
    /unsupported payload version 123/,
  );
  const random = crypto.getRandomValues(new Uint8Array(100));
  random[0] = 1;
  random[1] = 2;
  await assertSerializerError(
    () => aesGcm(json, one).decode(random),
    "aes-gcm(json)",
    /unknown key id/,
  );
});

test("aesGcm passes errors of the inner serializer through unchanged", async () => {
  const bytes: Serializer<Uint8Array> = { name: "bytes", encode: (m) => m, decode: (d) => d };
  const payload = await aesGcm(bytes, one).encode(new TextEncoder().encode("not json"));
  await assert.rejects(async () => await aesGcm(json, one).decode(payload), SyntaxError);
});

test("aesGcm rejects unusable keys at once", async () => {
  assert.throws(() => aesGcm(json, { current: "k3", keys: { k1 } }), TypeError);
  assert.throws(() => aesGcm(json, { current: "", keys: { "": k1 } }), RangeError);
  assert.throws(
    () => aesGcm(json, { current: "x".repeat(256), keys: { ["x".repeat(256)]: k1 } }),
    RangeError,
  );
  assert.throws(() => aesGcm(json, { current: "k", keys: { k: new Uint8Array(10) } }), RangeError);
  const hmacKey = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  assert.throws(() => aesGcm(json, { current: "k", keys: { k: hmacKey } }), TypeError);
  const decryptOnly = await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 }, false, [
    "decrypt",
  ]);
  assert.throws(() => aesGcm(json, { current: "k", keys: { k: decryptOnly } }), TypeError);
  const encryptOnly = await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 }, false, [
    "encrypt",
  ]);
  assert.throws(() => aesGcm(json, { current: "k1", keys: { k1, old: encryptOnly } }), TypeError);
});
