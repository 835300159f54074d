/**
 * Lists the exported symbols of the walnats entry points whose JSDoc has no
 * `@example` (and the entry points without a `@module` doc), and exits with
 * status 1 if there is any.
 *
 * Run it from the repository root: `deno run -A scripts/doc_examples.ts`.
 *
 * @module
 */

const ENTRY_POINTS = [
  "mod.ts",
  "testing.ts",
  "otel.ts",
  "prometheus.ts",
  "admin.ts",
  "cli.ts",
  "lint/plugin.ts",
];

interface JsDoc {
  doc?: string;
  tags?: { kind: string }[];
}

interface Declaration {
  kind: string;
  declarationKind?: string;
  location?: { filename: string; line: number };
  jsDoc?: JsDoc;
}

interface DocOutput {
  nodes: Record<string, {
    module_doc?: JsDoc;
    symbols?: { name: string; declarations: Declaration[] }[];
  }>;
}

const { code, stdout, stderr } = await new Deno.Command("deno", {
  args: ["doc", "--json", ...ENTRY_POINTS],
  stdout: "piped",
  stderr: "piped",
}).output();
if (code !== 0) {
  console.error(new TextDecoder().decode(stderr));
  Deno.exit(code);
}

const output: DocOutput = JSON.parse(new TextDecoder().decode(stdout));
const root = new URL("../", import.meta.url).href;
const relative = (filename: string) =>
  filename.startsWith(root) ? filename.slice(root.length) : filename;
const hasTag = (doc: JsDoc | undefined, kind: string) =>
  doc?.tags?.some((tag) => tag.kind === kind) ?? false;

const problems: string[] = [];
let total = 0;
for (const [file, node] of Object.entries(output.nodes)) {
  const entry = relative(file);
  if (!hasTag(node.module_doc, "module")) problems.push(`${entry}: no @module doc`);
  for (const symbol of node.symbols ?? []) {
    total++;
    // A symbol counts as documented when one of its declarations (a class and its
    // namespace, a const and its type, overloads) has an example.
    if (symbol.declarations.some((declaration) => hasTag(declaration.jsDoc, "example"))) continue;
    const [first] = symbol.declarations;
    const where = first?.location
      ? `${relative(first.location.filename)}:${first.location.line}`
      : "";
    problems.push(`${entry}: ${first?.kind ?? "?"} ${symbol.name} has no @example (${where})`);
  }
}

for (const problem of problems) console.log(problem);
const lacking = problems.filter((problem) => problem.includes("@example")).length;
console.log(
  `${
    total - lacking
  } of ${total} exported symbols have an @example; ${problems.length} problem(s).`,
);
if (problems.length > 0) Deno.exit(1);
