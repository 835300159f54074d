/**
 * Lists the import cycles among the modules under src/ (type-only imports count: they tie
 * the modules together for a reader as much as value imports do), from `deno info --json`,
 * and exits with status 1 if there is any.
 *
 * Run it from the repository root: `deno run -A scripts/import_cycles.ts`.
 *
 * @module
 */

interface Dependency {
  code?: { specifier?: string };
  type?: { specifier?: string };
}

interface ModuleInfo {
  specifier: string;
  dependencies?: Dependency[];
}

const root = new URL("../", import.meta.url);
const src = new URL("src/", root).href;

function srcFiles(dir: URL): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) out.push(...srcFiles(url));
    else if (entry.name.endsWith(".ts")) out.push(url.href);
  }
  return out;
}

/** Module → the src/ modules it imports. */
const graph = new Map<string, Set<string>>();
for (const file of srcFiles(new URL(src))) {
  if (graph.has(file)) continue; // already reached from an earlier root
  const output = new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", file],
    cwd: new URL(root).pathname,
  }).outputSync();
  if (!output.success) {
    console.error(new TextDecoder().decode(output.stderr));
    Deno.exit(2);
  }
  const info = JSON.parse(new TextDecoder().decode(output.stdout)) as { modules: ModuleInfo[] };
  for (const m of info.modules) {
    if (!m.specifier.startsWith(src)) continue;
    const deps = graph.get(m.specifier) ?? new Set<string>();
    for (const d of m.dependencies ?? []) {
      for (const s of [d.code?.specifier, d.type?.specifier]) {
        if (s?.startsWith(src)) deps.add(s);
      }
    }
    graph.set(m.specifier, deps);
  }
}

// Tarjan's strongly connected components: each one with more than a module is a cycle.
let next = 0;
const index = new Map<string, number>();
const low = new Map<string, number>();
const stack: string[] = [];
const onStack = new Set<string>();
const cycles: string[][] = [];
function visit(v: string): void {
  index.set(v, next);
  low.set(v, next);
  next++;
  stack.push(v);
  onStack.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!index.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v)!, low.get(w)!));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
  }
  if (low.get(v) !== index.get(v)) return;
  const component: string[] = [];
  let w: string;
  do {
    w = stack.pop()!;
    onStack.delete(w);
    component.push(w);
  } while (w !== v);
  if (component.length > 1 || graph.get(v)?.has(v)) cycles.push(component);
}
for (const v of graph.keys()) if (!index.has(v)) visit(v);

const short = (s: string): string => s.slice(root.href.length);
for (const component of cycles) {
  const members = new Set(component);
  console.log(`cycle: ${component.map(short).sort().join(", ")}`);
  for (const v of component) {
    for (const w of graph.get(v)!) if (members.has(w)) console.log(`  ${short(v)} → ${short(w)}`);
  }
}
console.log(`${graph.size} modules under src/, ${cycles.length} import cycle(s)`);
if (cycles.length) Deno.exit(1);
