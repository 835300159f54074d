import { test } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import {
  bytes,
  bytesSerializer,
  CloudEvent,
  dateTime,
  dateTimeSerializer,
  Event,
  gzip,
  jsonSerializer,
  msgpack,
  parseDateTime,
  text,
  textSerializer,
  typed,
} from "../../mod.ts";

test("Event rejects bad names with a message that names the event and the rule", () => {
  const cases: [string, RegExp][] = [
    ["", /Invalid event name "": the name is empty/],
    ["a".repeat(256), /256 characters, the server allows at most 255/],
    ["user created", /" " at position 4 is not allowed by NATS/],
    ["user-*", /"\*" at position 5/],
    ["user->", /">" at position 5/],
    ["user\u0001x", /"\\u0001" at position 4/],
    ["UserCreated", /Invalid event name "UserCreated": not kebab-case/],
    ["user_created", /not kebab-case/],
    ["user--created", /not kebab-case/],
    ["-user", /not kebab-case/],
    ["user.", /not kebab-case/],
  ];
  for (const [name, message] of cases) {
    assert.throws(() => new Event(name, v.string()), (e: Error) => {
      assert.ok(e instanceof TypeError, `${JSON.stringify(name)}: ${e}`);
      assert.match(e.message, message);
      return true;
    });
  }
});

test("Event accepts kebab-case names with dot segments and derives the stream name", () => {
  const e = new Event("billing.invoice-paid", v.string());
  assert.equal(e.name, "billing.invoice-paid");
  assert.equal(e.streamName, "billing-invoice-paid");
  assert.equal(new Event("a1-b2", v.string()).streamName, "a1-b2");
});

test("Event rejects non-positive and unknown limits", () => {
  for (
    const limits of [{ age: 0 }, { messages: -1 }, { bytes: 1.5 }, { replicas: 6 }, {
      duplicateWindow: Number.NaN,
    }]
  ) {
    assert.throws(() => new Event("x", v.string(), { limits }), RangeError);
  }
  assert.throws(
    () => new Event("x", v.string(), { limits: { age: -5 } }),
    /Invalid limits of event "x": age must be milliseconds from 100 up to 9223372036854 .*, got -5/,
  );
  assert.throws(
    () => new Event("x", v.string(), { limits: { maxAge: 1 } as never }),
    /unknown limit "maxAge"/,
  );
});

test("Event takes limits.retention interest or limits, and names the option and the event otherwise", () => {
  assert.equal(
    new Event("x", v.string(), { limits: { retention: "limits" } }).limits.retention,
    "limits",
  );
  assert.equal(
    new Event("x", v.string(), { limits: { retention: "interest" } }).limits.retention,
    "interest",
  );
  assert.equal(new Event("x", v.string()).limits.retention, undefined);
  for (const retention of ["Limits", "", 1, null]) {
    assert.throws(
      () => new Event("audit", v.string(), { limits: { retention } as never }),
      (e: unknown) => {
        assert.ok(e instanceof RangeError, String(e));
        assert.match(
          e.message,
          /^Invalid limits of event "audit": retention must be "interest" \(the default\) or "limits", got /,
        );
        assert.ok(
          e.message.endsWith(
            `got ${typeof retention === "string" ? JSON.stringify(retention) : retention}`,
          ),
          e.message,
        );
        return true;
      },
    );
  }
  // Work queue is JetStream's, and refused with the reason.
  assert.throws(
    () => new Event("audit", v.string(), { limits: { retention: "workqueue" } as never }),
    /retention must be .*, got "workqueue": a work-queue stream takes one consumer per subject, so a second actor of the event could not register/,
  );
});

test("Event rejects a schema that is not a Standard Schema and an empty description", () => {
  assert.throws(() => new Event("x", {} as never), /Invalid schema of event "x"/);
  assert.throws(() => new Event("x", v.string(), { description: " " }), /description of event "x"/);
});

test("Event picks the serializer from the schema, JSON otherwise", () => {
  assert.equal(new Event("a", bytes()).serializer, bytesSerializer);
  assert.equal(new Event("a", text()).serializer, textSerializer);
  assert.equal(new Event("a", dateTime()).serializer, dateTimeSerializer);
  assert.equal(new Event("a", typed<{ x: 1 }>()).serializer, jsonSerializer);
  assert.equal(new Event("a", v.object({})).serializer, jsonSerializer);
  assert.equal(
    new Event("a", v.string(), { serializer: textSerializer }).serializer,
    textSerializer,
  );
});

