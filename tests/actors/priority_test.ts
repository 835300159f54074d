import { test } from "node:test";
import assert from "node:assert/strict";
import { type Permit, Priority, PrioritySemaphore } from "../../src/actors/priority.ts";

/** Let settled promises run their reactions. */
async function flush(): Promise<void> {
  for (let i = 0; i < 4; i++) await Promise.resolve();
}

/** A manual clock in milliseconds. */
function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 0;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

/** mulberry32: a tiny seeded PRNG returning floats in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Queue `label` at `priority` and log it to `order` once granted. */
function queue(
  sem: PrioritySemaphore,
  priority: Priority,
  label: string,
  order: string[],
  signal?: AbortSignal,
): Promise<Permit> {
  return sem.acquire(priority, { signal }).then((permit) => {
    order.push(label);
    return permit;
  });
}

/**
 * Release `first`, then each permit as soon as it is granted, until every waiter
 * (keyed by label) has had its turn. Grants happen one at a time, so `order` is
 * the grant order.
 */
async function releaseInTurn(
  first: Permit,
  waiters: Map<string, Promise<Permit>>,
  order: string[],
): Promise<void> {
  const pending = new Set(waiters.keys());
  for (const label of order) pending.delete(label);
  let current = first;
  while (pending.size > 0) {
    current.release();
    await flush();
    const label = order.at(-1) ?? "nothing";
    assert.ok(pending.delete(label), `${label} is granted once`);
    current = await waiters.get(label)!;
  }
  current.release();
}

test("Priority has the values of Python walnats, lower is sooner", () => {
  assert.deepEqual({ ...Priority }, { HIGH: 0, NORMAL: 1, LOW: 2 });
});

test("PrioritySemaphore tryAcquire takes free permits synchronously and stops at zero", () => {
  const sem = new PrioritySemaphore(2);
  const a = sem.tryAcquire(Priority.LOW);
  const b = sem.tryAcquire(Priority.HIGH);
  assert.ok(a !== undefined && b !== undefined);
  assert.notEqual(a, b);
  assert.equal(typeof (a as unknown as { then?: unknown }).then, "undefined");
  assert.equal(sem.available, 0);
  assert.equal(sem.tryAcquire(Priority.HIGH), undefined);
  a.release();
  assert.equal(sem.available, 1);
  b.release();
  assert.equal(sem.available, 2);
});

test("PrioritySemaphore acquire resolves at once when a permit is free", async () => {
  const sem = new PrioritySemaphore(1);
  const promise = sem.acquire(Priority.NORMAL);
  assert.equal(sem.available, 0);
  assert.equal(sem.waiting, 0);
  (await promise).release();
  assert.equal(sem.available, 1);
});

test("PrioritySemaphore acquire waits for a release, first come first served", async () => {
  const sem = new PrioritySemaphore(1);
  const held = sem.tryAcquire(Priority.NORMAL)!;
  const order: string[] = [];
  const waiters = ["a", "b", "c"].map((label) => queue(sem, Priority.NORMAL, label, order));
  await flush();
  assert.deepEqual(order, []);
  assert.equal(sem.waiting, 3);
  held.release();
  await flush();
  assert.deepEqual(order, ["a"]);
  assert.equal(sem.available, 0);
  (await waiters[0])!.release();
  await flush();
  (await waiters[1])!.release();
  await flush();
  (await waiters[2])!.release();
  assert.deepEqual(order, ["a", "b", "c"]);
  assert.equal(sem.available, 1);
  assert.equal(sem.waiting, 0);
});

test("PrioritySemaphore grants HIGH before NORMAL before LOW", async () => {
  const sem = new PrioritySemaphore(1);
  const held = sem.tryAcquire(Priority.HIGH)!;
  const order: string[] = [];
  const waiters = new Map([
    ["low", queue(sem, Priority.LOW, "low", order)],
    ["normal", queue(sem, Priority.NORMAL, "normal", order)],
    ["high", queue(sem, Priority.HIGH, "high", order)],
    ["normal2", queue(sem, Priority.NORMAL, "normal2", order)],
  ]);
  await releaseInTurn(held, waiters, order);
  assert.deepEqual(order, ["high", "normal", "normal2", "low"]);
  assert.equal(sem.available, 1);
});

