import { test } from "node:test";
import assert from "node:assert/strict";
import { gzip } from "../../src/serializers/gzip.ts";
import { hmac } from "../../src/serializers/hmac.ts";
import { msgpack } from "../../src/serializers/msgpack.ts";
import { assertSerializerError, json, large, small, text, unicode } from "./_fixtures.ts";

const key = "a secret key that is long enough for the tests";

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

test("hmac is named after the hash and the inner serializer", () => {
  assert.equal(hmac(json, key).name, "hmac-sha512(json)");
  assert.equal(hmac(json, key, { hash: "SHA-256" }).name, "hmac-sha256(json)");
  assert.equal(hmac(hmac(json, key), key).name, "hmac-sha512(hmac-sha512(json))");
});

test("hmac round-trips a small object", async () => {
  const serializer = hmac(json, key);
  assert.deepEqual(await serializer.decode(await serializer.encode(small)), small);
});

test("hmac round-trips a unicode string", async () => {
  const serializer = hmac(text, key, { hash: "SHA-256" });
  assert.equal(await serializer.decode(await serializer.encode(unicode)), unicode);
});

test("hmac round-trips a 10 KB payload", async () => {
  const serializer = hmac(json, new TextEncoder().encode(key));
  assert.deepEqual(await serializer.decode(await serializer.encode(large)), large);
});

test("hmac writes the digest, then the inner payload (RFC 4231 case 2)", async () => {
  const message = "what do ya want for nothing?";
  const sha256 = await hmac(text, "Jefe", { hash: "SHA-256" }).encode(message);
  assert.equal(sha256.length, 32 + message.length);
  assert.equal(
    hex(sha256.subarray(0, 32)),
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  );
  assert.equal(new TextDecoder().decode(sha256.subarray(32)), message);
  const sha512 = await hmac(text, "Jefe").encode(message);
  assert.equal(
    hex(sha512.subarray(0, 64)),
    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
  );
  assert.equal(new TextDecoder().decode(sha512.subarray(64)), message);
});

test("hmac accepts a CryptoKey and takes its hash", async () => {
  const cryptoKey = await crypto.subtle.generateKey(
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
  const serializer = hmac(json, cryptoKey);
  assert.equal(serializer.name, "hmac-sha256(json)");
  const payload = await serializer.encode(small);
  assert.equal(payload.length, 32 + JSON.stringify(small).length);
  assert.deepEqual(await serializer.decode(payload), small);
});

test("hmac stacks with gzip and msgpack", async () => {
  const serializer = hmac(gzip(msgpack<typeof large>()), key);
  assert.equal(serializer.name, "hmac-sha512(gzip(msgpack))");
  assert.deepEqual(await serializer.decode(await serializer.encode(large)), large);
  const inside = gzip(hmac(msgpack<typeof large>(), key, { hash: "SHA-256" }));
  assert.deepEqual(await inside.decode(await inside.encode(large)), large);
});

test("hmac imports a key given as bytes or a string once", async () => {
  const subtle = crypto.subtle as SubtleCrypto & { importKey: SubtleCrypto["importKey"] };
  const original = subtle.importKey;
  let imports = 0;
  subtle.importKey = function (this: SubtleCrypto, ...args: unknown[]) {
    imports++;
    return (original as (...args: unknown[]) => Promise<CryptoKey>).apply(this, args);
  } as SubtleCrypto["importKey"];
  try {
    const serializer = hmac(json, key);
    const payloads = await Promise.all([1, 2, 3].map((n) => serializer.encode({ n })));
    for (const payload of payloads) await serializer.decode(payload);
    assert.equal(imports, 1);
  } finally {
    delete (subtle as Partial<typeof subtle>).importKey;
    if (crypto.subtle.importKey !== original) subtle.importKey = original;
  }
});

test("hmac rejects a payload signed with another key", async () => {
  const payload = await hmac(json, "another key").encode(small);
  await assertSerializerError(
    () => hmac(json, key).decode(payload),
    "hmac-sha512(json)",
    /signature does not match/,
  );
});

test("hmac rejects a payload signed with another hash", async () => {
  const payload = await hmac(json, key, { hash: "SHA-256" }).encode(large);
  await assertSerializerError(
    () => hmac(json, key).decode(payload),
    "hmac-sha512(json)",
    /signature does not match/,
  );
});

test("hmac rejects a tampered payload", async () => {
  const serializer = hmac(json, key, { hash: "SHA-256" });
  const payload = (await serializer.encode({ amount: 10 })).slice();
  const body = payload.subarray(32);
  body.set(new TextEncoder().encode(JSON.stringify({ amount: 99 })));
  await assertSerializerError(
    () => serializer.decode(payload),
    "hmac-sha256(json)",
    /signature does not match/,
  );
});

test("hmac rejects a tampered digest", async () => {
  const serializer = hmac(json, key);
  const payload = (await serializer.encode(small)).slice();
  payload[5]! ^= 1;
  await assertSerializerError(
    () => serializer.decode(payload),
    "hmac-sha512(json)",
    /signature does not match/,
  );
});

test("hmac rejects a payload cut after the digest", async () => {
  const serializer = hmac(json, key);
  const payload = await serializer.encode(small);
  await assertSerializerError(
    () => serializer.decode(payload.subarray(0, 64)),
    "hmac-sha512(json)",
    /signature does not match/,
  );
});

test("hmac rejects a payload shorter than the digest", async () => {
  const serializer = hmac(json, key, { hash: "SHA-256" });
  const payload = await serializer.encode(small);
  await assertSerializerError(
    () => serializer.decode(payload.subarray(0, 31)),
    "hmac-sha256(json)",
    /payload shorter than the digest \(31 of 32 bytes\)/,
  );
  await assertSerializerError(
    () => serializer.decode(new Uint8Array(0)),
    "hmac-sha256(json)",
    /payload shorter than the digest/,
  );
});

test("hmac rejects garbage", async () => {
  const garbage = crypto.getRandomValues(new Uint8Array(100));
  await assertSerializerError(
    () => hmac(json, key).decode(garbage),
    "hmac-sha512(json)",
    /signature does not match/,
  );
});

test("hmac passes errors of the inner serializer through unchanged", async () => {
  const serializer = hmac(json, key);
  const signed = await hmac(text, key).encode("not json");
  await assert.rejects(async () => await serializer.decode(signed), SyntaxError);
});

test("hmac rejects unusable keys at once", async () => {
  assert.throws(() => hmac(json, ""), RangeError);
  assert.throws(() => hmac(json, new Uint8Array(0)), RangeError);
  const aes = await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 }, false, [
    "encrypt",
    "decrypt",
  ]);
  assert.throws(() => hmac(json, aes), TypeError);
  const sha256 = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
  assert.throws(() => hmac(json, sha256, { hash: "SHA-512" }), TypeError);
  const signOnly = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  assert.throws(() => hmac(json, signOnly), TypeError);
  assert.throws(() => hmac(json, key, { hash: "MD5" as "SHA-256" }), TypeError);
});