test("Event is immutable and withResponse returns a frozen copy with a response", () => {
  const e = new Event("count-words", v.string());
  assert.throws(() => {
    (e as { name: string }).name = "other";
  }, TypeError);
  const r = e.withResponse(v.number());
  assert.notEqual(r, e);
  assert.equal(r.name, e.name);
  assert.equal(e.response, undefined);
  assert.equal(r.response?.serializer, jsonSerializer);
  assert.ok(r instanceof Event);
  assert.ok(Object.isFrozen(r));
});

test("serializers encode the wire formats of the Python walnats", async () => {
  const enc = (b: Uint8Array | Promise<Uint8Array>) => b as Uint8Array;
  assert.equal(
    new TextDecoder().decode(enc(jsonSerializer.encode({ a: 1, b: [1, "x"] }))),
    '{"a":1,"b":[1,"x"]}',
  );
  const date = new Date(Date.UTC(2024, 10, 22, 18, 30, 5, 250));
  assert.equal(
    new TextDecoder().decode(enc(dateTimeSerializer.encode(date))),
    "2024-11-22T18:30:05.250+00:00",
  );
  const back = await dateTimeSerializer.decode(
    new TextEncoder().encode("2024-11-22T19:30:05.25+01:00"),
  );
  assert.equal(back.getTime(), date.getTime());
  assert.throws(
    () => dateTimeSerializer.decode(new TextEncoder().encode('"2024-11-22"')),
    /date-time/,
  );
  // What Python's isoformat() writes, and the edges of the calendar and clock.
  const iso = (text: string) => parseDateTime(text).toISOString();
  assert.equal(iso("2024-11-22T18:30:05.250999"), "2024-11-22T18:30:05.250Z");
  assert.equal(iso("2024-11-22T18:30"), "2024-11-22T18:30:00.000Z");
  assert.equal(iso("2024-11-22 18:30:05-0130"), "2024-11-22T20:00:05.000Z");
  assert.equal(iso("2024-11-22T18:30:05+00:00:30"), "2024-11-22T18:29:35.000Z");
  assert.equal(iso("2024-02-29"), "2024-02-29T00:00:00.000Z");
  assert.equal(iso("0099-01-01T00:00:00Z"), "0099-01-01T00:00:00.000Z");
  for (const bad of ["2023-02-29", "2024-13-01", "2024-11-22T24:00", "2024-11-22T18:60"]) {
    assert.throws(() => parseDateTime(bad), RangeError, bad);
  }
  assert.throws(() => parseDateTime("2024-11-22T18:30:05+24:00"), /no such time zone offset/);
  assert.throws(
    () => parseDateTime("2024-11-22T18:30", { naive: "reject" }),
    /Invalid date-time "2024-11-22T18:30": no time zone/,
  );
  assert.throws(() => dateTime({ naive: "utc " as "utc" }), /expected "utc", "local" or "reject"/);
  assert.throws(
    () => jsonSerializer.decode(new Uint8Array([0x7b, 0xff])),
    /Serializer "json" failed/,
  );
  assert.throws(() => textSerializer.decode(new Uint8Array([0xff])), /not valid UTF-8/);
});

test("CloudEvent writes ce-* headers like the Python walnats", () => {
  const ce = new CloudEvent({
    id: "hi123",
    source: "/sensors/tn-123/alerts",
    type: "com.example.object.delete.v2",
    time: new Date(Date.UTC(2023, 11, 31, 23, 59, 54)),
    extensions: { region: "eu" },
  });
  assert.deepEqual(ce.headers(), [
    ["ce-id", "hi123"],
    ["ce-source", "/sensors/tn-123/alerts"],
    ["ce-type", "com.example.object.delete.v2"],
    ["ce-specversion", "1.0"],
    ["ce-time", "2023-12-31T23:59:54Z"],
    ["ce-region", "eu"],
  ]);
  assert.throws(() => new CloudEvent({ id: "", source: "s", type: "t" }), /"id" must be/);
  assert.throws(
    () => new CloudEvent({ id: "1", source: "s", type: "t", extensions: { "Bad-Name": "x" } }),
    /extension "Bad-Name"/,
  );
});

test("Event takes its message type from the schema, never from the serializer", () => {
  const schema = v.object({ n: v.number() });
  const e = new Event("typed-by-schema", schema, { serializer: gzip(jsonSerializer) });
  const typed: Event<{ n: number }> = e;
  assert.equal(typed.serializer.name, "gzip(json)");
  // @ts-expect-error: a serializer of another message type does not fit
  new Event("mistyped", schema, { serializer: msgpack<string>() });
});
