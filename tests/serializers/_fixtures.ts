// Fixtures shared by the serializer tests: messages of three shapes, two bare inner
// serializers and an assertion for SerializerError.
import assert from "node:assert/strict";
import { SerializerError } from "../../src/errors.ts";
import type { Serializer } from "../../src/serializers/serializer.ts";

/**
 * A bare JSON serializer: unlike `jsonSerializer`, its errors are plain `SyntaxError`s,
 * which lets the wrapper tests show that an inner serializer's errors pass through.
 */
export const json: Serializer<unknown> = {
  name: "json",
  encode: (message) => new TextEncoder().encode(JSON.stringify(message)),
  decode: (data) => JSON.parse(new TextDecoder().decode(data)),
};
/** A bare UTF-8 serializer (not fatal on bad UTF-8, unlike `textSerializer`). */
export const text: Serializer<string> = {
  name: "text",
  encode: (message) => new TextEncoder().encode(message),
  decode: (data) => new TextDecoder().decode(data),
};

export const small = {
  id: 42,
  name: "Ada",
  active: true,
  score: 3.5,
  tags: ["a", "b"],
  parent: null,
};
export const unicode = "héllo wörld — 你好, мир 👋🏽";
export const large = {
  items: Array.from({ length: 130 }, (_, i) => ({
    id: i,
    sku: `SKU-${String(i).padStart(6, "0")}`,
    qty: i % 7,
    price: i * 1.25,
    note: "lorem ipsum dolor",
  })),
};

/** Run `action` and check it throws a SerializerError naming `serializer` and matching `reason`. */
export async function assertSerializerError(
  action: () => unknown,
  serializer: string,
  reason: RegExp,
): Promise<SerializerError> {
  try {
    await action();
  } catch (error) {
    assert.ok(error instanceof SerializerError, `expected a SerializerError, got ${error}`);
    assert.equal(error.serializer, serializer);
    assert.ok(error.message.includes(`"${serializer}"`), error.message);
    assert.match(error.message, reason);
    return error;
  }
  assert.fail("expected a SerializerError");
}

/** WebCrypto's SubtleCrypto, named without the DOM type library (Node's types lack it). */
export type Subtle = typeof crypto.subtle;
