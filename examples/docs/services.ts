// services.ts: the system at a glance, for `walnats asyncapi | d2 | mermaid services.ts`.
import * as v from "valibot";
import { Actor, Actors, Event, Events, Services } from "@walnats/walnats";

const orderPlaced = new Event("order-placed", v.object({ id: v.string(), total: v.number() }), {
  description: "A customer placed an order",
});
const paymentTaken = new Event("payment-taken", v.object({ order: v.string() }));
const quoteShipping = new Event("quote-shipping", v.object({ weight: v.number() }))
  .withResponse(v.number());

const charge = new Actor("charge-card", orderPlaced, () => {}, {
  description: "Charge the customer's card",
});
const pack = new Actor("pack-order", paymentTaken, () => {});
const quote = new Actor("quote-shipping", quoteShipping, ({ weight }) => 5 + weight * 0.5);

export const services = new Services()
  .add("shop", { version: "2.1.0", emits: new Events(orderPlaced, quoteShipping) })
  .add("payments", { emits: [paymentTaken], defines: new Actors(charge) })
  .add("warehouse", { defines: [pack, quote] });
