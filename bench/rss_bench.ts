/**
 * Peak memory with 10,000 jobs in flight: one actor with 10,000 job slots whose handler
 * awaits a timer, over 10,000 messages already in the stream. Prints the resident set
 * size before the run and at its peak (sampled every 10 ms), against a target of 150 MB.
 * The messages are published by another process (`bench/_fill.ts`).
 *
 *     deno run -A bench/rss_bench.ts [--smoke]
 *     bun bench/rss_bench.ts [--smoke]
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import process from "node:process";
import * as v from "valibot";
import { startNatsServer } from "../testing.ts";
import { Actor, Actors, Event, Events, type Logger } from "../mod.ts";

const SMOKE = process.argv.includes("--smoke") || process.env.WALNATS_BENCH_SMOKE === "1";
const N = SMOKE ? 500 : 10_000;
const HOLD = SMOKE ? 200 : 2_000;
const runtime = "Deno" in globalThis ? "Deno" : "Bun" in globalThis ? "Bun" : "?";
const quiet: Logger = { error: console.error, warn: console.warn, info() {} };
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

await using server = await startNatsServer();
const event = new Event("rss-bench", v.object({ id: v.number(), body: v.string() }));
let running = 0;
let peakRunning = 0;
let done = 0;
const stop = new AbortController();
const actor = new Actor("hold", event, async (_m, job) => {
  running += 1;
  peakRunning = Math.max(peakRunning, running);
  await new Promise((resolve) => setTimeout(resolve, HOLD));
  running -= 1;
  if (++done === N) stop.abort();
  void job;
}, { maxJobs: N, maxAckPending: N, jobTimeout: 60_000 });
await using actors = await new Actors(actor).connect(server.url);
await actors.register();
{
  await using events = await new Events(event).connect(server.url);
  await events.register();
}
// The publisher runs in its own process: its garbage is not the listener's memory.
const fill = new URL("./_fill.ts", import.meta.url).pathname;
const args = "Deno" in globalThis ? ["run", "-A", fill] : [fill];
execFileSync(process.execPath, [...args, server.url, event.name, String(N)], { stdio: "inherit" });
const before = process.memoryUsage().rss;
let peak = before;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 10);
const start = performance.now();
await actors.listen({ signal: stop.signal, maxJobs: N, logger: quiet });
clearInterval(sampler);
console.log(
  `${runtime}${SMOKE ? " (smoke)" : ""}: ${N} jobs holding ${HOLD} ms each, ` +
    `${peakRunning} in flight at most, ${((performance.now() - start) / 1000).toFixed(1)} s`,
);
console.log(
  `  RSS before ${mb(before)} MB, peak ${mb(peak)} MB (target 150 MB: ${
    (peak / (150 * 1024 * 1024)).toFixed(2)
  }× of it)`,
);
