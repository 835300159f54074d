/**
 * PrioritySemaphore against p-limit, p-queue and async-sema, in one run: (a) one
 * caller acquiring and releasing free permits, (b) 10,000 tasks at once through 16
 * permits, (c) the same spread over three priorities (p-queue with its `priority`
 * option, the others in arrival order). Each task acquires, awaits a microtask and
 * releases.
 *
 * - `deno bench -A bench/semaphore_bench.ts` uses `Deno.bench`, our semaphore
 *   being the baseline of each group.
 * - `bun bench/semaphore_bench.ts` (or `deno run -A bench/semaphore_bench.ts --manual`)
 *   times the same cases with a small loop and prints ops/s (acquire + release
 *   pairs in (a), tasks in (b) and (c)) and the ratio to the best peer of each group.
 *
 * `--smoke` (or `WALNATS_BENCH_SMOKE=1`) runs every case a few times only, for CI.
 *
 * @module
 */
import process from "node:process";
import pLimit from "p-limit";
import PQueue from "p-queue";
import { Sema } from "async-sema";
import { Priority, PrioritySemaphore } from "../src/actors/priority.ts";

const SMOKE = process.argv.includes("--smoke") || process.env.WALNATS_BENCH_SMOKE === "1";
const PERMITS = 16;
const TASKS = 10_000;
/** Acquire + release pairs per iteration of the uncontended group, to dwarf the timer. */
const PAIRS = 1_000;
/** Priorities of the mixed group: HIGH, NORMAL and LOW 3:3:2, in a fixed scrambled order. */
const LEVELS = [Priority.HIGH, Priority.NORMAL, Priority.LOW] as const;
const MIXED: readonly Priority[] = Array.from(
  { length: TASKS },
  (_, i) => LEVELS[((Math.imul(i, 0x9e3779b1) >>> 29) % 3) as 0 | 1 | 2],
);

/** One benchmark: `ops` operations per call of `fn`. */
interface Case {
  group: string;
  name: string;
  ours: boolean;
  ops: number;
  fn: () => void | Promise<void>;
}

const cases: Case[] = [];

function add(group: string, name: string, ops: number, fn: () => void | Promise<void>): void {
  cases.push({ group, name, ours: name.startsWith("walnats"), ops, fn });
}

/** What each contended task does while it holds its slot. */
async function work(): Promise<void> {
  await undefined;
}

// (a) uncontended: one caller, permits always free.
{
  const group = `uncontended acquire + release (${PAIRS} per iter)`;
  const sem = new PrioritySemaphore(PERMITS);
  add(group, "walnats tryAcquire + release", PAIRS, () => {
    for (let i = 0; i < PAIRS; i++) sem.tryAcquire(Priority.NORMAL)!.release();
  });
  add(group, "walnats await acquire + release", PAIRS, async () => {
    for (let i = 0; i < PAIRS; i++) (await sem.acquire(Priority.NORMAL)).release();
  });
  const sema = new Sema(PERMITS);
  add(group, "async-sema tryAcquire + release", PAIRS, () => {
    for (let i = 0; i < PAIRS; i++) {
      sema.tryAcquire();
      sema.release();
    }
  });
  add(group, "async-sema await acquire + release", PAIRS, async () => {
    for (let i = 0; i < PAIRS; i++) {
      await sema.acquire();
      sema.release();
    }
  });
  const limit = pLimit(PERMITS);
  const noop = (): void => {};
  add(group, "p-limit await limit(fn)", PAIRS, async () => {
    for (let i = 0; i < PAIRS; i++) await limit(noop);
  });
  const queue = new PQueue({ concurrency: PERMITS });
  add(group, "p-queue await add(fn)", PAIRS, async () => {
    for (let i = 0; i < PAIRS; i++) await queue.add(noop);
  });
}

