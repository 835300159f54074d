/**
 * Worker execution, in one run on one nats-server started here:
 *
 * 1. throughput of a CPU-bound handler (about 20 ms of SHA-256 in plain JavaScript,
 *    calibrated on this machine) over 200 messages already in the stream:
 *    `executeIn: "main"` (the baseline), `"thread"` with 2 Web Workers and
 *    `"process"` with 2 worker processes; workers start during the run, as they do
 *    in a listener;
 * 2. the per-job overhead of a worker: a no-op handler, one job at a time
 *    (`maxJobs: 1`), per-job time in a worker minus per-job time on the main thread.
 *
 * Workers import this very module for the handlers (`import.meta.main` keeps them from
 * running the benchmark), so what the benchmark itself needs is imported lazily.
 *
 *     deno run -A bench/workers_bench.ts [--smoke]
 *     bun bench/workers_bench.ts [--smoke]
 *
 * @module
 */
import process from "node:process";
import type { ExecuteIn, Job } from "../mod.ts";

/** One job's work: `rounds` SHA-256 of a 32-byte digest, chained. */
export interface Work {
  readonly seed: number;
  readonly rounds: number;
}

/** The CPU-bound handler: returns the last digest's first word. */
export function hashJob(work: Work, _job?: Job): number {
  let digest: Uint8Array = new Uint8Array(32);
  new DataView(digest.buffer).setUint32(0, work.seed);
  for (let i = 0; i < work.rounds; i++) digest = sha256(digest);
  return new DataView(digest.buffer).getUint32(0);
}

/** The no-op handler. */
export function noop(_: Work, _job?: Job): void {}

const K = new Uint32Array([
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
]);

/** SHA-256 of a short input (< 56 bytes: one block), in plain JavaScript. */
function sha256(input: Uint8Array): Uint8Array {
  const block = new Uint8Array(64);
  block.set(input);
  block[input.length] = 0x80;
  const view = new DataView(block.buffer);
  view.setUint32(60, input.length * 8);
  const w = new Uint32Array(64);
  for (let i = 0; i < 16; i++) w[i] = view.getUint32(i * 4);
  for (let i = 16; i < 64; i++) {
    const a = w[i - 15]!, b = w[i - 2]!;
    const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
    const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
  }
  let a = 0x6a09e667, b = 0xbb67ae85, c = 0x3c6ef372, d = 0xa54ff53a;
  let e = 0x510e527f, f = 0x9b05688c, g = 0x1f83d9ab, h = 0x5be0cd19;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  const out = new Uint8Array(32);
  const o = new DataView(out.buffer);
  [a, b, c, d, e, f, g, h].forEach((x, i) =>
    o.setUint32(
      i * 4,
      (x + [
        0x6a09e667,
        0xbb67ae85,
        0x3c6ef372,
        0xa54ff53a,
        0x510e527f,
        0x9b05688c,
        0x1f83d9ab,
        0x5be0cd19,
      ][i]!) >>> 0,
    )
  );
  return out;
}

/** Rounds of `hashJob` that take about `ms` here (JIT warm, garbage collection included). */
function calibrate(ms: number): number {
  hashJob({ seed: 0, rounds: 2000 });
  let rounds = 1000;
  let took = 0;
  for (; took < 50; rounds *= 2) {
    const start = performance.now();
    hashJob({ seed: 0, rounds });
    took = performance.now() - start;
  }
  rounds /= 2;
  const start = performance.now();
  for (let i = 0; i < 10; i++) hashJob({ seed: i, rounds });
  took = (performance.now() - start) / 10;
  return Math.max(1, Math.round((rounds * ms) / took));
}

