/**
 * The decode stage: the event's serializer, then its schema. Synchronous serializers
 * and schemas (the common case) take no promise hop.
 *
 * @module
 */
import { validate } from "../events/schema.ts";
import type { Event } from "../events/event.ts";
import type { Delivery } from "./delivery.ts";

/**
 * Decode and validate a delivered message.
 *
 * @param where what a validation error calls the value, e.g. `message of event "x"`
 * @returns the message, or a promise of it when the serializer or schema is asynchronous
 * @throws {ValidationError} (or the serializer's error) when it will never decode; an
 * asynchronous failure rejects the promise instead
 */
export function decode(
  event: Event<unknown, unknown>,
  delivery: Delivery,
  where: string,
): unknown {
  const decoded = event.serializer.decode(delivery.data, delivery.headers);
  if (decoded instanceof Promise) {
    return decoded.then((value) => validate(event.schema, value, where));
  }
  return validate(event.schema, decoded, where);
}
