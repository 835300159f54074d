import { test } from "node:test";
import assert from "node:assert/strict";
import { fromBase64, toBase64 } from "../src/_base64.ts";

const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 256);
// RFC 4648 §10 test vectors, and bytes whose base64 has "+" and "/" (url-safe "-" and "_")
const vectors: [string, string][] = [
  ["", ""],
  ["f", "Zg=="],
  ["fo", "Zm8="],
  ["foo", "Zm9v"],
  ["foobar", "Zm9vYmFy"],
];
const special = Uint8Array.of(0xfb, 0xff, 0xbf);

/** Run `fn` as on a runtime without `Uint8Array.fromBase64` and `toBase64` (Node.js 20). */
function withoutNative(fn: () => void): void {
  const from = Object.getOwnPropertyDescriptor(Uint8Array, "fromBase64");
  const to = Object.getOwnPropertyDescriptor(Uint8Array.prototype, "toBase64");
  delete (Uint8Array as { fromBase64?: unknown }).fromBase64;
  delete (Uint8Array.prototype as { toBase64?: unknown }).toBase64;
  try {
    fn();
  } finally {
    if (from) Object.defineProperty(Uint8Array, "fromBase64", from);
    if (to) Object.defineProperty(Uint8Array.prototype, "toBase64", to);
  }
}

for (
  const [runtime, run] of [["native", (fn: () => void) => fn()], [
    "fallback",
    withoutNative,
  ]] as const
) {
  test(`toBase64 and fromBase64 (${runtime}) follow RFC 4648`, () => {
    run(() => {
      const encoder = new TextEncoder();
      for (const [text, base64] of vectors) {
        assert.equal(toBase64(encoder.encode(text)), base64);
        assert.deepEqual(fromBase64(base64), encoder.encode(text));
        assert.deepEqual(fromBase64(base64.replace(/=+$/, "")), encoder.encode(text));
      }
      assert.equal(toBase64(special), "+/+/");
      assert.equal(toBase64(special, "base64url"), "-_-_");
      assert.deepEqual(fromBase64("-_-_", "base64url"), special);
      assert.deepEqual(fromBase64(toBase64(bytes)), bytes);
    });
  });

  test(`fromBase64 (${runtime}) rejects what is not base64 of its alphabet`, () => {
    run(() => {
      assert.throws(() => fromBase64("+/+/", "base64url"), SyntaxError);
      assert.throws(() => fromBase64("-_-_"), SyntaxError);
      assert.throws(() => fromBase64("Zm9v!"), SyntaxError);
      assert.throws(() => fromBase64("Z"), SyntaxError);
    });
  });
}
