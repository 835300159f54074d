// Describing thrown values safely, and bounding the text for headers and log lines.
import { test } from "node:test";
import assert from "node:assert/strict";
import { boundedText, errorStack, errorText, isInstance } from "../src/_error_text.ts";
import { parseDeadLetter } from "../mod.ts";

test("errorText describes errors and any other thrown value without throwing", () => {
  const hostile = {
    get message(): string {
      throw new Error("getter");
    },
    get name(): string {
      throw new Error("getter");
    },
    toString(): string {
      throw new Error("toString");
    },
  };
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  class Custom extends Error {
    override name = "Custom";
  }
  assert.equal(errorText(new TypeError("bad")), "TypeError: bad");
  assert.equal(errorText(new Custom("")), "Custom");
  assert.equal(errorText("plain"), "plain");
  assert.equal(errorText(null), "null");
  assert.equal(errorText(undefined), "undefined");
  assert.equal(errorText(Symbol("s")), "Symbol(s)");
  assert.equal(errorText(42n), "42");
  assert.equal(errorText({ message: "like an error" }), "like an error");
  assert.equal(errorText({ code: 5 }), '{"code":5}');
  assert.equal(errorText(cyclic), "[object Object]");
  assert.equal(errorText(hostile), "(an object that cannot be described)");
  assert.equal(errorText(revoked.proxy), "(an object that cannot be described)");
  assert.equal(errorText(Object.create(null)), "{}");
  assert.equal(errorText("y".repeat(1_000_000)).length, 4097, "cut to 4096 characters and …");
  assert.equal(isInstance(revoked.proxy, Error), false);
  assert.equal(errorStack(revoked.proxy), undefined);
  assert.match(errorStack(new Error("e"))!, /^Error: e\n\s+at /);
});

test("boundedText keeps one line of at most maxBytes bytes of UTF-8, cut on a character", () => {
  assert.equal(boundedText("a\r\nb\tc\u0000d", 100), "a b c d");
  assert.equal(boundedText("short", 5), "short");
  assert.equal(boundedText("abcdef", 5), "ab…");
  const emoji = "😀".repeat(600); // 4 bytes each, 2 UTF-16 units
  const cut = boundedText(emoji, 1024);
  assert.ok(new TextEncoder().encode(cut).length <= 1024);
  assert.equal(cut, `${"😀".repeat(255)}…`);
  // 2 bytes each: 1000 of them are 2000 bytes, cut to 510 and "…" (1023 bytes).
  assert.equal(boundedText("é".repeat(1000), 1024), `${"é".repeat(510)}…`);
});

test("parseDeadLetter names the header that makes a message no dead letter", () => {
  const headers = (entries: Record<string, string>) => ({
    get: (k: string) => entries[k] ?? "",
    has: (k: string) => k in entries,
    keys: () => Object.keys(entries),
  });
  const valid = {
    "Walnats-Dead-Actor": "a",
    "Walnats-Dead-Event": "e",
    "Walnats-Dead-Reason": "failed",
    "Walnats-Dead-Error": "Error: x",
    "Walnats-Dead-Attempts": "3",
    "Walnats-Dead-Stream-Seq": "9",
    "Walnats-Dead-Timestamp": "2026-01-02T00:00:00.000Z",
  };
  const data = new Uint8Array([1]);
  assert.equal(parseDeadLetter({ data, headers: headers(valid) }).streamSeq, 9);
  assert.throws(
    () => parseDeadLetter({ data }),
    /Not a dead letter: header Walnats-Dead-Reason is missing/,
  );
  assert.throws(
    () => parseDeadLetter({ data, headers: headers({ ...valid, "Walnats-Dead-Reason": "meh" }) }),
    /Invalid dead letter: header Walnats-Dead-Reason is "meh"/,
  );
  assert.throws(
    () => parseDeadLetter({ data, headers: headers({ ...valid, "Walnats-Dead-Attempts": "-1" }) }),
    /Invalid dead letter: header Walnats-Dead-Attempts is "-1"/,
  );
  assert.throws(
    () =>
      parseDeadLetter({ data, headers: headers({ ...valid, "Walnats-Dead-Timestamp": "soon" }) }),
    /Walnats-Dead-Timestamp is "soon"/,
  );
});
