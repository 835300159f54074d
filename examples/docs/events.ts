// Samples of docs/events.md (type-checked with `deno check examples/`).
// #region declare
import * as v from "valibot";
import { z } from "zod";
import { bytes, dateTime, Event, text, typed } from "@walnats/walnats";

// valibot (or any Standard Schema: zod, arktype) validates on emit and on receive.
export const userRegistered = new Event(
  "user-registered",
  v.object({ id: v.number(), email: v.pipe(v.string(), v.email()) }),
  { description: "A user finished signing up" },
);

// zod works the same way.
export const cartAbandoned = new Event(
  "cart-abandoned",
  z.object({ cartId: z.string(), items: z.number().int() }),
);

// Dots make a subject hierarchy: subject "billing.invoice-paid", stream "billing-invoice-paid".
export const invoicePaid = new Event("billing.invoice-paid", typed<{ invoice: string }>());

// Raw payloads: bytes as they are, UTF-8 text, a bare ISO 8601 date-time.
export const imageUploaded = new Event("image-uploaded", bytes());
export const lineLogged = new Event("line-logged", text());
export const dayPassed = new Event("day-passed", dateTime());
// #endregion declare

// #region limits
export const pageViewed = new Event(
  "page-viewed",
  v.object({ url: v.string(), at: v.number() }),
  {
    limits: {
      age: 24 * 60 * 60 * 1000, // drop messages older than a day (ms)
      messages: 1_000_000, // keep at most a million messages…
      bytes: 512 * 1024 * 1024, // …and at most 512 MiB (the oldest go first)
      messageSize: 64 * 1024, // reject a message larger than 64 KiB
      consumers: 10, // at most 10 actors on this event
      replicas: 3, // three copies in a JetStream cluster
      duplicateWindow: 10 * 60 * 1000, // remember uids for 10 minutes
    },
  },
);
// #endregion limits

// #region retention
// Kept for 90 days whether or not an actor handled it: an auditor registered next month
// still reads every entry (with interest retention it would find nothing from before).
export const auditLogged = new Event(
  "audit-logged",
  v.object({ who: v.string(), what: v.string() }),
  { limits: { retention: "limits", age: 90 * 24 * 60 * 60 * 1000 } },
);
// #endregion retention

// #region register
import { Events, StreamConfigError, StreamExistsError } from "@walnats/walnats";

export async function registerStreams(url: string): Promise<void> {
  await using conn = await new Events(userRegistered, pageViewed).connect(url);
  try {
    // create: make missing streams; update: bring existing ones to the declared config.
    await conn.register({ create: true, update: false });
  } catch (error) {
    if (error instanceof StreamExistsError) {
      console.error(`stream of ${error.event} differs: ${error.message}`);
    } else if (error instanceof StreamConfigError) {
      console.error(`server rejected ${error.fields.join(", ")} of ${error.event}`);
    }
    throw error;
  }
}
// #endregion register

// #region emit
import { CloudEvent, type ConnectedEvents, ValidationError } from "@walnats/walnats";

export async function emitExamples(conn: ConnectedEvents): Promise<void> {
  // Fire and forget (core NATS publish): fastest, no confirmation.
  await conn.emit(userRegistered, { id: 1, email: "ada@example.com" });

  // Deduplicated and confirmed: a second emit with this uid (within the stream's
  // duplicate window) is dropped by the server, and `sync` says so.
  const first = await conn.emit(userRegistered, { id: 2, email: "grace@example.com" }, {
    uid: "user-2",
    sync: true,
  });
  const again = await conn.emit(userRegistered, { id: 2, email: "grace@example.com" }, {
    uid: "user-2",
    sync: true,
  });
  console.log(first.seq, again.duplicate); // e.g. 2, true

  // Not handled before 15 minutes from now; a trace id travels to the actor (job.traceId).
  await conn.emit(userRegistered, { id: 3, email: "barbara@example.com" }, {
    delay: 15 * 60 * 1000,
    traceId: "checkout-7f3a",
  });

  // Metadata as plain headers, or as CloudEvents attributes (ce-* headers).
  await conn.emit(userRegistered, { id: 4, email: "edsger@example.com" }, {
    meta: { "x-tenant": "acme" },
  });
  await conn.emit(userRegistered, { id: 5, email: "alan@example.com" }, {
    meta: new CloudEvent({ id: "u5", source: "/signup", type: "com.example.user.registered" }),
  });

  // An invalid message is never sent.
  try {
    await conn.emit(userRegistered, { id: 6, email: "not an email" });
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    console.log(error.issues.map((issue) => issue.path?.join(".")).join(", ")); // "email"
  }
}
// #endregion emit

// #region monitor
export async function watch(conn: ConnectedEvents): Promise<void> {
  // Live decoded messages of every event of the registry, for a minute (nothing is acked).
  const feed = conn.monitor({ signal: AbortSignal.timeout(60_000) });
  for await (const { event, message, headers, error } of feed) {
    if (error) console.log(`${event.name}: cannot decode: ${error.message}`);
    else console.log(event.name, message, headers["Nats-Msg-Id"] ?? "");
  }
}
// #endregion monitor