test("PrioritySemaphore hands a released permit to a waiter, not to tryAcquire", async () => {
  const sem = new PrioritySemaphore(1);
  const held = sem.tryAcquire(Priority.HIGH)!;
  const waiter = sem.acquire(Priority.LOW);
  held.release();
  assert.equal(sem.tryAcquire(Priority.HIGH), undefined);
  assert.equal(sem.available, 0);
  (await waiter).release();
  assert.equal(sem.available, 1);
});

test("PrioritySemaphore ages a LOW waiter past a constant stream of HIGH ones", async () => {
  const clock = fakeClock();
  const sem = new PrioritySemaphore(1, { aging: 100, now: clock.now });
  const order: string[] = [];
  const waiters = new Map<string, Promise<Permit>>();
  let current = sem.tryAcquire(Priority.HIGH)!;
  waiters.set("low", queue(sem, Priority.LOW, "low", order));
  // Each turn a new HIGH waiter arrives and the running job takes 30 ms.
  for (let step = 0; step < 20 && !order.includes("low"); step++) {
    waiters.set(`high${step}`, queue(sem, Priority.HIGH, `high${step}`, order));
    clock.advance(30);
    current.release();
    await flush();
    current = await waiters.get(order.at(-1) ?? "nothing")!;
  }
  // LOW (level 2) competes as HIGH after 2 * 100 ms, and is older than every HIGH waiter.
  assert.deepEqual(order, ["high0", "high1", "high2", "high3", "high4", "high5", "low"]);
  assert.equal(sem.waitingAt(Priority.HIGH), 1);
  await releaseInTurn(current, waiters, order);
  assert.equal(sem.available, 1);
});

test("PrioritySemaphore ages waiters on the default clock", async () => {
  const sem = new PrioritySemaphore(1, { aging: 5 });
  const order: string[] = [];
  const held = sem.tryAcquire(Priority.HIGH)!;
  const low = queue(sem, Priority.LOW, "low", order);
  await new Promise((resolve) => setTimeout(resolve, 25));
  const high = queue(sem, Priority.HIGH, "high", order);
  held.release();
  await flush();
  (await low).release();
  await flush();
  (await high).release();
  assert.deepEqual(order, ["low", "high"]);
});

test("PrioritySemaphore breaks ties across levels by enqueue order", async () => {
  const clock = fakeClock();
  const sem = new PrioritySemaphore(1, { aging: 100, now: clock.now });
  const order: string[] = [];
  const held = sem.tryAcquire(Priority.HIGH)!;
  const normal = queue(sem, Priority.NORMAL, "normal", order);
  clock.advance(50);
  const high = queue(sem, Priority.HIGH, "high", order);
  clock.advance(50);
  // NORMAL has waited 100 ms: effectively HIGH, and enqueued first.
  held.release();
  await flush();
  assert.deepEqual(order, ["normal"]);
  (await normal).release();
  await flush();
  (await high).release();
  assert.deepEqual(order, ["normal", "high"]);
});

test("PrioritySemaphore prefers a higher level to an older waiter not aged enough", async () => {
  const clock = fakeClock();
  const sem = new PrioritySemaphore(1, { aging: 100, now: clock.now });
  const order: string[] = [];
  const held = sem.tryAcquire(Priority.HIGH)!;
  const low = queue(sem, Priority.LOW, "low", order);
  clock.advance(150);
  const high = queue(sem, Priority.HIGH, "high", order);
  // LOW has aged one level only: effectively NORMAL.
  held.release();
  await flush();
  (await high).release();
  await flush();
  (await low).release();
  assert.deepEqual(order, ["high", "low"]);
});

