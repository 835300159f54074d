// publisher.ts: emits one event per run.
import process from "node:process";
import { Events } from "@walnats/walnats";
import { orderPlaced } from "./events.ts";

await using events = await new Events(orderPlaced).connect(process.env.NATS_URL);
await events.register(); // create or update the stream
const id = `order-${Date.now()}`;
const { seq } = await events.emit(
  orderPlaced,
  { id, email: "ada@example.com", total: 42 },
  { uid: id, sync: true }, // uid: emitted twice, stored once; sync: wait for the stream
);
console.log(`stored as message ${seq}`);
