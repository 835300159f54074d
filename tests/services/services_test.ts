import { test } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { Actor, Actors, Event, Events, Services, typed } from "../../mod.ts";

const userCreated = new Event("user-created", v.object({ id: v.number() }));
const sendEmail = new Actor("send-email", userCreated, () => {});

test("Services.add records name, version, description, emitted events and defined actors", () => {
  const services = new Services()
    .add("users", { version: "1.0.0", description: "Accounts", emits: new Events(userCreated) })
    .add("notifications", { defines: new Actors(sendEmail) });
  assert.deepEqual(services.services.map((s) => s.name), ["users", "notifications"]);
  const [users, notifications] = services.services;
  assert.equal(users?.version, "1.0.0");
  assert.equal(users?.description, "Accounts");
  assert.deepEqual(users?.emits, [userCreated]);
  assert.deepEqual(users?.defines, []);
  assert.equal(notifications?.version, "0.0.0");
  assert.equal(notifications?.description, undefined);
  assert.deepEqual(notifications?.defines, [sendEmail]);
  assert.ok(Object.isFrozen(users));
});

test("Services.add accepts lists and other iterables of events and actors", () => {
  const services = new Services()
    .add("a", { emits: [userCreated], defines: new Set([sendEmail]) });
  assert.deepEqual(services.services[0]?.emits, [userCreated]);
  assert.deepEqual(services.services[0]?.defines, [sendEmail]);
});

test("Services.services is a copy that later adds do not change", () => {
  const services = new Services().add("a");
  const before = services.services;
  services.add("b");
  assert.equal(before.length, 1);
  assert.equal(services.services.length, 2);
});

test("Services.add rejects an empty or repeated name", () => {
  const services = new Services().add("users");
  assert.throws(() => services.add(""), {
    name: "TypeError",
    message: /service name "": the name is empty/,
  });
  assert.throws(() => services.add("  "), TypeError);
  assert.throws(() => services.add("users"), {
    name: "TypeError",
    message: 'Cannot add service "users" twice',
  });
});

test("Services.add rejects what is not an event or an actor, naming the service", () => {
  const services = new Services();
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => services.add("users", { emits: ["user-created" as any] }),
    { name: "TypeError", message: 'Invalid event emitted by service "users": expected an Event' },
  );
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => services.add("users", { defines: [userCreated as any] }),
    { name: "TypeError", message: 'Invalid actor defined by service "users": expected an Actor' },
  );
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => services.add("users", { emits: 42 as any }),
    { name: "TypeError", message: /Invalid emits of service "users"/ },
  );
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => services.add("users", { version: "" as any }),
    { name: "TypeError", message: /Invalid version of service "users"/ },
  );
  assert.equal(services.services.length, 0);
});

test("Services.asyncApi names the services when asked for an unknown one", () => {
  const services = new Services().add("users").add("billing");
  assert.throws(() => services.asyncApi({ service: "nope" }), {
    name: "TypeError",
    message: 'Unknown service "nope"; the services are: "users", "billing"',
  });
});

test("Services of typed<T>() events still describe them", () => {
  const ping = new Event("ping", typed<{ at: number }>());
  const services = new Services().add("a", { emits: [ping] });
  assert.ok(services.d2().includes("ping"));
  assert.ok(services.mermaid().includes('"ping"'));
});
