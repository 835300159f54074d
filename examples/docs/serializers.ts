// Samples of docs/serializers.md (type-checked with `deno check examples/`).
// #region custom
import * as v from "valibot";
import { Event, type Serializer, SerializerError } from "@walnats/walnats";

/** A serializer is any object with a name, `encode` and `decode` (either may be async). */
export const csvPoint: Serializer<{ x: number; y: number }> = {
  name: "csv-point",
  encode: ({ x, y }) => new TextEncoder().encode(`${x},${y}`),
  decode(data) {
    const [x = NaN, y = NaN] = new TextDecoder().decode(data).split(",").map(Number);
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      throw new SerializerError("csv-point", "expected two numbers separated by a comma");
    }
    return { x, y };
  },
};

// What `decode` returns is still validated by the event's schema.
export const pointMoved = new Event(
  "point-moved",
  v.object({ x: v.number(), y: v.number() }),
  { serializer: csvPoint },
);
// #endregion custom

// #region wrappers
import { aesGcm, fernet, gzip, hmac, jsonSerializer, msgpack } from "@walnats/walnats";

const reportSchema = v.object({ title: v.string(), rows: v.array(v.array(v.number())) });
type Report = v.InferOutput<typeof reportSchema>;

// Keys come from your secret store, never from the source.
const signingKey = crypto.getRandomValues(new Uint8Array(64));
const january = crypto.getRandomValues(new Uint8Array(32));
const february = crypto.getRandomValues(new Uint8Array(32));

// MessagePack, signed with HMAC-SHA-512, then compressed.
export const reportReady = new Event("report-ready", reportSchema, {
  serializer: gzip(hmac(msgpack<Report>(), signingKey)),
});

// JSON, compressed, then encrypted with AES-GCM under rotating keys.
export const reportArchived = new Event("report-archived", reportSchema, {
  serializer: aesGcm(gzip(jsonSerializer, { maxSize: 8 * 1024 * 1024 }), {
    current: "2025-02",
    keys: { "2025-01": january, "2025-02": february },
  }),
});

// Fernet tokens, which the Python walnats' FernetSerializer reads and writes.
const fernetKey = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="; // Fernet.generate_key()
export const reportShared = new Event("report-shared", reportSchema, {
  serializer: fernet(jsonSerializer, fernetKey, { ttl: 24 * 60 * 60 * 1000 }),
});
// #endregion wrappers
