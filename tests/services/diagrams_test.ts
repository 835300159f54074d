import { test } from "node:test";
import assert from "node:assert/strict";
import { Actor, Event, Services, typed } from "../../mod.ts";
import { services as shop } from "./fixtures/services.ts";
import { assertSnapshot } from "./_snapshot.ts";

test("Services.d2 matches the reviewed event-storming diagram of the shop", () => {
  assertSnapshot(shop.d2(), "shop.d2");
});

test("Services.d2 without colours and flowing down matches the reviewed diagram", () => {
  assertSnapshot(shop.d2({ colors: false, direction: "down" }), "shop-plain.d2");
});

test("Services.mermaid matches the reviewed event-storming flowchart of the shop", () => {
  assertSnapshot(shop.mermaid(), "shop.mmd");
});

test("Services.mermaid without colours and flowing down matches the reviewed flowchart", () => {
  assertSnapshot(shop.mermaid({ colors: false, direction: "down" }), "shop-plain.mmd");
});

test("Services.mermaid maps the directions to flowchart directions", () => {
  const services = new Services().add("a");
  const first = (direction: "right" | "left" | "down" | "up") =>
    services.mermaid({ direction }).split("\n")[0];
  assert.equal(first("right"), "flowchart LR");
  assert.equal(first("left"), "flowchart RL");
  assert.equal(first("down"), "flowchart TB");
  assert.equal(first("up"), "flowchart BT");
});

test("Services diagrams reject an unknown direction", () => {
  const services = new Services().add("a");
  // deno-lint-ignore no-explicit-any
  const sideways = { direction: "sideways" as any };
  assert.throws(() => services.d2(sideways), {
    name: "TypeError",
    message: 'Invalid diagram direction "sideways": expected "right", "left", "down" or "up"',
  });
  assert.throws(() => services.mermaid(sideways), TypeError);
});

// Names that D2 and Mermaid would misread: keywords, dots, quotes, a service named like an event.
const billing = new Event("billing", typed<number>());
const style = new Event("style", typed<number>(), { description: 'Says "hi"\nand more' });
const end = new Event("end", typed<number>());
const odd = new Services()
  .add("billing", { emits: [billing, style, end], defines: [new Actor("end", end, () => {})] })
  .add('My "odd" service.x', { emits: [style], defines: [new Actor("label", billing, () => {})] })
  .add("idle");

test("Services.d2 quotes keywords, dots and quotes, and keeps an event apart from a like-named service", () => {
  assert.equal(
    odd.d2({ colors: false }),
    [
      "direction: right",
      "",
      "billing: {",
      "  end",
      "}",
      '"My \\"odd\\" service.x": {',
      '  "label"',
      "}",
      "idle",
      '"billing (event)": {',
      '  label: "billing"',
      "  shape: oval",
      "}",
      '"style": {',
      "  shape: oval",
      '  tooltip: "Says \\"hi\\"\\nand more"',
      "}",
      "end: {",
      "  shape: oval",
      "}",
      "",
      'billing -> "billing (event)"',
      'billing -> "style"',
      "billing -> end",
      '"My \\"odd\\" service.x" -> "style"',
      "end -> billing.end",
      '"billing (event)" -> "My \\"odd\\" service.x"."label"',
      "",
    ].join("\n"),
  );
});

test("Services.mermaid gives every node a safe unique id and escapes quotes in labels", () => {
  assert.equal(
    odd.mermaid({ colors: false }),
    [
      "flowchart LR",
      '  subgraph svc_billing ["billing"]',
      '    act_billing_end["end"]',
      "  end",
      '  subgraph svc_My_odd_service_x ["My #quot;odd#quot; service.x"]',
      '    act_My_odd_service_x_label["label"]',
      "  end",
      '  svc_idle["idle"]',
      '  evt_billing(["billing"])',
      '  evt_style(["style"])',
      '  evt_end(["end"])',
      "  svc_billing --> evt_billing",
      "  svc_billing --> evt_style",
      "  svc_billing --> evt_end",
      "  svc_My_odd_service_x --> evt_style",
      "  evt_end --> act_billing_end",
      "  evt_billing --> act_My_odd_service_x_label",
      "",
    ].join("\n"),
  );
});

test("Services.mermaid numbers ids that would collide", () => {
  const a = new Event("user.created", typed<number>());
  const b = new Event("user-created", typed<number>());
  const chart = new Services().add("x", { emits: [a, b] }).mermaid({ colors: false });
  assert.ok(chart.includes('evt_user_created(["user.created"])'), chart);
  assert.ok(chart.includes('evt_user_created_2(["user-created"])'), chart);
});

test("Services diagrams draw one box per actor name in a service, with an arrow per event", () => {
  const d2 = shop.d2({ colors: false });
  assert.equal(d2.match(/^ {2}send-email(: \{)?$/gm)?.length, 1);
  assert.ok(d2.includes("user-created -> notifications.send-email\n"));
  assert.ok(d2.includes('"user.updated" -> notifications.send-email\n'));
});
