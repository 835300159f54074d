// greet.ts: the code under test.
import * as v from "valibot";
import { Actor, Event, UnrecoverableError } from "@walnats/walnats";

export const userRegistered = new Event(
  "user-registered",
  v.object({ id: v.number(), name: v.string() }),
);

/** The handler: a plain function, testable without NATS. */
export function greeting(user: { id: number; name: string }): string {
  if (user.name.trim() === "") throw new UnrecoverableError(`user ${user.id} has no name`);
  return `hello, ${user.name}`;
}

export const sent: string[] = []; // stands for the outside world (a mailer, a database)

export const greet = new Actor("greet-user", userRegistered, (user) => {
  sent.push(greeting(user));
}, { maxAttempts: 3, retryDelay: [50] });
