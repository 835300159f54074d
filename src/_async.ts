/**
 * The one abortable sleep and the one race against a timer, shared by the modules that wait.
 *
 * Plain `setTimeout` timers (not unref'd): a pending sleep keeps the process alive, as every
 * copy these replace did. Written here rather than with `node:timers/promises`, whose abort
 * rejects, so that a sleep cut short by shutdown is not an error to catch.
 *
 * @module
 */

/**
 * Wait `ms` milliseconds, or less if `signal` aborts first.
 *
 * Resolves `true` when the time passed and `false` when the signal aborted (at once if it
 * already had); never rejects. The timer and the abort listener are removed either way.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (passed: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(passed);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), Math.max(0, ms));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Wait for `promise`, but no longer than `ms` milliseconds.
 *
 * Resolves `true` when `promise` fulfilled in time and `false` when the time ran out first;
 * rejects when `promise` rejects in time. With `ms` `Infinity` there is no timer: it waits
 * for `promise` however long it takes. The timer is cleared either way.
 */
export async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeUp = new Promise<false>((resolve) => {
    if (ms !== Infinity) timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeUp]);
  } finally {
    clearTimeout(timer);
  }
}