// (b) and (c): TASKS tasks at once through PERMITS slots; (c) spreads them over
// three priorities (peers without priorities run the same tasks in arrival order).
for (const mixed of [false, true]) {
  const group = mixed
    ? `three priorities, ${PERMITS} permits, ${TASKS} tasks`
    : `one priority, ${PERMITS} permits, ${TASKS} tasks`;
  const priorityOf = (i: number): Priority => mixed ? MIXED[i]! : Priority.NORMAL;

  add(group, "walnats PrioritySemaphore", TASKS, () => {
    const sem = new PrioritySemaphore(PERMITS);
    const task = async (priority: Priority): Promise<void> => {
      const permit = await sem.acquire(priority);
      await work();
      permit.release();
    };
    return all((i) => task(priorityOf(i)));
  });
  add(group, "async-sema", TASKS, () => {
    const sema = new Sema(PERMITS);
    const task = async (): Promise<void> => {
      await sema.acquire();
      await work();
      sema.release();
    };
    return all(task);
  });
  add(group, "p-limit", TASKS, () => {
    const limit = pLimit(PERMITS);
    return all(() => limit(work));
  });
  add(group, mixed ? "p-queue (priority option)" : "p-queue", TASKS, () => {
    const queue = new PQueue({ concurrency: PERMITS });
    // p-queue starts the highest number first; walnats, the lowest.
    return all(mixed ? (i) => queue.add(work, { priority: 2 - MIXED[i]! }) : () => queue.add(work));
  });
}

/** Start TASKS tasks at once and wait for all of them. */
async function all(start: (i: number) => Promise<unknown>): Promise<void> {
  const promises = new Array<Promise<unknown>>(TASKS);
  for (let i = 0; i < TASKS; i++) promises[i] = start(i);
  await Promise.all(promises);
}

if (typeof Deno === "undefined" || process.argv.includes("--manual")) {
  await runByHand();
} else {
  for (const { group, name, ours, ops, fn } of cases) {
    // A contended iteration allocates megabytes, so its time swings with the
    // garbage collector: more samples than `deno bench` takes by default.
    const counts = SMOKE ? { n: 3, warmup: 1 } : ops === TASKS ? { n: 100, warmup: 20 } : {};
    Deno.bench({ group, name, baseline: ours && !name.includes("await"), fn, ...counts });
  }
}

/**
 * Time every case in interleaved rounds (so that drift and the garbage left by one
 * case spread over all of them), then print ops/s and the ratio to the best peer.
 */
async function runByHand(): Promise<void> {
  const rounds = SMOKE ? 1 : 5;
  const budget = SMOKE ? 30 : 300;
  const totals = new Map<Case, { ops: number; ms: number }>();
  for (const bench of cases) {
    await measure(bench, budget / 2);
    totals.set(bench, { ops: 0, ms: 0 });
  }
  for (let round = 0; round < rounds; round++) {
    for (const bench of cases) {
      const { ops, ms } = await measure(bench, budget);
      const total = totals.get(bench)!;
      total.ops += ops;
      total.ms += ms;
    }
  }
  const rate = (bench: Case): number => totals.get(bench)!.ops / (totals.get(bench)!.ms / 1_000);
  const runtime = typeof Deno !== "undefined"
    ? `Deno ${Deno.version.deno}`
    : `Bun ${(globalThis as { Bun?: { version: string } }).Bun?.version ?? "?"}`;
  console.log(`${runtime}${SMOKE ? " (smoke)" : ""}: ops/s, and the ratio to the best peer`);
  for (const group of new Set(cases.map((bench) => bench.group))) {
    const members = cases.filter((bench) => bench.group === group);
    const best = Math.max(...members.filter((m) => !m.ours).map(rate));
    console.log(`\n${group}`);
    for (const member of members) {
      const ratio = `${(rate(member) / best).toFixed(2)}x`;
      console.log(
        `  ${member.name.padEnd(36)} ${format(rate(member)).padStart(12)} ${ratio.padStart(7)}`,
      );
    }
  }
}

/** Run `bench` for `budget` milliseconds (at least three calls). */
async function measure(bench: Case, budget: number): Promise<{ ops: number; ms: number }> {
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < budget || calls < 3) {
    await bench.fn();
    calls++;
    elapsed = performance.now() - start;
  }
  return { ops: calls * bench.ops, ms: elapsed };
}

function format(rate: number): string {
  return Math.round(rate).toLocaleString("en-US");
}
