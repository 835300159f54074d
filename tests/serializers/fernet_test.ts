import { test } from "node:test";
import assert from "node:assert/strict";
import { fernet, type FernetOptions } from "../../src/serializers/fernet.ts";
import { gzip } from "../../src/serializers/gzip.ts";
import { msgpack } from "../../src/serializers/msgpack.ts";
import { assertSerializerError, json, large, small, text, unicode } from "./_fixtures.ts";

// The test vectors of the Fernet spec (github.com/fernet/spec: generate.json, verify.json,
// invalid.json). They all share the secret.
const secret = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";
const vectorToken =
  "gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==";
const invalid: ReadonlyArray<{ desc: string; token: string; now: string; reason: RegExp }> = [
  {
    desc: "incorrect mac",
    token:
      "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykQUFBQUFBQUFBQQ==",
    now: "1985-10-26T01:20:01-07:00",
    reason: /signature does not match/,
  },
  {
    desc: "too short",
    token: "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPA==",
    now: "1985-10-26T01:20:01-07:00",
    reason: /token is too short/,
  },
  {
    desc: "invalid base64",
    token:
      "%%%%%%%%%%%%%AECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykRtfsH-p1YsUD2Q==",
    now: "1985-10-26T01:20:01-07:00",
    reason: /token is not valid url-safe base64/,
  },
  {
    desc: "payload size not multiple of block size",
    token:
      "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPOm73QeoCk9uGib28Xe5vz6oxq5nmxbx_v7mrfyudzUm",
    now: "1985-10-26T01:20:01-07:00",
    reason: /ciphertext is not a whole number of 16-byte blocks/,
  },
  {
    desc: "payload padding error",
    token:
      "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0ODz4LEpdELGQAad7aNEHbf-JkLPIpuiYRLQ3RtXatOYREu2FWke6CnJNYIbkuKNqOhw==",
    now: "1985-10-26T01:20:01-07:00",
    reason: /decryption failed: bad padding/,
  },
  {
    desc: "far-future TS (unacceptable clock skew)",
    token:
      "gAAAAAAdwStRAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAnja1xKYyhd-Y6mSkTOyTGJmw2Xc2a6kBd-iX9b_qXQcw==",
    now: "1985-10-26T01:20:01-07:00",
    reason: /token timestamp is too far in the future/,
  },
  {
    desc: "expired TTL",
    token:
      "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1YdykRtfsH-p1YsUD2Q==",
    now: "1985-10-26T01:21:31-07:00",
    reason: /token has expired/,
  },
  {
    desc: "incorrect IV (causes padding error)",
    token:
      "gAAAAAAdwJ6xBQECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAkLhFLHpGtDBRLRTZeUfWgHSv49TF2AUEZ1TIvcZjK1zQ==",
    now: "1985-10-26T01:20:01-07:00",
    reason: /decryption failed: bad padding/,
  },
];

function ascii(token: string): Uint8Array {
  return new TextEncoder().encode(token);
}

function at(iso: string): () => number {
  return () => Date.parse(iso);
}

test("fernet is named after the inner serializer", () => {
  assert.equal(fernet(json, secret).name, "fernet(json)");
});

test("fernet makes the token of the spec's generate vector", async () => {
  // The IV is not an option of the public API; a test passes it the way an extra field would.
  const options = {
    now: at("1985-10-26T01:20:00-07:00"),
    iv: () => Uint8Array.from({ length: 16 }, (_, i) => i),
  };
  const payload = await fernet(text, secret, options).encode("hello");
  assert.equal(new TextDecoder().decode(payload), vectorToken);
});

test("fernet reads the token of the spec's verify vector", async () => {
  const serializer = fernet(text, secret, { ttl: 60_000, now: at("1985-10-26T01:20:01-07:00") });
  assert.equal(await serializer.decode(ascii(vectorToken)), "hello");
});

for (const vector of invalid) {
  test(`fernet rejects the spec's invalid vector "${vector.desc}"`, async () => {
    const serializer = fernet(text, secret, { ttl: 60_000, now: at(vector.now) });
    await assertSerializerError(
      () => serializer.decode(ascii(vector.token)),
      "fernet(text)",
      vector.reason,
    );
  });
}

test("fernet without ttl accepts old and future tokens, as Python's Fernet does", async () => {
  const serializer = fernet(text, secret, { now: at("2025-01-01T00:00:00Z") });
  assert.equal(await serializer.decode(ascii(vectorToken)), "hello");
  const early = fernet(text, secret, { now: at("1985-10-26T01:20:01-07:00") });
  const future = invalid.find((vector) => vector.desc.startsWith("far-future"))!.token;
  assert.equal(await early.decode(ascii(future)), "");
});

test("fernet reads a token made by Python's cryptography.fernet", async () => {
  // Fernet(secret).encrypt(b'{"id":1,"name":"héllo 👋"}') with cryptography 48
  const token =
    "gAAAAABrA25AKR59Oh8zZqpsu_jOj9JsuYktQ8Iq1UHnxgEvXo7_vhpAwpX42MX41YZgcV8mmKznPUU_KZD7JQ3EzpuQhpeL7Ri-slJN5GGu0EzX4mmIkoY=";
  assert.deepEqual(await fernet(json, secret).decode(ascii(token)), { id: 1, name: "héllo 👋" });
});

test("fernet round-trips a small object", async () => {
  const serializer = fernet(json, secret, { ttl: 1000 });
  assert.deepEqual(await serializer.decode(await serializer.encode(small)), small);
});

