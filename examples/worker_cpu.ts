/**
 * CPU-bound handlers off the event loop: hashing in worker processes
 * (`executeIn: "process"`) and counting primes in Web Workers (`executeIn: "thread"`),
 * while the listener's own event loop keeps ticking. A job that overruns its
 * `jobTimeout` in a thread sees its signal abort and stops.
 *
 *     deno run -A examples/worker_cpu.ts
 *     bun examples/worker_cpu.ts
 */
import process from "node:process";
import * as v from "valibot";
import {
  Actor,
  Actors,
  Event,
  Events,
  ExecuteIn,
  type Logger,
  ResponseError,
  workerModule,
} from "@walnats/walnats";
import { exampleNats, runtime } from "./_nats.ts";

// #region declare
// Workers import the handlers by URL; the module's type lets the actors check them.
const jobs = workerModule<typeof import("./_cpu_jobs.ts")>(
  new URL("./_cpu_jobs.ts", import.meta.url),
);

const hashRequested = new Event(
  "hash-requested",
  v.object({ text: v.string(), rounds: v.number() }),
).withResponse(v.object({ sum: v.number(), pid: v.number(), attempt: v.number() }));
const primesRequested = new Event("primes-requested", v.number()).withResponse(v.number());

const hasher = new Actor("hash-in-process", hashRequested, jobs.handler("hash"), {
  executeIn: ExecuteIn.PROCESS, // a busy loop is killed on jobTimeout; a crash fails one job
  jobTimeout: 20_000,
});
const primes = new Actor("count-primes", primesRequested, jobs.handler("countPrimes"), {
  executeIn: ExecuteIn.THREAD, // cooperative: the handler polls job.signal
  jobTimeout: 1_000,
  maxAttempts: 1,
});
// #endregion declare

await using nats = await exampleNats();
console.log(`worker_cpu: ${runtime}, NATS at ${nats.url}, listener pid ${process.pid}`);

await using events = await new Events(hashRequested, primesRequested).connect(nats.url);
await events.register();
await using actors = await new Actors(hasher, primes).connect(nats.url);
await actors.register();

const quiet: Logger = { error() {}, warn() {}, info() {} }; // the example prints its own lines
const stop = new AbortController();
// #region listen
const listening = actors.listen({
  signal: stop.signal,
  maxProcesses: 2, // workers start on demand, up to these sizes
  maxThreads: 2,
  logger: quiet,
});
// #endregion listen

// The event loop stays free while workers compute.
let ticks = 0;
const ticker = setInterval(() => ticks++, 10);
const started = Date.now();

const texts = ["walnats", "nats", "jetstream", "deno", "bun", "actors"];
const hashes = await Promise.all(
  texts.map((text) =>
    events.request(hashRequested, { text: text.repeat(20), rounds: 500_000 }, { timeout: 30_000 })
  ),
);
const pids = new Set(hashes.map((h) => h.pid));
console.log(
  `worker_cpu: ${hashes.length} hashes in ${pids.size} worker process(es) ` +
    `(listener's pid among them: ${pids.has(process.pid)})`,
);

const counts = await Promise.all(
  [10_000, 100_000, 300_000].map((limit) =>
    events.request(primesRequested, limit, { timeout: 30_000 })
  ),
);
console.log(`worker_cpu: primes up to 10k, 100k, 300k: ${counts.join(", ")}`);

clearInterval(ticker);
console.log(
  `worker_cpu: meanwhile the event loop ticked ${ticks} times in ${Date.now() - started} ms; ` +
    `workers: ${JSON.stringify(actors.health().workers)}`,
);

try {
  // Far too much work for jobTimeout (1 s): the thread's signal aborts, the handler
  // stops at its next poll, and with maxAttempts 1 the caller hears it at once.
  await events.request(primesRequested, 1e12, { timeout: 30_000 });
} catch (error) {
  if (!(error instanceof ResponseError)) throw error;
  console.log(`worker_cpu: the overlong job was stopped: ${error.message}`);
}

stop.abort();
await listening; // stops every worker
console.log(`worker_cpu: done; workers: ${JSON.stringify(actors.health().workers)}`);