async function main(): Promise<void> {
  const v = await import("valibot");
  const { jetstreamManager } = await import("@nats-io/jetstream");
  const { startNatsServer } = await import("../testing.ts");
  const { Actor, Actors, Event, Events, workerModule } = await import("../mod.ts");
  type Jobs = typeof import("./workers_bench.ts");

  const SMOKE = process.argv.includes("--smoke") || process.env.WALNATS_BENCH_SMOKE === "1";
  const CPU_MESSAGES = SMOKE ? 20 : 200;
  const CPU_MS = SMOKE ? 5 : 20;
  const NOOP_MESSAGES = SMOKE ? 50 : 500;
  const WORKERS = 2;
  const runtime = "Deno" in globalThis ? "Deno" : "Bun" in globalThis ? "Bun" : "?";
  const jobs = workerModule<Jobs>(new URL(import.meta.url));
  const logger = { error: console.error, warn: console.warn, info() {} };
  const schema = v.object({ seed: v.number(), rounds: v.number() });

  await using server = await startNatsServer();
  let run = 0;

  /**
   * Emit `n` messages, then time a listener over them until the last one is handled
   * (not a burst listener: its end waits for a pull request to expire). Workers start
   * during the run.
   */
  async function time(
    executeIn: ExecuteIn,
    handler: "hashJob" | "noop",
    n: number,
    rounds: number,
    maxJobs: number,
  ): Promise<{ total: number; perJob: number; handler: number }> {
    run += 1;
    const event = new Event(`bench-${run}`, schema);
    const controller = new AbortController();
    let handled = 0;
    let busy = 0;
    // On the main thread the plain function: importing this module from itself would wait
    // for its own top-level await (the benchmark) to finish.
    const fn = executeIn === "main"
      ? (handler === "hashJob" ? hashJob : noop)
      : jobs.handler(handler);
    const actor = new Actor(`bench-${run}`, event, fn, {
      executeIn,
      maxJobs,
      jobTimeout: 600_000,
      middlewares: [{
        onSuccess({ duration }) {
          busy += duration;
          if (++handled === n) controller.abort();
        },
        onFailure({ error }) {
          console.error(error);
        },
      }],
    });
    await using events = await new Events(event).connect(server.url);
    await events.register();
    await using actors = await new Actors(actor).connect(server.url);
    await actors.register();
    for (let i = 0; i < n; i++) await events.emit(event, { seed: i, rounds });
    await events.connection.flush();
    const start = performance.now();
    let total = 0;
    controller.signal.addEventListener("abort", () => total = performance.now() - start);
    await actors.listen({
      signal: controller.signal,
      logger,
      maxJobs,
      maxThreads: WORKERS,
      maxProcesses: WORKERS,
    });
    const jsm = await jetstreamManager(actors.connection);
    const info = await jsm.consumers.info(event.streamName, actor.name);
    if (info.num_pending !== 0 || info.num_ack_pending !== 0) {
      throw new Error(`run ${run} did not drain: ${info.num_pending} / ${info.num_ack_pending}`);
    }
    return { total, perJob: total / n, handler: busy / n };
  }

  const rounds = calibrate(CPU_MS);
  console.log(
    `${runtime}, ${navigator.hardwareConcurrency} cores; CPU job = ${rounds} SHA-256 ` +
      `(calibrated to ${CPU_MS} ms on the main thread), ${CPU_MESSAGES} messages, ` +
      `${WORKERS} workers`,
  );
  const main = await time("main", "hashJob", CPU_MESSAGES, rounds, 16);
  const rows: [string, { total: number; handler: number }][] = [["main", main]];
  for (const executeIn of ["thread", "process"] as const) {
    rows.push([executeIn, await time(executeIn, "hashJob", CPU_MESSAGES, rounds, 16)]);
  }
  console.log("\n1. CPU-bound throughput (handler: mean time of one job, as measured by walnats)");
  for (const [name, r] of rows) {
    console.log(
      `  ${name.padEnd(8)} ${r.total.toFixed(0).padStart(6)} ms  ` +
        `${(CPU_MESSAGES / r.total * 1000).toFixed(1).padStart(6)} jobs/s  ` +
        `${(main.total / r.total).toFixed(2)}x main  handler ${r.handler.toFixed(1)} ms`,
    );
  }

  console.log(`\n2. per-job overhead, no-op handler, one job at a time, ${NOOP_MESSAGES} jobs`);
  const base = await time("main", "noop", NOOP_MESSAGES, 0, 1);
  console.log(`  main     ${base.perJob.toFixed(3)} ms/job`);
  for (const executeIn of ["thread", "process"] as const) {
    const r = await time(executeIn, "noop", NOOP_MESSAGES, 0, 1);
    console.log(
      `  ${executeIn.padEnd(8)} ${r.perJob.toFixed(3)} ms/job  overhead ${
        (r.perJob - base.perJob).toFixed(3)
      } ms/job (worker start included)`,
    );
  }
}

if (import.meta.main) await main();
