// events.ts: the contract between services, imported by publishers and subscribers.
import * as v from "valibot";
import { Event } from "@walnats/walnats";

export const orderPlaced = new Event(
  "order-placed",
  v.object({ id: v.string(), email: v.pipe(v.string(), v.email()), total: v.number() }),
  { description: "A customer placed an order", limits: { age: 7 * 24 * 60 * 60 * 1000 } },
);
