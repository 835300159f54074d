// The dashboard in a real headless browser (Debian's chromium, driven by playwright-core):
// the backlog on the page follows messages as they are emitted and handled, and a redrive
// from the page empties the dead letters. With WALNATS_SCREENSHOT=1 it saves
// docs/images/dashboard.png.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { startNatsServer } from "../../testing.ts";
import { serveDashboard } from "../../admin.ts";
import { quiet, system } from "./_setup.ts";

const CHROMIUM = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const SCREENSHOT = fileURLToPath(new URL("../../docs/images/dashboard.png", import.meta.url));
const skip = existsSync(CHROMIUM)
  ? false
  : `no browser at ${CHROMIUM} (scripts/_setup.sh installs Debian's chromium as root; or set CHROMIUM_BIN)`;

type Page = import("playwright-core").Page;

/** The page's document, in functions that run in the page (the test's runtime has no DOM types). */
interface Dom {
  querySelector(selector: string): { textContent: string | null } | null;
  querySelectorAll(selector: string): { length: number };
}

/** Wait until the element's text is `text` (the page updates from its event stream). */
async function text(page: Page, selector: string, expected: string): Promise<void> {
  try {
    await page.waitForFunction(
      ([s, t]) =>
        (globalThis as unknown as { document: Dom }).document.querySelector(s)?.textContent === t,
      [selector, expected] as const,
      { timeout: 15_000 },
    );
  } catch (error) {
    const actual = await page.locator(selector).first().textContent().catch(() => null);
    throw new Error(`${selector}: expected ${JSON.stringify(expected)}, got ${actual}`, {
      cause: error,
    });
  }
}

async function rows(page: Page, selector: string, count: number): Promise<void> {
  await page.waitForFunction(
    ([s, n]) =>
      (globalThis as unknown as { document: Dom }).document.querySelectorAll(s).length === n,
    [selector, count] as const,
    { timeout: 15_000 },
  );
}

test(
  "dashboard in a browser: the backlog follows emits and handling, redrive empties the dead letters",
  {
    skip,
    timeout: 120_000,
  },
  async () => {
    const { chromium } = await import("playwright-core");
    await using server = await startNatsServer();
    await using s = await system(server.url);
    for (const n of [1, 2, -1]) await s.events.emit(s.e, { n }, { sync: true });
    await using dashboard = await serveDashboard(server.url, {
      port: 0,
      interval: 200,
      allowRedrive: true,
      logger: quiet,
    });
    await using readOnly = await serveDashboard(server.url, {
      port: 0,
      interval: 200,
      logger: quiet,
    });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(dashboard.url);
      const ship = `#actors tr[data-actor="ship"]`;
      await text(page, `${ship} td.pending`, "3");
      await text(page, "#live", "live");

      // Emitted while nobody listens: the backlog grows on the page.
      await s.events.emit(s.e, { n: 3 }, { sync: true });
      await s.events.emit(s.e, { n: -2 }, { sync: true });
      await text(page, `${ship} td.pending`, "5");
      await text(page, `#events tr[data-event="${s.e.name}"] td.messages`, "5");

      // Handled: the backlog empties, the two poison messages become dead letters.
      s.listen();
      await text(page, `${ship} td.pending`, "0");
      await text(page, `${ship} td.in-flight`, "0");
      await text(page, `${ship} td.dead-letters`, "2");
      await rows(page, "#dead-letters tbody tr[data-seq]", 2);
      await text(page, "#dead-count", "2");
      const errors = await page.locator("#dead-letters tbody tr td.wrap:not(.mono)")
        .allTextContents();
      assert.deepEqual(errors.sort(), [
        "UnrecoverableError: negative -1",
        "UnrecoverableError: negative -2",
      ]);
      await text(page, `${ship} td.instances`, "1/1");

      // A long job shows its progress.
      await s.events.emit(s.e, { n: 1000 });
      await rows(page, `#jobs tbody tr[data-actor="ship"]`, 1);
      if (process.env.WALNATS_SCREENSHOT === "1") {
        await text(page, `#events tr[data-event="${s.e.name}"] td.last-seq`, "6");
        mkdirSync(dirname(SCREENSHOT), { recursive: true });
        await page.screenshot({ path: SCREENSHOT, fullPage: true });
      }

      // Read-only: no redrive buttons on the page.
      const other = await browser.newPage();
      await other.goto(readOnly.url);
      await rows(other, "#dead-letters tbody tr[data-seq]", 2);
      assert.equal(await other.locator("#dead-letters button").count(), 0);
      await text(other, "#redrive-mode", "read-only");
      await other.close();

      // Redrive from the page: the messages are handled this time, the dead letters go.
      s.fix();
      await page.click("#redrive-all");
      await text(page, "#notice", "Redriven: 2");
      await text(page, `${ship} td.dead-letters`, "0");
      await rows(page, "#dead-letters tbody tr[data-seq]", 0);
      await text(page, "#dead-count", "0");
      await text(page, `${ship} td.pending`, "0");
    } finally {
      await browser.close();
    }
  },
);
