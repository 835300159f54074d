/**
 * Fill an event's stream from a separate process, so that a benchmark measuring memory
 * does not count the publisher's garbage: `<runtime> bench/_fill.ts <url> <event> <n>`.
 * The event's stream must exist and have a consumer (interest retention).
 *
 * @module
 */
import process from "node:process";
import * as v from "valibot";
import { Event, Events } from "../mod.ts";

const [url = "", name = "", count = ""] = process.argv.slice(-3);
const event = new Event(name, v.object({ id: v.number(), body: v.string() }));
await using events = await new Events(event).connect(url);
const window: Promise<unknown>[] = [];
for (let i = 0; i < Number(count); i++) {
  window.push(events.emit(event, { id: i, body: "x".repeat(80) }, { sync: true }));
  if (window.length >= 512) await Promise.all(window.splice(0));
}
await Promise.all(window);
