import { test } from "node:test";
import assert from "node:assert/strict";
import specs from "@asyncapi/specs";
import { Ajv, type SchemaObject } from "ajv";
import { type } from "arktype";
import * as v from "valibot";
import { z } from "zod";
import {
  Actor,
  type AsyncApiDocument,
  bytes,
  dateTime,
  Event,
  gzip,
  jsonSerializer,
  Services,
  text,
  typed,
} from "../../mod.ts";
import { services as shop } from "./fixtures/services.ts";
import { assertSnapshot } from "./_snapshot.ts";

// The official AsyncAPI 3.0.0 JSON Schema; formats are not what is under test here.
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
// Its JSON Schema type spells optional fields `?: T | undefined`, which ajv's type does not take.
const validateAsyncApi = ajv.compile(
  (specs.schemasWithoutId["3.0.0"] ??
    assert.fail("@asyncapi/specs has no 3.0.0 schema")) as SchemaObject,
);

function assertValid(doc: AsyncApiDocument): void {
  const ok = validateAsyncApi(doc);
  assert.ok(ok, `not a valid AsyncAPI 3.0 document: ${JSON.stringify(validateAsyncApi.errors)}`);
  // Every local reference must resolve inside the document.
  const resolve = (ref: string) =>
    ref.slice(2).split("/").map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"))
      .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc);
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (typeof node !== "object" || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string") {
        assert.ok(resolve(value) !== undefined, `dangling $ref ${value}`);
      } else walk(value);
    }
  };
  walk(doc);
}

function payloadOf(doc: AsyncApiDocument, event: string): unknown {
  return doc.components.schemas[event];
}

test("Services.asyncApi of all services is a valid AsyncAPI 3.0 document", () => {
  const doc = shop.asyncApi({ title: "shop", version: "1.0.0" });
  assertValid(doc);
  assert.equal(doc.asyncapi, "3.0.0");
  assert.deepEqual(doc.info, { title: "shop", version: "1.0.0" });
});

test("Services.asyncApi matches the reviewed document of the shop", () => {
  const doc = shop.asyncApi({ title: "shop", version: "1.0.0" });
  assertSnapshot(JSON.stringify(doc, null, 2) + "\n", "shop.asyncapi.json");
});

test("Services.asyncApi of each service is valid and holds only that service's operations", () => {
  for (const service of shop.services) {
    const doc = shop.asyncApi({ service: service.name });
    assertValid(doc);
    assert.equal(doc.info.title, service.name);
    assert.equal(doc.info.version, service.version);
    const operations = Object.keys(doc.operations);
    assert.equal(operations.length, service.emits.length + service.defines.length);
    assert.ok(operations.every((id) => id.startsWith(`${service.name}.`)), operations.join());
  }
  assert.equal(shop.asyncApi({ service: "users" }).info.description, "Accounts and profiles");
});

test("Services.asyncApi has a channel per event at the event's subject", () => {
  const doc = shop.asyncApi();
  assert.deepEqual(
    Object.keys(doc.channels).sort(),
    [
      "count-words",
      "count-words_reply",
      "email-sent",
      "file-uploaded",
      "user-created",
      "user.updated",
    ],
  );
  assert.equal(doc.channels["user.updated"]?.address, "user.updated");
  assert.deepEqual(doc.channels["user.updated"]!["x-walnats"], {
    stream: "user-updated",
    retention: "interest",
  });
  assert.equal(doc.channels["user-created"]?.description, "A user has registered");
});

test("Services.asyncApi gives an event's declared retention, interest otherwise", () => {
  const audit = new Event("audit-logged", v.string(), {
    limits: { retention: "limits", age: 86_400_000 },
  });
  const doc = new Services().add("audit", { emits: [audit] }).asyncApi();
  assertValid(doc);
  assert.deepEqual(doc.channels["audit-logged"]!["x-walnats"], {
    stream: "audit-logged",
    retention: "limits",
    limits: { age: 86_400_000 },
  });
});

