// The docs' code samples are type-checked because each one is a file under examples/
// (`deno check examples/`): a ```ts block in docs/*.md starts with a marker line naming
// its file, `// file: examples/docs/actors.ts`, or a region of it,
// `// file: examples/docs/actors.ts#options` (the lines between `// #region options` and
// `// #endregion options`), and must equal that text, region marker lines left out.
//
// After editing a sample file, refresh the blocks that show it:
//   WALNATS_DOCS_UPDATE=1 deno test -A tests/docs_test.ts
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const docsDir = join(root, "docs");
const update = process.env.WALNATS_DOCS_UPDATE === "1";
/** Linked from the docs, written by another change; checked once they exist. */
const pending = new Set(["RELIABILITY.md"]);

const CODE_LANGS = new Set(["ts", "typescript", "tsx", "js", "javascript", "jsx", "mts"]);
const MARKER = /^\/\/ file: (examples\/[^\s#]+\.ts)(?:#([\w-]+))?$/;
const MERMAID_MARKER = /^%% walnats mermaid (examples\/[^\s]+\.ts)$/;
const REGION = /^\s*\/\/ #(?:end)?region\b/;

interface Block {
  /** The info string's first word, e.g. `ts`. */
  readonly lang: string;
  /** Line index of the opening fence. */
  readonly open: number;
  /** Line index of the closing fence. */
  readonly close: number;
  /** The indentation of the fence, removed from the lines. */
  readonly indent: string;
  readonly lines: readonly string[];
}

function docPages(): string[] {
  return readdirSync(docsDir).filter((name) => name.endsWith(".md")).sort();
}

function codeBlocks(lines: readonly string[]): Block[] {
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i]!.match(/^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/);
    if (!open) continue;
    // The three groups always take part in a match (possibly empty).
    const [, indent = "", fence = "```", lang = ""] = open;
    let close = i + 1;
    while (
      close < lines.length &&
      !(lines[close]!.trim().startsWith(fence) &&
        lines[close]!.trim().replaceAll(fence.charAt(0), "") === "")
    ) close++;
    blocks.push({
      lang: lang.toLowerCase(),
      open: i,
      close,
      indent,
      lines: lines.slice(i + 1, close).map((line) =>
        line.startsWith(indent) ? line.slice(indent.length) : line
      ),
    });
    i = close;
  }
  return blocks;
}

/** The sample's text as the docs show it: the file or one region, without region markers. */
function sample(path: string, region: string | undefined): string[] {
  const file = join(root, path);
  if (!existsSync(file)) throw new Error(`${path} does not exist`);
  let lines = readFileSync(file, "utf8").replace(/\n+$/, "").split("\n");
  if (region !== undefined) {
    const start = lines.findIndex((line) => line.trim() === `// #region ${region}`);
    if (start < 0) throw new Error(`${path} has no "// #region ${region}"`);
    const end = lines.findIndex((line, i) =>
      i > start && (line.trim() === `// #endregion ${region}` || line.trim() === "// #endregion")
    );
    if (end < 0) throw new Error(`${path}: region "${region}" has no "// #endregion"`);
    lines = lines.slice(start + 1, end);
  }
  return lines.filter((line) => !REGION.test(line));
}

/** The problems of one page's code blocks; with `update`, the page rewritten to fix them. */
function checkPage(name: string): { problems: string[]; fixed: string } {
  const text = readFileSync(join(docsDir, name), "utf8");
  const lines = text.split("\n");
  const problems: string[] = [];
  const replacements: { block: Block; lines: string[] }[] = [];
  for (const block of codeBlocks(lines)) {
    const where = `docs/${name}:${block.open + 1}`;
    if (!CODE_LANGS.has(block.lang)) continue;
    const marker = block.lines[0]?.match(MARKER);
    if (!marker) {
      problems.push(
        `${where}: a \`\`\`${block.lang} block must start with "// file: examples/….ts" ` +
          "(every sample is a type-checked file)",
      );
      continue;
    }
    let expected: string[];
    try {
      expected = sample(marker[1]!, marker[2]);
    } catch (error) {
      problems.push(`${where}: ${(error as Error).message}`);
      continue;
    }
    const shown = block.lines.slice(1);
    if (shown.join("\n") !== expected.join("\n")) {
      const at = shown.findIndex((line, i) => line !== expected[i]);
      const line = at < 0 ? Math.min(shown.length, expected.length) : at;
      problems.push(
        `${where}: differs from ${marker[0].slice(9)} at its line ${line + 1}: ` +
          `docs ${JSON.stringify(shown[line] ?? "(end)")}, file ${
            JSON.stringify(expected[line] ?? "(end)")
          }`,
      );
      replacements.push({ block, lines: [block.lines[0]!, ...expected] });
    }
  }
  const out = [...lines];
  for (const { block, lines: body } of replacements.toReversed()) {
    out.splice(block.open + 1, block.close - block.open - 1, ...body.map((l) => block.indent + l));
  }
  return { problems, fixed: out.join("\n") };
}

