// Compare output with a reviewed file under tests/services/fixtures; UPDATE_SNAPSHOTS=1 rewrites it.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import process from "node:process";

/** The path of a fixture file. */
export function fixture(name: string): string {
  return new URL(`./fixtures/${name}`, import.meta.url).pathname;
}

/** Assert that `actual` equals the fixture's text (or write it, with UPDATE_SNAPSHOTS=1). */
export function assertSnapshot(actual: string, name: string): void {
  const path = fixture(name);
  if (process.env.UPDATE_SNAPSHOTS === "1") {
    writeFileSync(path, actual);
    return;
  }
  assert.equal(actual, readFileSync(path, "utf8"), `output differs from ${name}`);
}