test("Services.asyncApi sends what a service emits and receives what its actors handle", () => {
  const doc = shop.asyncApi();
  assert.deepEqual(doc.operations["users.send.user-created"], {
    action: "send",
    channel: { $ref: "#/channels/user-created" },
    messages: [{ $ref: "#/channels/user-created/messages/user-created" }],
    summary: "users emits user-created",
  });
  const receive = doc.operations["notifications.receive.user-created.send-email"];
  assert.equal(receive?.action, "receive");
  assert.equal(receive?.description, "Welcome the new user");
  assert.deepEqual(receive["x-walnats"], {
    consumer: "send-email",
    stream: "user-created",
    ackWait: 16000,
    maxAttempts: 5,
    maxAckPending: 1000,
  });
  // The same actor name on another event is another consumer, so another operation.
  assert.ok("notifications.receive.user.updated.send-email" in doc.operations);
});

test("Services.asyncApi describes a request/response event with a reply at the Walnats-Reply inbox", () => {
  const doc = shop.asyncApi();
  const reply = {
    address: {
      location: "$message.header#/Walnats-Reply",
      description: "A core NATS inbox; the response is not persisted",
    },
    channel: { $ref: "#/channels/count-words_reply" },
    messages: [{ $ref: "#/channels/count-words_reply/messages/count-words_response" }],
  };
  assert.deepEqual(doc.operations["notifications.send.count-words"]?.reply, reply);
  assert.deepEqual(doc.operations["audit-log.receive.count-words.count"]?.reply, reply);
  assert.equal(doc.channels["count-words_reply"]?.address, null);
  assert.deepEqual(payloadOf(doc, "count-words_response"), { type: "number" });
});

test("Services.asyncApi derives payloads from valibot, zod and arktype schemas", () => {
  const doc = shop.asyncApi();
  assert.deepEqual(payloadOf(doc, "user-created"), {
    type: "object",
    properties: {
      id: { type: "integer" },
      email: { type: "string", format: "email" },
      name: { type: "string" },
    },
    required: ["id", "email"],
  });
  const zod = payloadOf(doc, "user.updated") as { properties: Record<string, unknown> };
  assert.deepEqual(zod.properties.changes, { type: "array", items: { type: "string" } });
  assert.deepEqual(payloadOf(doc, "email-sent"), {
    type: "object",
    properties: { subject: { type: "string" }, to: { type: "string" } },
    required: ["subject", "to"],
  });
});

test("Services.asyncApi describes walnats' own schemas and content types by serializer", () => {
  const events = [
    new Event("raw", bytes()),
    new Event("line", text()),
    new Event("tick", dateTime()),
    new Event("any", typed<number>()),
    new Event("packed", v.string(), { serializer: gzip(jsonSerializer) }),
  ];
  const doc = new Services().add("a", { emits: events }).asyncApi();
  assertValid(doc);
  assert.deepEqual(payloadOf(doc, "raw"), {
    type: "string",
    format: "binary",
    description: "Raw bytes",
  });
  assert.deepEqual(payloadOf(doc, "line"), { type: "string" });
  assert.deepEqual(payloadOf(doc, "tick"), { type: "string", format: "date-time" });
  assert.match(String((payloadOf(doc, "any") as { description: string }).description), /typed/);
  const types = Object.fromEntries(
    Object.entries(doc.components.messages).map(([k, m]) => [k, m.contentType]),
  );
  assert.deepEqual(types, {
    raw: "application/octet-stream",
    line: "text/plain",
    tick: "text/plain",
    any: "application/json",
    packed: "application/octet-stream",
  });
  assert.deepEqual(doc.components.messages.packed?.["x-walnats"], { serializer: "gzip(json)" });
});

