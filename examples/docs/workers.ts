// Samples of docs/workers.md (type-checked with `deno check examples/`).
// #region one
import * as v from "valibot";
import { Actor, Actors, Event, workerHandler } from "@walnats/walnats";

const primesWanted = new Event("primes-wanted", v.pipe(v.number(), v.integer()));

// One handler: the module's type and the export's name, then the module's URL.
export const primeCounter = new Actor(
  "prime-counter",
  primesWanted, // its number messages fit countPrimes(limit: number, job: Job)
  workerHandler<typeof import("../_cpu_jobs.ts"), "countPrimes">(
    new URL("../_cpu_jobs.ts", import.meta.url),
    "countPrimes",
  ),
  { executeIn: "process", jobTimeout: 10 * 60_000 },
);
// #endregion one

// #region listen
export async function listenWithWorkers(url: string, signal: AbortSignal): Promise<void> {
  await using actors = await new Actors(primeCounter).connect(url);
  await actors.register();
  await actors.listen({
    signal,
    maxThreads: 4, // Web Workers for executeIn "thread" (default: min(32, cores + 4))
    maxProcesses: 2, // worker processes for executeIn "process" (default: cores)
    // Runtime flags for worker processes, before the entry script (Deno here; Bun: ["--smol"]).
    processArgs: ["--v8-flags=--max-old-space-size=512"],
    shutdownGrace: 30_000, // then running processes are killed and their messages given back
  });
}
// #endregion listen
