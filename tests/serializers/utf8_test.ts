import { test } from "node:test";
import assert from "node:assert/strict";
import { dateTimeSerializer, jsonSerializer, SerializerError, textSerializer } from "../../mod.ts";

const utf8 = new TextEncoder();

test("the text serializers refuse invalid UTF-8 anywhere, and keep a real U+FFFD", () => {
  // A real replacement character is text like any other.
  assert.equal(textSerializer.decode(utf8.encode("a\uFFFDb")), "a\uFFFDb");
  assert.deepEqual(jsonSerializer.decode(utf8.encode('{"s":"\uFFFD"}')), { s: "\uFFFD" });
  // Invalid sequences: a stray continuation byte, a truncated sequence at the end, an
  // overlong encoding, a surrogate; at the start, in the middle and at the end.
  const bad = [
    [0x80, 0x61],
    [0x22, 0x61, 0xe2, 0x82],
    [0x22, 0xc0, 0xaf, 0x22],
    [0x22, 0xed, 0xa0, 0x80, 0x22],
  ];
  for (const bytes of bad) {
    const data = new Uint8Array(bytes);
    for (const serializer of [textSerializer, jsonSerializer, dateTimeSerializer]) {
      assert.throws(() => serializer.decode(data), (error: Error) => {
        assert.ok(error instanceof SerializerError, `${serializer.name}: ${error}`);
        assert.match(error.message, /not valid UTF-8/, `${serializer.name}: ${bytes}`);
        return true;
      });
    }
  }
  // The same bytes with a real U+FFFD next to the invalid ones are still refused.
  const mixed = new Uint8Array([...utf8.encode('"\uFFFD'), 0xff, 0x22]);
  assert.throws(() => jsonSerializer.decode(mixed), /not valid UTF-8/);
});