test("PrioritySemaphore abort removes a pending waiter and rejects with the reason", async () => {
  const sem = new PrioritySemaphore(1);
  const held = sem.tryAcquire(Priority.NORMAL)!;
  const controller = new AbortController();
  const order: string[] = [];
  const aborted = queue(sem, Priority.HIGH, "aborted", order, controller.signal);
  const next = queue(sem, Priority.LOW, "next", order);
  assert.equal(sem.waitingAt(Priority.HIGH), 1);
  const reason = new Error("shutting down");
  controller.abort(reason);
  await assert.rejects(aborted, (error) => error === reason);
  assert.equal(sem.waiting, 1);
  assert.equal(sem.waitingAt(Priority.HIGH), 0);
  held.release();
  (await next).release();
  assert.deepEqual(order, ["next"]);
  assert.equal(sem.available, 1);
});

test("PrioritySemaphore acquire with an aborted signal rejects at once", async () => {
  const sem = new PrioritySemaphore(1);
  const reason = new Error("too late");
  await assert.rejects(
    sem.acquire(Priority.HIGH, { signal: AbortSignal.abort(reason) }),
    (error) => error === reason,
  );
  assert.equal(sem.available, 1);
  assert.equal(sem.waiting, 0);
});

test("PrioritySemaphore abort after the grant leaves the permit with its holder", async () => {
  const sem = new PrioritySemaphore(1);
  const held = sem.tryAcquire(Priority.NORMAL)!;
  const controller = new AbortController();
  const waiter = sem.acquire(Priority.NORMAL, { signal: controller.signal });
  held.release();
  controller.abort();
  const permit = await waiter;
  assert.equal(sem.available, 0);
  permit.release();
  assert.equal(sem.available, 1);
});

test("PrioritySemaphore passes a permit on when a signal listener releases first", async () => {
  const sem = new PrioritySemaphore(1);
  const held = sem.tryAcquire(Priority.NORMAL)!;
  const controller = new AbortController();
  // Added before the semaphore's listener, so it runs first: the aborted waiter is
  // still queued when the permit comes back.
  controller.signal.addEventListener("abort", () => held.release());
  const first = sem.acquire(Priority.HIGH, { signal: controller.signal });
  const second = sem.acquire(Priority.LOW);
  const reason = new Error("shutdown");
  controller.abort(reason);
  await assert.rejects(first, (error) => error === reason);
  const permit = await second;
  assert.equal(sem.waiting, 0);
  assert.equal(sem.available, 0);
  permit.release();
  assert.equal(sem.available, 1);
});

