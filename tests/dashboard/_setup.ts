// A small system for the dashboard tests: one event, an actor that gives up on negative
// numbers until fixed (so dead letters pile up), and a way to listen while the test runs.
import * as v from "valibot";
import { Actor, Actors, Event, Events, type Logger, UnrecoverableError } from "../../mod.ts";
import { uniqueName } from "../_helpers.ts";

export const quiet: Logger = { error() {}, warn() {}, info() {} };

export async function system(url: string) {
  const e = new Event(uniqueName("order"), v.object({ n: v.number() }));
  let fixed = false;
  const ship = new Actor("ship", e, async (m, job) => {
    if (m.n < 0 && !fixed) throw new UnrecoverableError(`negative ${m.n}`);
    if (m.n >= 1000) {
      // A long job that reports its progress: 4 steps of n / 10 ms.
      for (let i = 1; i <= 4 && !job.signal.aborted; i++) {
        job.progress(i * 25);
        await new Promise((r) => setTimeout(r, m.n / 10));
      }
    }
  }, { maxAttempts: 1 });
  const events = await new Events(e).connect(url);
  await events.register();
  const actors = await new Actors(ship).connect(url);
  await actors.register();
  let listening: { controller: AbortController; done: Promise<void> } | undefined;
  return {
    e,
    ship,
    events,
    actors,
    fix: () => fixed = true,
    /** Start listening (heartbeats every 200 ms). */
    listen() {
      const controller = new AbortController();
      const done = actors.listen({
        logger: quiet,
        heartbeat: { interval: 200 },
        shutdownGrace: 200,
        signal: controller.signal,
      });
      listening = { controller, done };
    },
    async stopListening() {
      listening?.controller.abort();
      await listening?.done;
      listening = undefined;
    },
    async [Symbol.asyncDispose]() {
      listening?.controller.abort();
      await listening?.done;
      await actors.close();
      await events.close();
    },
  };
}
