/**
 * A CPU profile of a Deno script through the V8 inspector (Deno has no `--cpu-prof`): starts
 * `SCRIPT` (default `bench/_profile_listen.ts`) under `--inspect-wait`, profiles it until it
 * prints "handled", writes the `.cpuprofile` (readable by Chrome's DevTools) and prints the
 * functions with the most self time. The script must stay alive a moment after that line:
 * `_profile_listen.ts` does with `HOLD` (set here).
 *
 *     bash bench/profile_listen.sh deno run -A bench/_inspect_profile.ts /tmp/w.cpuprofile
 *     RAW=2000 bash bench/profile_listen.sh deno run -A bench/_inspect_profile.ts /tmp/r.cpuprofile
 *
 * (profile_listen.sh appends the script path as a last argument, which is ignored here.)
 *
 * @module
 */
interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
const out = Deno.args[0] ?? "listen.cpuprofile";
const script = Deno.env.get("SCRIPT") ?? new URL("./_profile_listen.ts", import.meta.url).pathname;
const port = 9300 + Math.floor(Math.random() * 500);
const child = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", `--inspect-wait=127.0.0.1:${port}`, script],
  env: { HOLD: "1500" },
  stdout: "piped",
  stderr: "null",
}).spawn();
let targets: { webSocketDebuggerUrl: string }[] = [];
for (let i = 0; i < 100 && targets.length === 0; i++) {
  try {
    targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  } catch {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
if (targets.length === 0) throw new Error(`no inspector on port ${port}`);
const ws = new WebSocket(targets[0]!.webSocketDebuggerUrl);
await new Promise((resolve) => ws.onopen = resolve);
let id = 0;
const waiting = new Map<number, (result: unknown) => void>();
ws.onmessage = (e) => {
  const m = JSON.parse(e.data);
  waiting.get(m.id)?.(m.result);
  waiting.delete(m.id);
};
const send = (method: string, params = {}) =>
  new Promise<unknown>((resolve) => {
    waiting.set(++id, resolve);
    ws.send(JSON.stringify({ id, method, params }));
  });
await send("Profiler.enable");
await send("Profiler.setSamplingInterval", { interval: 200 });
void send("Runtime.runIfWaitingForDebugger");
await send("Profiler.start");
let text = "";
const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
while (!text.includes("handled")) {
  const { value, done } = await reader.read();
  if (done) break;
  text += value;
}
console.log(text.trim());
const { profile } = await send("Profiler.stop") as {
  profile: { nodes: Node[]; samples: number[] };
};
Deno.writeTextFileSync(out, JSON.stringify(profile));
ws.close();
await reader.cancel();
await child.status;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<string, number>();
for (const sample of profile.samples) {
  const { functionName, url, lineNumber } = byId.get(sample)!.callFrame;
  const where = url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*?\/(src|bench)\//, "$1/");
  const key = `${functionName || "(anonymous)"} ${where}:${lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + 1);
}
const total = profile.samples.length;
console.log(`${out}: ${total} samples of 0.2 ms; the 30 functions with the most self time:`);
for (const [key, count] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
  console.log(`${(100 * count / total).toFixed(1).padStart(5)} %  ${key}`);
}