test("PrioritySemaphore removes the abort listener once granted", async () => {
  const sem = new PrioritySemaphore(1);
  const held = sem.tryAcquire(Priority.NORMAL)!;
  const added: unknown[] = [];
  const removed: unknown[] = [];
  const signal = new AbortController().signal;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((type: string, listener: EventListenerOrEventListenerObject) => {
    added.push(listener);
    add(type, listener);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((type: string, listener: EventListenerOrEventListenerObject) => {
    removed.push(listener);
    remove(type, listener);
  }) as typeof signal.removeEventListener;
  const waiter = sem.acquire(Priority.NORMAL, { signal });
  held.release();
  (await waiter).release();
  assert.equal(added.length, 1);
  assert.deepEqual(removed, added);
});

test("PrioritySemaphore waiters sharing a signal share one abort listener", async () => {
  const sem = new PrioritySemaphore(1);
  const held = sem.tryAcquire(Priority.NORMAL)!;
  const controller = new AbortController();
  const signal = controller.signal;
  let listeners = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((type: string, listener: EventListenerOrEventListenerObject) => {
    listeners++;
    add(type, listener);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((type: string, listener: EventListenerOrEventListenerObject) => {
    listeners--;
    remove(type, listener);
  }) as typeof signal.removeEventListener;
  const order: string[] = [];
  const first = queue(sem, Priority.HIGH, "first", order, signal);
  const others = [
    queue(sem, Priority.LOW, "low", order, signal),
    queue(sem, Priority.NORMAL, "normal", order, signal),
  ];
  const unsignalled = queue(sem, Priority.LOW, "unsignalled", order);
  assert.equal(listeners, 1);
  held.release();
  const permit = await first;
  assert.equal(listeners, 1);
  const reason = new Error("shutdown");
  controller.abort(reason);
  for (const other of others) await assert.rejects(other, (error) => error === reason);
  assert.equal(listeners, 0);
  assert.equal(sem.waiting, 1);
  permit.release();
  (await unsignalled).release();
  assert.deepEqual(order, ["first", "unsignalled"]);
  assert.equal(sem.available, 1);
});

test("PrioritySemaphore release twice throws and does not free a second permit", () => {
  const sem = new PrioritySemaphore(2);
  const permit = sem.tryAcquire(Priority.NORMAL)!;
  const other = sem.tryAcquire(Priority.NORMAL)!;
  permit.release();
  assert.throws(() => permit.release(), { name: "Error", message: /already released/ });
  assert.equal(sem.available, 1);
  other.release();
  assert.equal(sem.available, 2);
});

test("PrioritySemaphore release of a stale permit throws once its slot moved on", async () => {
  const sem = new PrioritySemaphore(1);
  const stale = sem.tryAcquire(Priority.NORMAL)!;
  const waiter = sem.acquire(Priority.NORMAL);
  stale.release();
  const permit = await waiter;
  assert.throws(() => stale.release(), /already released/);
  assert.equal(sem.available, 0);
  permit.release();
  assert.equal(sem.available, 1);
});

test("PrioritySemaphore using releases the permit at the end of the scope", async () => {
  const sem = new PrioritySemaphore(1);
  {
    using permit = sem.tryAcquire(Priority.HIGH);
    assert.ok(permit !== undefined);
    assert.equal(sem.available, 0);
  }
  assert.equal(sem.available, 1);
  {
    using permit = await sem.acquire(Priority.LOW);
    assert.equal(sem.available, 0);
    // Releasing early is fine: dispose then does nothing.
    permit.release();
    assert.equal(sem.available, 1);
  }
  assert.equal(sem.available, 1);
  {
    using none = sem.tryAcquire(Priority.LOW);
    using other = sem.tryAcquire(Priority.LOW);
    assert.ok(none !== undefined);
    assert.equal(other, undefined);
  }
  assert.equal(sem.available, 1);
});

test("PrioritySemaphore counts permits, available and waiting per level", () => {
  const sem = new PrioritySemaphore(2);
  assert.equal(sem.permits, 2);
  assert.equal(sem.available, 2);
  const permits = [sem.tryAcquire(Priority.HIGH)!, sem.tryAcquire(Priority.LOW)!];
  const controller = new AbortController();
  const waiters = [
    sem.acquire(Priority.HIGH, { signal: controller.signal }),
    sem.acquire(Priority.LOW, { signal: controller.signal }),
    sem.acquire(Priority.LOW, { signal: controller.signal }),
  ];
  for (const waiter of waiters) waiter.catch(() => {});
  assert.equal(sem.available, 0);
  assert.equal(sem.waiting, 3);
  assert.equal(sem.waitingAt(Priority.HIGH), 1);
  assert.equal(sem.waitingAt(Priority.NORMAL), 0);
  assert.equal(sem.waitingAt(Priority.LOW), 2);
  controller.abort();
  assert.equal(sem.waiting, 0);
  for (const permit of permits) permit.release();
  assert.equal(sem.available, 2);
  assert.equal(sem.permits, 2);
});

test("PrioritySemaphore keeps order and counts through long queues and mass aborts", async () => {
  // Thousands of waiters span many chunks of each level's queue; aborting two thirds
  // of them leaves enough holes to squeeze the queues while the abort runs, and the
  // waiters aborted afterwards have moved in the squeeze.
  const sem = new PrioritySemaphore(1, { aging: 1e9 });
  const held = sem.tryAcquire(Priority.HIGH)!;
  const levels = [Priority.HIGH, Priority.NORMAL, Priority.LOW] as const;
  const levelOf = (i: number): Priority => levels[((i >> 2) % 3) as 0 | 1 | 2];
  const shared = new AbortController();
  const own = new Map<number, AbortController>();
  const order: number[] = [];
  const waiters: Promise<Permit>[] = [];
  for (let i = 0; i < 3000; i++) {
    let signal: AbortSignal | undefined;
    if (i % 3 !== 0) signal = shared.signal;
    else if (i % 9 === 0) {
      const controller = new AbortController();
      own.set(i, controller);
      signal = controller.signal;
    }
    const waiter = sem.acquire(levelOf(i), { signal });
    waiter.then(() => order.push(i), () => {});
    waiters.push(waiter);
  }
  assert.equal(sem.waiting, 3000);
  shared.abort();
  assert.equal(sem.waiting, 1000);
  let k = 0;
  for (const controller of own.values()) if (k++ % 2 === 0) controller.abort();
  const expected = waiters.map((_, i) => i)
    .filter((i) => i % 3 === 0 && !own.get(i)?.signal.aborted)
    .sort((a, b) => levelOf(a) - levelOf(b) || a - b);
  assert.equal(sem.waiting, expected.length);
  for (const level of levels) {
    const count = expected.filter((i) => levelOf(i) === level).length;
    assert.equal(sem.waitingAt(level), count);
  }
  let current = held;
  for (const i of expected) {
    current.release();
    current = await waiters[i]!;
  }
  current.release();
  assert.deepEqual(order, expected);
  assert.equal(sem.waiting, 0);
  assert.equal(sem.available, 1);
  // The emptied queues take new waiters as before.
  const again = sem.tryAcquire(Priority.NORMAL)!;
  const next = sem.acquire(Priority.LOW);
  again.release();
  (await next).release();
  assert.equal(sem.available, 1);
});

test("PrioritySemaphore rejects bad arguments with errors that name the value", () => {
  for (const permits of [0, -1, 1.5, Number.NaN, Infinity, "2" as unknown as number]) {
    assert.throws(() => new PrioritySemaphore(permits), {
      name: "RangeError",
      message: new RegExp(`"${String(permits)}" permits`),
    });
  }
  for (const aging of [0, -5, Number.NaN, Infinity]) {
    assert.throws(() => new PrioritySemaphore(1, { aging }), {
      name: "RangeError",
      message: new RegExp(`aging "${String(aging)}"`),
    });
  }
  assert.throws(
    () => new PrioritySemaphore(1, { now: 5 as unknown as () => number }),
    { name: "TypeError", message: /now "5"/ },
  );
  const sem = new PrioritySemaphore(1);
  for (const priority of [3, -1, 0.5, "HIGH"] as unknown as Priority[]) {
    assert.throws(() => sem.tryAcquire(priority), {
      name: "RangeError",
      message: new RegExp(`priority "${String(priority)}"`),
    });
    assert.throws(() => sem.acquire(priority), RangeError);
    assert.throws(() => sem.waitingAt(priority), RangeError);
  }
  assert.equal(sem.available, 1);
  assert.doesNotThrow(() => new PrioritySemaphore(3, { aging: 0.5 }));
});

/**
 * A waiter of the reference model, which scans the whole queue for the smallest
 * effective level, the oldest on a tie; the semaphore only compares queue heads.
 */
interface ModelWaiter {
  id: number;
  level: Priority;
  seq: number;
  since: number;
  controller: AbortController | undefined;
}

async function propertyRun(seed: number): Promise<void> {
  const random = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const clock = fakeClock();
  const aging = 10;
  const permits = 1 + Math.floor(random() * 4);
  const sem = new PrioritySemaphore(permits, { aging, now: clock.now });
  const levels = [Priority.HIGH, Priority.NORMAL, Priority.LOW] as const;
  // Waiters often share a signal, as jobs share their listener's shutdown signal.
  const shared = [new AbortController(), new AbortController()];

  let available = permits;
  let nextId = 0;
  let seq = 0;
  const waiters: ModelWaiter[] = [];
  const held: Permit[] = [];
  const released: Permit[] = [];
  const expectedGrants: number[] = [];
  const actualGrants: number[] = [];
  const abortedIds = new Set<number>();
  const rejectedIds = new Set<number>();
  const queuedIds = new Set<number>();

  const effective = (w: ModelWaiter): number =>
    Math.max(0, w.level - Math.floor((clock.now() - w.since) / aging));

  function modelRelease(): void {
    if (waiters.length === 0) {
      available++;
      return;
    }
    let best = 0;
    for (let i = 1; i < waiters.length; i++) {
      const a = effective(waiters[i]!);
      const b = effective(waiters[best]!);
      if (a < b || (a === b && waiters[i]!.seq < waiters[best]!.seq)) best = i;
    }
    expectedGrants.push(waiters[best]!.id);
    waiters.splice(best, 1);
  }

  function startAcquire(controller: AbortController | undefined): void {
    const id = nextId++;
    const level = pick(levels);
    const signal = controller?.signal;
    sem.acquire(level, { signal }).then(
      (permit) => {
        actualGrants.push(id);
        held.push(permit);
      },
      (error) => {
        assert.equal(error, signal?.reason, `seed ${seed}: ${id} rejects with the reason`);
        rejectedIds.add(id);
      },
    );
    if (signal?.aborted) {
      abortedIds.add(id);
    } else if (available > 0) {
      available--;
      expectedGrants.push(id);
    } else {
      queuedIds.add(id);
      waiters.push({ id, level, seq: seq++, since: clock.now(), controller });
    }
  }

  function check(where: string): void {
    const context = `seed ${seed}, ${where}`;
    assert.ok(held.length <= permits, `${context}: ${held.length} active > ${permits} permits`);
    assert.equal(sem.available, available, `${context}: available`);
    assert.equal(sem.waiting, waiters.length, `${context}: waiting`);
    for (const level of levels) {
      const count = waiters.filter((w) => w.level === level).length;
      assert.equal(sem.waitingAt(level), count, `${context}: waiting at ${level}`);
    }
    assert.equal(held.length + available, permits, `${context}: permits accounted for`);
    assert.deepEqual(actualGrants, expectedGrants, `${context}: grant order`);
  }

  for (let step = 0; step < 500; step++) {
    const roll = random();
    if (roll < 0.3) {
      const kind = random();
      const own = kind < 0.5 && kind >= 0.3 ? new AbortController() : undefined;
      if (own !== undefined && random() < 0.1) own.abort(new Error("early"));
      startAcquire(kind < 0.3 ? pick(shared) : own);
    } else if (roll < 0.4) {
      const permit = sem.tryAcquire(pick(levels));
      if (available > 0) {
        assert.ok(permit, `seed ${seed}: tryAcquire with a free permit`);
        available--;
        held.push(permit);
      } else assert.equal(permit, undefined, `seed ${seed}: tryAcquire with none free`);
    } else if (roll < 0.7) {
      if (held.length > 0) {
        const permit = held.splice(Math.floor(random() * held.length), 1)[0]!;
        if (random() < 0.5) permit.release();
        else permit[Symbol.dispose]();
        released.push(permit);
        modelRelease();
      }
    } else if (roll < 0.78) {
      const abortable = waiters.filter((w) => w.controller !== undefined);
      if (abortable.length > 0) {
        const controller = pick(abortable).controller!;
        for (const victim of waiters.filter((w) => w.controller === controller)) {
          waiters.splice(waiters.indexOf(victim), 1);
          abortedIds.add(victim.id);
        }
        controller.abort(new Error(`abort at step ${step}`));
        const index = shared.indexOf(controller);
        if (index >= 0) shared[index] = new AbortController();
      }
    } else if (roll < 0.83) {
      if (released.length > 0) {
        const permit = pick(released);
        assert.throws(() => permit.release(), /already released/);
      }
    } else {
      clock.advance(Math.floor(random() * 8));
    }
    await flush();
    check(`step ${step}`);
  }

  // Drain: release everything until nobody waits.
  while (held.length > 0) {
    held.shift()!.release();
    modelRelease();
    await flush();
    check("drain");
  }
  assert.equal(sem.available, permits, `seed ${seed}: all permits back`);
  for (const id of queuedIds) {
    if (abortedIds.has(id)) assert.ok(rejectedIds.has(id), `seed ${seed}: ${id} rejected`);
    else assert.ok(actualGrants.includes(id), `seed ${seed}: waiter ${id} granted`);
  }
  for (const id of abortedIds) {
    assert.ok(rejectedIds.has(id), `seed ${seed}: ${id} rejected`);
    assert.ok(!actualGrants.includes(id), `seed ${seed}: ${id} not granted`);
  }
}

test("PrioritySemaphore property: random interleavings keep limits and order", async () => {
  for (let seed = 1; seed <= 16; seed++) await propertyRun(seed * 7919);
});