for (const name of docPages()) {
  test(`docs/${name} shows its code samples as the files under examples/ hold them`, () => {
    const { problems, fixed } = checkPage(name);
    if (update && problems.length) {
      writeFileSync(join(docsDir, name), fixed);
      const left = checkPage(name).problems;
      assert.deepEqual(left, [], "left after the update");
      return;
    }
    assert.deepEqual(problems, [], "set WALNATS_DOCS_UPDATE=1 to copy the files into the docs");
  });
}

test("every sample under examples/docs is shown in the docs", () => {
  const shown = new Set<string>();
  for (const name of docPages()) {
    const lines = readFileSync(join(docsDir, name), "utf8").split("\n");
    for (const block of codeBlocks(lines)) {
      const marker = block.lines[0]?.match(MARKER) ?? block.lines[0]?.match(MERMAID_MARKER);
      if (marker) shown.add(marker[1]!);
    }
  }
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith(".ts")) files.push(relative(root, path).replaceAll("\\", "/"));
    }
  };
  walk(join(root, "examples", "docs"));
  assert.deepEqual(files.filter((file) => !shown.has(file)).sort(), []);
});

test("docs draw the diagrams the services modules they name draw", async () => {
  let checked = 0;
  const problems: string[] = [];
  for (const name of docPages()) {
    const lines = readFileSync(join(docsDir, name), "utf8").split("\n");
    const out = [...lines];
    for (const block of codeBlocks(lines).toReversed()) {
      const marker = block.lang === "mermaid" && block.lines[0]?.match(MERMAID_MARKER);
      if (!marker) continue;
      const module = await import(pathToFileURL(join(root, marker[1]!)).href);
      const drawn = (module.services.mermaid() as string).replace(/\n$/, "").split("\n");
      checked++;
      if (block.lines.slice(1).join("\n") === drawn.join("\n")) continue;
      problems.push(`docs/${name}:${block.open + 1}: not the diagram ${marker[1]} draws`);
      out.splice(
        block.open + 2,
        block.close - block.open - 2,
        ...drawn.map((l) => block.indent + l),
      );
    }
    if (update && out.join("\n") !== lines.join("\n")) {
      writeFileSync(join(docsDir, name), out.join("\n"));
    }
  }
  assert.ok(checked > 0, "no diagram checked");
  if (!update) {
    assert.deepEqual(problems, [], "set WALNATS_DOCS_UPDATE=1 to redraw them");
  }
});

/** GitHub's heading anchors: lowercase, punctuation dropped, spaces to dashes. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const lines = markdown.split("\n");
  const inCode = new Set<number>();
  for (const block of codeBlocks(lines)) {
    for (let i = block.open; i <= block.close; i++) inCode.add(i);
  }
  lines.forEach((line, i) => {
    const heading = !inCode.has(i) && line.match(/^#{1,6}\s+(.*?)\s*#*\s*$/);
    if (!heading) return;
    const base = heading[1]!.toLowerCase().replace(/`/g, "").replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .trim().replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  });
  return out;
}

test("docs, README and ARCHITECTURE link only to files and headings that exist", () => {
  const pages = [
    ...docPages().map((name) => join(docsDir, name)),
    join(root, "README.md"),
    join(root, "ARCHITECTURE.md"),
  ];
  const problems: string[] = [];
  for (const page of pages) {
    const text = readFileSync(page, "utf8");
    const lines = text.split("\n");
    const inCode = new Set<number>();
    for (const block of codeBlocks(lines)) {
      for (let i = block.open; i <= block.close; i++) inCode.add(i);
    }
    lines.forEach((line, i) => {
      if (inCode.has(i)) return;
      for (const [, target = ""] of line.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
        const [path = "", anchor] = target.split("#");
        const file = path === "" ? page : resolve(dirname(page), path);
        const where = `${relative(root, page)}:${i + 1}`;
        if (!existsSync(file)) {
          if (!pending.has(relative(root, file))) problems.push(`${where}: no file ${target}`);
          continue;
        }
        if (anchor && file.endsWith(".md") && !anchors(readFileSync(file, "utf8")).has(anchor)) {
          problems.push(`${where}: no heading #${anchor} in ${relative(root, file)}`);
        }
      }
    });
  }
  assert.deepEqual(problems, []);
});
