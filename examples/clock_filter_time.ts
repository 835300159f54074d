/**
 * Periodic jobs: two clocks tick every second on one event (each tick is stored once),
 * and actors pick the ticks they care about with `filterTime`. Then a burst listener
 * handles the ticks and returns.
 *
 *     deno run -A examples/clock_filter_time.ts
 *     bun examples/clock_filter_time.ts
 */
import { Actor, Actors, Clock, dateTime, Event, Events, filterTime } from "@walnats/walnats";
import { exampleNats, runtime } from "./_nats.ts";

// #region declare
// A clock event of our own: one tick per second. The duplicate window must cover the
// period, so that clocks in several processes store each tick once.
const secondPassed = new Event("second-passed", dateTime(), {
  description: "A second has passed",
  limits: { duplicateWindow: 10_000, age: 60_000 },
});

const today = new Date().getUTCDay(); // 0 = Sunday … 6 = Saturday
const tomorrow = (today + 1) % 7;

const ticks: string[] = [];
let todayRuns = 0;
let tomorrowRuns = 0;

const logTick = new Actor("log-tick", secondPassed, (date) => {
  ticks.push(date.toISOString());
});
// Runs on every tick of today (UTC); skips (and acks) ticks of any other weekday.
const todayJob = new Actor(
  "today-job",
  secondPassed,
  filterTime({ weekday: today, timezone: "UTC" })(() => {
    todayRuns += 1;
  }),
);
// Never runs today: its handler is skipped, and each tick is acked all the same.
const tomorrowJob = new Actor(
  "tomorrow-job",
  secondPassed,
  filterTime({ weekday: tomorrow, timezone: "UTC" })(() => {
    tomorrowRuns += 1;
  }),
);
// #endregion declare

await using nats = await exampleNats();
console.log(`clock_filter_time: ${runtime}, NATS at ${nats.url}`);

await using events = await new Events(secondPassed).connect(nats.url);
await events.register();
// Interest retention: the actors' consumers must exist before the clocks tick.
await using actors = await new Actors(logTick, todayJob, tomorrowJob).connect(nats.url);
await actors.register();

// #region run
const clock = new Clock({ event: secondPassed, period: 1000 });
const twin = new Clock({ event: secondPassed, period: 1000 }); // as if in another process
// `burst` emits the tick now running once and returns.
await clock.run(events, { burst: true });
// Both clocks tick at every second boundary for 2.5 seconds.
const signal = AbortSignal.timeout(2500);
await Promise.all([clock.run(events, { signal }), twin.run(events, { signal })]);

await actors.listen({ burst: true });
// #endregion run
const unique = new Set(ticks).size;
console.log(
  `clock_filter_time: ${ticks.length} ticks handled (${unique} distinct), first ${ticks[0]}`,
);
console.log(`clock_filter_time: today-job ran ${todayRuns} times, tomorrow-job ${tomorrowRuns}`);
const on = (day: number) => ticks.filter((t) => new Date(t).getUTCDay() === day).length;
if (
  ticks.length < 3 || unique !== ticks.length || todayRuns !== on(today) ||
  tomorrowRuns !== on(tomorrow)
) {
  throw new Error("clock_filter_time: unexpected counts");
}
console.log("clock_filter_time: done");
