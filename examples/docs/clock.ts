// Samples of docs/clock-and-decorators.md (type-checked with `deno check examples/`).
// #region clock
import process from "node:process";
import { Clock, Events, minutePassed } from "@walnats/walnats";

/** A clock service: run it in one process or several; each minute is stored once. */
export async function runClock(): Promise<void> {
  await using conn = await new Events(minutePassed).connect(process.env.NATS_URL);
  await conn.register();
  const stop = new AbortController();
  process.once("SIGTERM", () => stop.abort());
  await new Clock().run(conn, { signal: stop.signal }); // "minute-passed" every 60 000 ms
}
// #endregion clock

// #region hourly
import { dateTime, Event } from "@walnats/walnats";

// A clock of its own: the stream's duplicate window must cover the period.
export const hourPassed = new Event("hour-passed", dateTime(), {
  limits: { duplicateWindow: 60 * 60 * 1000, age: 24 * 60 * 60 * 1000 },
});
export const hourly = new Clock({ event: hourPassed, period: 60 * 60 * 1000 });
// #endregion hourly

// #region filter-time
import { Actor, filterTime } from "@walnats/walnats";

// Every weekday at 09:00 in Berlin; the other 1 439 minutes of the day are acked unseen.
export const standup = new Actor(
  "remind-standup",
  minutePassed,
  filterTime({ weekday: { from: 1, to: 5 }, hour: 9, minute: 0, timezone: "Europe/Berlin" })(
    (date) => console.log("stand-up!", date.toISOString()),
  ),
);

// Every 15 minutes during the night (22:00 to 05:59, UTC), a range that wraps around.
export const nightly = new Actor(
  "compact-tables",
  minutePassed,
  filterTime({ hour: { from: 22, to: 5 }, minute: [0, 15, 30, 45] })(async () => {
    await Promise.resolve(); // the real work
  }),
);
// #endregion filter-time

// #region decorators
import * as v from "valibot";
import { rateLimit, requireThat, suppress } from "@walnats/walnats";

const userCreated = new Event("user-created", v.object({ id: v.number(), phone: v.string() }));
class NotFoundError extends Error {}
const db = { connected: false, findUser: (_id: number) => Promise.resolve({ optIn: true }) };

export const sendSms = new Actor(
  "send-sms",
  userCreated,
  // Outermost first: wait for the database, then start at most 10 per minute, and drop
  // users deleted in the meantime instead of retrying them.
  requireThat(() => db.connected, { pause: 500 })(
    rateLimit(10, 60_000)(
      suppress(NotFoundError)(async (user, job) => {
        const found = await db.findUser(user.id);
        if (!found) throw new NotFoundError(`user ${user.id}`);
        await fetch("https://sms.example/send", {
          method: "POST",
          body: user.phone,
          signal: job.signal,
        });
      }),
    ),
  ),
);
// #endregion decorators