test("fernet round-trips a unicode string", async () => {
  const serializer = fernet(text, secret);
  assert.equal(await serializer.decode(await serializer.encode(unicode)), unicode);
});

test("fernet round-trips a 10 KB payload", async () => {
  const serializer = fernet(json, secret);
  assert.deepEqual(await serializer.decode(await serializer.encode(large)), large);
});

test("fernet payloads are padded url-safe base64 tokens of version 0x80", async () => {
  const now = Date.parse("2025-06-01T12:00:00.750Z");
  const payload = await fernet(json, secret, { now: () => now }).encode(large);
  const token = new TextDecoder().decode(payload);
  assert.match(token, /^gAAAAA[A-Za-z0-9_-]+={0,2}$/);
  assert.equal(token.length % 4, 0);
  const bytes = Uint8Array.from(
    atob(token.replaceAll("-", "+").replaceAll("_", "/")),
    (c) => c.charCodeAt(0),
  );
  assert.equal(bytes[0], 0x80);
  assert.equal(new DataView(bytes.buffer).getBigUint64(1), BigInt(Math.floor(now / 1000)));
  assert.equal((bytes.length - 1 - 8 - 16 - 32) % 16, 0);
});

test("fernet uses a fresh IV for every message", async () => {
  const serializer = fernet(json, secret);
  const first = new TextDecoder().decode(await serializer.encode(small));
  const second = new TextDecoder().decode(await serializer.encode(small));
  assert.notEqual(first.slice(12, 36), second.slice(12, 36));
});

test("fernet reads tokens without the base64 padding", async () => {
  const serializer = fernet(text, secret);
  assert.equal(await serializer.decode(ascii(vectorToken.replace(/=+$/, ""))), "hello");
});

test("fernet stacks with other wrappers", async () => {
  const serializer = fernet(gzip(msgpack<typeof large>()), secret);
  assert.equal(serializer.name, "fernet(gzip(msgpack))");
  assert.deepEqual(await serializer.decode(await serializer.encode(large)), large);
  const outer = gzip(fernet(json, secret));
  assert.deepEqual(await outer.decode(await outer.encode(large)), large);
});

test("fernet imports the key once", async () => {
  const subtle = crypto.subtle as SubtleCrypto & { importKey: SubtleCrypto["importKey"] };
  const original = subtle.importKey;
  let imports = 0;
  subtle.importKey = function (this: SubtleCrypto, ...args: unknown[]) {
    imports++;
    return (original as (...args: unknown[]) => Promise<CryptoKey>).apply(this, args);
  } as SubtleCrypto["importKey"];
  try {
    const serializer = fernet(json, secret);
    const payloads = await Promise.all([1, 2, 3].map((n) => serializer.encode({ n })));
    for (const payload of payloads) await serializer.decode(payload);
    assert.equal(imports, 2); // the signing key and the encryption key
  } finally {
    delete (subtle as Partial<typeof subtle>).importKey;
    if (crypto.subtle.importKey !== original) subtle.importKey = original;
  }
});

test("fernet rejects a token made with another key", async () => {
  const other = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
  const payload = await fernet(json, other).encode(small);
  await assertSerializerError(
    () => fernet(json, secret).decode(payload),
    "fernet(json)",
    /signature does not match/,
  );
});

test("fernet rejects a tampered token", async () => {
  const payload = (await fernet(json, secret).encode(small)).slice();
  payload[40] = payload[40] === 0x41 ? 0x42 : 0x41;
  await assertSerializerError(
    () => fernet(json, secret).decode(payload),
    "fernet(json)",
    /signature does not match/,
  );
});

test("fernet rejects truncated and empty tokens", async () => {
  const payload = await fernet(json, secret).encode(small);
  await assertSerializerError(
    () => fernet(json, secret).decode(payload.subarray(0, payload.length - 4)),
    "fernet(json)",
    /signature does not match/,
  );
  await assertSerializerError(
    () => fernet(json, secret).decode(payload.subarray(0, payload.length - 3)),
    "fernet(json)",
    /token is not valid url-safe base64/,
  );
  await assertSerializerError(
    () => fernet(json, secret).decode(new Uint8Array(0)),
    "fernet(json)",
    /token is too short/,
  );
});

test("fernet rejects another token version", async () => {
  const payload = (await fernet(json, secret).encode(small)).slice();
  payload[0] = ascii("A")[0]!; // 0x80 -> 0x00
  await assertSerializerError(
    () => fernet(json, secret).decode(payload),
    "fernet(json)",
    /unsupported token version 0x00/,
  );
});

test("fernet rejects garbage", async () => {
  await assertSerializerError(
    () => fernet(json, secret).decode(ascii('{"not":"a token"}')),
    "fernet(json)",
    /token is not valid url-safe base64/,
  );
  await assertSerializerError(
    () => fernet(json, secret).decode(crypto.getRandomValues(new Uint8Array(120))),
    "fernet(json)",
    /token is not valid url-safe base64/,
  );
});

test("fernet passes errors of the inner serializer through unchanged", async () => {
  const payload = await fernet(text, secret).encode("not json");
  await assert.rejects(async () => await fernet(json, secret).decode(payload), SyntaxError);
});

test("fernet rejects a bad key or ttl at once", () => {
  assert.throws(() => fernet(json, "too short"), TypeError);
  assert.throws(() => fernet(json, secret.slice(0, -4)), TypeError);
  assert.throws(() => fernet(json, secret.replace("_", "/")), TypeError);
  for (const ttl of [0, -1, NaN, Infinity]) {
    const options: FernetOptions = { ttl };
    assert.throws(() => fernet(json, secret, options), RangeError);
  }
});
