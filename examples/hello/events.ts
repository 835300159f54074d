/**
 * What the publisher and the subscriber of the hello-world demo share: the event.
 * In a real system this module is the contract between services.
 */
import * as v from "valibot";
import { Event } from "@walnats/walnats";

/** Someone signed up; the subscriber greets them. */
export const userRegistered = new Event(
  "user-registered",
  v.object({ id: v.number(), name: v.pipe(v.string(), v.minLength(1)) }),
  { description: "A user finished signing up" },
);

/** Where NATS is: `NATS_URL`, else a local server. */
export const natsUrl: string = globalThis.process?.env?.NATS_URL ?? "nats://127.0.0.1:4222";
