// Samples of docs/python.md (type-checked with `deno check examples/`).
// #region types
import * as v from "valibot";
import { bytes, dateTime, Event, parseDateTime, text } from "@walnats/walnats";

// Python: Event("user-created", User), User a pydantic model, a dataclass or a marshmallow
// schema: a compact JSON object. A Python datetime field arrives as an ISO 8601 string.
const User = v.object({ id: v.number(), name: v.string(), created: v.string() });
export const userCreated = new Event("user-created", User);

// Python: Event("name-given", str): a JSON string, quotes included. Not text().
export const nameGiven = new Event("name-given", v.string());

// Python: Event("file-stored", bytes): the bytes as they are.
export const fileStored = new Event("file-stored", bytes());

// Python: Event("line-logged", bytes), decoded by the Python handler: UTF-8 text.
export const lineLogged = new Event("line-logged", text());

// Python: Event("invoice-due", datetime): a bare ISO 8601 date-time, naive ones read as UTC.
export const invoiceDue = new Event("invoice-due", dateTime());

// Python: walnats.Clock() on a host in this host's time zone: its ticks are local times.
export const minutePassed = new Event("minute-passed", dateTime({ naive: "local" }));
// #endregion types

// #region fields
// pydantic writes a datetime field with isoformat(): no time zone when the datetime is naive.
export function createdAt(user: v.InferOutput<typeof User>): Date {
  return parseDateTime(user.created); // naive → UTC; { naive: "local" } or "reject" otherwise
}
// #endregion fields
