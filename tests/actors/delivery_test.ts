import { test } from "node:test";
import assert from "node:assert/strict";
import { parseAckSubject } from "../../src/actors/delivery.ts";

test("parseAckSubject reads the v1 ack subject", () => {
  assert.deepEqual(parseAckSubject("$JS.ACK.orders.send-email.3.1042.977.1763900000123456789.15"), {
    delivered: 3,
    streamSeq: 1042,
    consumerSeq: 977,
    timestamp: 1763900000123,
    pending: 15,
  });
});

test("parseAckSubject reads the v2 ack subject (domain, account hash, random token)", () => {
  const subject = "$JS.ACK.hub.ACCHASH.orders.send-email.1.7.7.1763900000999999999.0.xyz";
  assert.deepEqual(parseAckSubject(subject), {
    delivered: 1,
    streamSeq: 7,
    consumerSeq: 7,
    // truncated to the millisecond, not rounded up into the next one
    timestamp: 1763900000999,
    pending: 0,
  });
});

test("parseAckSubject names a subject that is not an ack subject", () => {
  assert.throws(() => parseAckSubject("orders.created"), /Not a JetStream ack subject: orders/);
  assert.throws(() => parseAckSubject("$JS.ACK.s.c.1.2"), /Unexpected JetStream ack subject/);
  assert.ok(Number.isNaN(parseAckSubject("$JS.ACK.s.c.x.2.3.4000000.5").delivered));
  assert.equal(parseAckSubject("$JS.ACK.s.c.1.2.3.4000000.5").timestamp, 4);
});
