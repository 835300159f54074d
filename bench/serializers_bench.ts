/**
 * Serializers: encode + decode of one message, JSON against MessagePack, each with and without
 * gzip, for a small (about 100 bytes) and a 10 KB message; the byte sizes on the wire are printed
 * first. Two more groups: the MessagePack library we use (@msgpack/msgpack) against msgpackr, set up
 * to write the same standard maps, and the cost of the signing and encryption wrappers.
 *
 * - `deno bench -A bench/serializers_bench.ts` uses `Deno.bench`; the baseline of each group is
 *   plain JSON (`TextEncoder` + `JSON.stringify`, `JSON.parse` + `TextDecoder`), or our
 *   `msgpack()` in the library and wrapper groups.
 * - `bun bench/serializers_bench.ts` times the same cases with a small loop and prints ops/s and
 *   the ratio to the baseline of each group.
 *
 * `--smoke` (or `WALNATS_BENCH_SMOKE=1`) runs every case a few times only, for CI.
 *
 * @module
 */
import process from "node:process";
import { Packr } from "msgpackr/pack";
import { type Options, Unpackr } from "msgpackr/unpack";
import { aesGcm } from "../src/serializers/aes_gcm.ts";
import { fernet } from "../src/serializers/fernet.ts";
import { gzip } from "../src/serializers/gzip.ts";
import { hmac } from "../src/serializers/hmac.ts";
import { msgpack } from "../src/serializers/msgpack.ts";
import type { Serializer } from "../src/serializers/serializer.ts";

const SMOKE = process.argv.includes("--smoke") || process.env.WALNATS_BENCH_SMOKE === "1";

const small = {
  id: 12345,
  name: "Ada Lovelace",
  email: "ada@example.com",
  active: true,
  tags: ["a", "b"],
  score: 3.5,
};
const large = {
  order: "ord-1",
  customer: small,
  items: Array.from({ length: 130 }, (_, i) => ({
    id: i,
    sku: `SKU-${String(i).padStart(6, "0")}`,
    qty: i % 7,
    price: i * 1.25,
    note: "lorem ipsum dolor",
  })),
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** The baseline: what the default JSON serializer does, with nothing around it. */
const json: Serializer<unknown> = {
  name: "json",
  encode: (message) => encoder.encode(JSON.stringify(message)),
  decode: (data) => JSON.parse(decoder.decode(data)),
};
// msgpackr writes its own record extension and private types unless told otherwise; these options
// (some missing from its type declarations) make it write what any MessagePack decoder reads.
const packr = new Packr(
  { useRecords: false, encodeUndefinedAsNil: true, skipValues: [undefined] } as Options,
);
const unpackr = new Unpackr({ useRecords: false, int64AsType: "auto" } as unknown as Options);
/** The other MessagePack library (the `msgpackr/pack` entry point needs no --allow-env). */
const msgpackr: Serializer<unknown> = {
  name: "msgpackr",
  encode: (message) => packr.pack(message),
  decode: (data) => unpackr.unpack(data),
};

/** One benchmark: encode then decode `message` with `serializer`. */
interface Case {
  group: string;
  name: string;
  baseline: boolean;
  fn: () => void | Promise<void>;
}

const cases: Case[] = [];
const sizes: string[] = [];

async function add(
  group: string,
  serializer: Serializer<unknown>,
  message: unknown,
  baseline = false,
): Promise<void> {
  const payload = await serializer.encode(message);
  sizes.push(`  ${group.padEnd(48)} ${serializer.name.padEnd(28)} ${payload.length} B`);
  const sync = !(serializer.encode(message) instanceof Promise);
  const fn = sync
    ? (): void => void serializer.decode(serializer.encode(message) as Uint8Array)
    : async (): Promise<void> => void await serializer.decode(await serializer.encode(message));
  cases.push({ group, name: serializer.name, baseline, fn });
}

const packed = msgpack<unknown>();
for (const [label, message] of [["small", small], ["10 KB", large]] as const) {
  const group = `encode + decode, ${label} (${JSON.stringify(message).length} B of JSON)`;
  await add(group, json, message, true);
  await add(group, packed, message);
  await add(group, gzip(json), message);
  await add(group, gzip(packed), message);
}
for (const [label, message] of [["small", small], ["10 KB", large]] as const) {
  const group = `MessagePack library, ${label}`;
  await add(group, packed, message, true);
  await add(group, msgpackr, message);
}
{
  const group = "wrappers around msgpack, small";
  const key = crypto.getRandomValues(new Uint8Array(32));
  await add(group, packed, small, true);
  await add(group, hmac(packed, key, { hash: "SHA-256" }), small);
  await add(group, hmac(packed, key), small);
  await add(group, aesGcm(packed, { current: "k1", keys: { k1: key } }), small);
  await add(group, fernet(packed, "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="), small);
}

console.log(`Bytes on the wire:\n${sizes.join("\n")}\n`);

if (typeof Deno === "undefined") {
  await runByHand();
} else {
  for (const { group, name, baseline, fn } of cases) {
    Deno.bench({ group, name, baseline, fn, ...(SMOKE ? { n: 3, warmup: 1 } : {}) });
  }
}

/** Time each case for a fixed budget and print ops/s and the ratio to the group's baseline. */
async function runByHand(): Promise<void> {
  const budget = SMOKE ? 40 : 1_000;
  const results = new Map<Case, number>();
  for (const bench of cases) {
    await measure(bench, budget / 4);
    results.set(bench, await measure(bench, budget));
  }
  const runtime = typeof Bun === "undefined" ? "unknown runtime" : `Bun ${Bun.version}`;
  console.log(`${runtime}${SMOKE ? " (smoke)" : ""}: ops/s, ratio to the group's baseline`);
  for (const group of new Set(cases.map((bench) => bench.group))) {
    const members = cases.filter((bench) => bench.group === group);
    const base = results.get(members.find((member) => member.baseline)!)!;
    console.log(`\n${group}`);
    for (const member of members) {
      const rate = results.get(member)!;
      const ratio = (rate / base).toFixed(2);
      console.log(`  ${member.name.padEnd(28)} ${format(rate).padStart(12)} ops/s  ${ratio}x`);
    }
  }
}

/** Operations per second over `budget` milliseconds (and at least three calls). */
async function measure(bench: Case, budget: number): Promise<number> {
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < budget || calls < 3) {
    // Batches keep the clock's cost out of the fast cases.
    for (let i = 0; i < 16; i++) {
      const result = bench.fn();
      if (result instanceof Promise) await result;
    }
    calls += 16;
    elapsed = performance.now() - start;
  }
  return calls / (elapsed / 1_000);
}

function format(rate: number): string {
  return Math.round(rate).toLocaleString("en-US");
}

declare const Bun: { version: string } | undefined;