test("Services.asyncApi falls back to any value, with a note, when a schema has no JSON Schema", () => {
  const validate = (value: unknown) => ({ value });
  const acme = { "~standard": { version: 1 as const, vendor: "acme", validate } };
  const broken = {
    "~standard": {
      version: 1 as const,
      vendor: "broken",
      validate,
      jsonSchema: {
        input(): never {
          throw new Error("cannot do that");
        },
      },
    },
  };
  const doc = new Services().add("a", {
    emits: [new Event("acme", acme), new Event("broken", broken)],
  }).asyncApi();
  assertValid(doc);
  assert.deepEqual(payloadOf(doc, "acme"), {
    description: "No JSON Schema: the acme schema offers no JSON Schema conversion",
  });
  assert.deepEqual(payloadOf(doc, "broken"), {
    description: "No JSON Schema: the broken schema could not be converted: cannot do that",
  });
});

test("Services.asyncApi describes parts JSON cannot hold, such as dates, as any value", () => {
  const doc = new Services().add("a", {
    emits: [
      new Event("valibot-date", v.object({ at: v.date() })),
      new Event("zod-date", z.object({ at: z.date() })),
      new Event("ark-date", type({ at: "Date" })),
    ],
  }).asyncApi();
  assertValid(doc);
  for (const name of ["valibot-date", "zod-date", "ark-date"]) {
    const schema = payloadOf(doc, name) as { properties: { at: unknown } };
    assert.deepEqual(schema.properties.at, {}, name);
  }
});

test("Services.asyncApi rebases the references of recursive schemas into the document", () => {
  type Tree = { name: string; children: Tree[] };
  const valibotTree: v.GenericSchema<Tree> = v.object({
    name: v.string(),
    children: v.array(v.lazy(() => valibotTree)),
  });
  const zodTree = z.object({
    name: z.string(),
    get children() {
      return z.array(zodTree);
    },
  });
  const arkTree = type.module({ tree: { name: "string", children: "tree[]" } }).tree;
  const doc = new Services().add("a", {
    emits: [
      new Event("valibot-tree", valibotTree),
      new Event("zod-tree", zodTree),
      new Event("ark-tree", arkTree),
    ],
  }).asyncApi();
  assertValid(doc);
  const refs = JSON.stringify(doc.components.schemas).match(/"\$ref":"[^"]*"/g) ?? [];
  assert.ok(refs.length >= 3);
  for (const ref of refs) assert.match(ref, /"#\/components\/schemas\/[a-z-]+-tree(\/|")/);
});

test("Services.asyncApi lists NATS servers given as URLs", () => {
  const doc = new Services().add("a").asyncApi({
    servers: { local: "nats://127.0.0.1:4222", secure: "tls://nats.example.com:4443" },
  });
  assertValid(doc);
  assert.deepEqual(doc.servers, {
    local: { host: "127.0.0.1:4222", protocol: "nats" },
    secure: { host: "nats.example.com:4443", protocol: "tls" },
  });
  assert.throws(() => new Services().asyncApi({ servers: { bad: "not a url" } }), {
    name: "TypeError",
    message: 'Invalid URL of server "bad": "not a url"',
  });
});

test("Services.asyncApi of no services is still a valid document", () => {
  const doc = new Services().asyncApi();
  assertValid(doc);
  assert.deepEqual(doc.channels, {});
  assert.deepEqual(doc.components.messageTraits, {});
});

test("Services.asyncApi keeps the request/response declaration of an event also declared plain", () => {
  const plain = new Event("ask", v.string());
  const asking = plain.withResponse(v.boolean());
  const doc = new Services()
    .add("a", { emits: [plain] })
    .add("b", { defines: [new Actor("answer", asking, () => true)] })
    .asyncApi();
  assertValid(doc);
  assert.ok("ask_reply" in doc.channels);
  assert.ok(doc.operations["a.send.ask"]!.reply, "the emitter's operation has the reply too");
});

test("Services.asyncApi returns a fresh document each time", () => {
  const a = shop.asyncApi();
  a.info.title = "changed";
  assert.equal(shop.asyncApi().info.title, "walnats");
});
