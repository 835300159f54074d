/**
 * The dashboard's one page: plain HTML, CSS and JavaScript (no build step), filled by the
 * snapshots the server pushes with Server-Sent Events. Everything that comes from the
 * server is put in the page as text (`textContent`), never as HTML: dead letters carry
 * whatever a failing message and its error said.
 *
 * @module
 */

/** The page, served at `/`. */
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>walnats dashboard</title>
<style>
  :root {
    --bg: #f6f7f9; --card: #fff; --ink: #1d2330; --mute: #6b7280; --line: #e5e7eb;
    --ok: #15803d; --bad: #b91c1c; --warn: #b45309; --accent: #2563eb;
  }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--ink); }
  header { display: flex; align-items: center; gap: 16px; padding: 12px 24px; background: #111827; color: #f9fafb; }
  header h1 { font-size: 18px; margin: 0; font-weight: 600; }
  header .meta { color: #9ca3af; font-size: 13px; }
  header .spacer { flex: 1; }
  .pill { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; }
  .pill.ok { background: #dcfce7; color: var(--ok); }
  .pill.bad { background: #fee2e2; color: var(--bad); }
  .pill.warn { background: #fef3c7; color: var(--warn); }
  .pill.off { background: #e5e7eb; color: #374151; }
  main { padding: 16px 24px 40px; display: grid; gap: 16px; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); }
  section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; overflow-x: auto; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: 15px; margin: 0 0 8px; display: flex; gap: 8px; align-items: center; }
  h2 .count { color: var(--mute); font-weight: 400; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; vertical-align: top; }
  th { color: var(--mute); font-weight: 500; font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  td.wrap { white-space: normal; word-break: break-word; max-width: 420px; }
  td.nonzero { font-weight: 600; }
  td.alert { color: var(--bad); font-weight: 600; }
  .empty { color: var(--mute); font-style: italic; padding: 6px 8px; }
  .bar { position: relative; width: 160px; height: 14px; background: #e5e7eb; border-radius: 7px; overflow: hidden; display: inline-block; vertical-align: middle; }
  .bar > span { position: absolute; inset: 0 auto 0 0; background: var(--accent); }
  code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
  button { font: inherit; font-size: 12px; padding: 3px 10px; border-radius: 6px; border: 1px solid var(--accent); background: #fff; color: var(--accent); cursor: pointer; }
  button:hover { background: #eff6ff; }
  button:disabled { opacity: .5; cursor: default; }
  #problems li { color: var(--bad); }
  #notice { min-height: 1.2em; color: var(--mute); margin: 0 0 6px; }
</style>
</head>
<body>
<header>
  <h1>walnats</h1>
  <span class="meta" id="server">connecting…</span>
  <span class="spacer"></span>
  <span id="redrive-mode" class="pill off">read-only</span>
  <span id="health" class="pill off">…</span>
  <span id="live" class="pill off">offline</span>
  <span class="meta" id="updated"></span>
</header>
<main>
  <section class="wide" id="problems-card" hidden>
    <h2>Problems</h2>
    <ul id="problems"></ul>
  </section>
  <section class="wide">
    <h2>Actors <span class="count" id="actors-count"></span></h2>
    <table id="actors">
      <thead><tr>
        <th>Actor</th><th>Event</th><th class="num">Pending</th><th class="num">In flight</th>
        <th class="num">Redelivered</th><th class="num">Handled/s</th><th class="num">Running</th>
        <th class="num">Instances</th><th class="num">Dead letters</th><th>State</th>
      </tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section>
    <h2>Events <span class="count" id="events-count"></span></h2>
    <table id="events">
      <thead><tr>
        <th>Event</th><th class="num">Stored</th><th class="num">Emitted/s</th>
        <th class="num">Last seq</th><th>Last emitted</th>
      </tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section>
    <h2>Instances <span class="count" id="instances-count"></span></h2>
    <table id="instances">
      <thead><tr>
        <th>Host</th><th>Runtime</th><th class="num">Running</th><th>Actors</th><th>Last seen</th><th>State</th>
      </tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section class="wide">
    <h2>Running jobs <span class="count" id="jobs-count"></span></h2>
    <table id="jobs">
      <thead><tr>
        <th>Actor</th><th class="num">Seq</th><th class="num">Attempt</th><th>Running for</th><th>Progress</th>
      </tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section class="wide">
    <h2>Dead letters <span class="count" id="dead-count"></span></h2>
    <p id="notice"></p>
    <table id="dead-letters">
      <thead><tr>
        <th>Actor</th><th>Event</th><th class="num">Seq</th><th>Reason</th><th class="num">Attempts</th>
        <th>Error</th><th>Payload</th><th>Died</th><th></th>
      </tr></thead>
      <tbody></tbody>
    </table>
  </section>
</main>
<script>
"use strict";
let allowRedrive = false;
let jobs = [];

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "onclick") node.addEventListener("click", value);
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function num(value, cls) {
  const n = Number(value) || 0;
  return el("td", { class: "num" + (n > 0 ? " nonzero" : "") + (cls ? " " + cls : "") }, format(n));
}

function format(n) {
  if (!Number.isFinite(n)) return "–";
  if (Number.isInteger(n)) return n.toLocaleString("en-US");
  return n.toFixed(n < 10 ? 1 : 0);
}

function ago(iso) {
  if (!iso) return "–";
  const ms = Date.now() - (typeof iso === "number" ? iso : Date.parse(iso));
  if (!Number.isFinite(ms)) return "–";
  if (ms < 1000) return "now";
  const s = Math.round(ms / 1000);
  if (s < 60) return s + " s ago";
  if (s < 3600) return Math.round(s / 60) + " min ago";
  if (s < 86400) return Math.round(s / 3600) + " h ago";
  return Math.round(s / 86400) + " d ago";
}

function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
  return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
}

function pill(ok, good, bad) {
  return el("span", { class: "pill " + (ok ? "ok" : "bad") }, ok ? good : bad);
}

function fill(id, rows, empty, columns) {
  const body = document.querySelector("#" + id + " tbody");
  body.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { class: "empty", colSpan: columns }, empty))]));
}

function renderSnapshot(s) {
  const st = s.status;
  allowRedrive = s.allowRedrive;
  document.getElementById("server").textContent = "nats-server " + st.server.version + " · " + st.server.name +
    (st.server.cluster ? " · cluster " + st.server.cluster : "");
  const health = document.getElementById("health");
  health.className = "pill " + (st.healthy ? "ok" : "bad");
  health.textContent = st.healthy ? "healthy" : "unhealthy";
  const mode = document.getElementById("redrive-mode");
  mode.className = "pill " + (allowRedrive ? "warn" : "off");
  mode.textContent = allowRedrive ? "redrive enabled" : "read-only";
  document.getElementById("updated").textContent = new Date(st.time).toLocaleTimeString();
  document.getElementById("problems-card").hidden = st.problems.length === 0;
  document.getElementById("problems").replaceChildren(...st.problems.map((p) => el("li", {}, p)));

  const actorRates = (s.rates && s.rates.actors) || {};
  document.getElementById("actors-count").textContent = String(st.actors.length);
  fill("actors", st.actors.map((a) => {
    const r = actorRates[a.event + "/" + a.name];
    const healthyInstances = a.instances.filter((i) => i.healthy).length;
    return el("tr", { "data-actor": a.name, "data-event": a.event },
      el("td", { class: "mono" }, a.name),
      el("td", { class: "mono" }, a.event),
      num(a.pending, "pending"),
      num(a.inFlight, "in-flight"),
      num(a.redelivered, "redelivered"),
      num(r ? r.handled : 0, "rate"),
      num(a.running, "running"),
      el("td", { class: "num instances" }, a.instances.length ? healthyInstances + "/" + a.instances.length : "0"),
      num(a.deadLetters, "dead-letters" + (a.deadLetters > 0 ? " alert" : "")),
      el("td", {}, !a.exists ? pill(false, "", "no consumer") : pill(a.healthy, "ok", "unhealthy")),
    );
  }), "No actors on this server yet.", 10);

  const eventRates = (s.rates && s.rates.events) || {};
  document.getElementById("events-count").textContent = String(st.events.length);
  fill("events", st.events.map((e) => el("tr", { "data-event": e.name },
    el("td", { class: "mono" }, e.name),
    num(e.messages, "messages"),
    num(eventRates[e.name] ? eventRates[e.name].emitted : 0, "rate"),
    num(e.lastSeq, "last-seq"),
    el("td", {}, ago(e.lastTime)),
  )), "No events on this server yet.", 5);

  document.getElementById("instances-count").textContent = String(st.instances.length);
  fill("instances", st.instances.map((i) => el("tr", { "data-instance": i.id },
    el("td", { class: "mono" }, i.host + ":" + i.pid),
    el("td", {}, i.runtime),
    num(i.running, "running"),
    el("td", { class: "wrap mono" }, i.actors.map((a) => a.name).join(", ")),
    el("td", {}, ago(i.lastSeen)),
    el("td", { title: i.problems.join("; ") }, pill(i.healthy, "healthy", "unhealthy")),
  )), "No running listener heard from (heartbeats off, or none runs).", 6);

  const dead = s.deadLetters;
  document.getElementById("dead-count").textContent = String(st.deadLetters);
  fill("dead-letters", dead.map((d) => el("tr", { "data-stream": d.stream, "data-seq": String(d.seq) },
    el("td", { class: "mono" }, d.actor),
    el("td", { class: "mono" }, d.event),
    el("td", { class: "num" }, String(d.seq)),
    el("td", {}, d.reason),
    el("td", { class: "num" }, String(d.attempts)),
    el("td", { class: "wrap" }, d.error),
    el("td", { class: "wrap mono" }, d.preview),
    el("td", { title: d.time }, ago(d.time)),
    el("td", {}, allowRedrive
      ? el("button", { class: "redrive-one", onclick: () => redrive({ actor: d.actor, event: d.event, seq: d.seq }) }, "Redrive")
      : null),
  )), "No dead letters.", 9);
  const header = document.querySelector("#dead-letters thead tr th:last-child");
  header.replaceChildren(allowRedrive && dead.length
    ? el("button", { id: "redrive-all", onclick: () => redrive({}) }, "Redrive all")
    : "");
  renderJobs(s.jobs);
}

function renderJobs(list) {
  jobs = list;
  document.getElementById("jobs-count").textContent = String(list.length);
  fill("jobs", list.map((j) => {
    const p = j.progress;
    const percent = typeof p === "number" && p >= 0 && p <= 100;
    return el("tr", { "data-actor": j.actor, "data-seq": String(j.seq) },
      el("td", { class: "mono" }, j.actor),
      el("td", { class: "num" }, String(j.seq)),
      el("td", { class: "num" }, String(j.attempt)),
      el("td", {}, duration(Date.now() - j.started)),
      el("td", { class: "progress wrap" },
        percent ? el("span", { class: "bar" }, el("span", { style: "width:" + p + "%" })) : null,
        percent ? " " + Math.round(p) + "%" : el("code", {}, JSON.stringify(p))),
    );
  }), "No running job reported progress.", 5);
}

async function redrive(body) {
  const notice = document.getElementById("notice");
  for (const b of document.querySelectorAll("#dead-letters button")) b.disabled = true;
  notice.textContent = "Redriving…";
  try {
    const response = await fetch("api/redrive", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const result = await response.json();
    if (!response.ok) throw new Error(result.error || response.statusText);
    notice.textContent = "Redriven: " + result.redriven + (result.failed.length ? ", failed: " + result.failed.length : "") +
      (result.alsoDeliveredTo.length ? " (also delivered to " + result.alsoDeliveredTo.join(", ") + ")" : "");
  } catch (error) {
    notice.textContent = "Redrive failed: " + error.message;
  } finally {
    for (const b of document.querySelectorAll("#dead-letters button")) b.disabled = false;
  }
}

function connect() {
  const live = document.getElementById("live");
  const source = new EventSource("events");
  source.addEventListener("open", () => { live.className = "pill ok"; live.textContent = "live"; });
  source.addEventListener("error", () => { live.className = "pill bad"; live.textContent = "reconnecting"; });
  source.addEventListener("snapshot", (e) => renderSnapshot(JSON.parse(e.data)));
  source.addEventListener("jobs", (e) => renderJobs(JSON.parse(e.data)));
  source.addEventListener("failure", (e) => {
    const health = document.getElementById("health");
    health.className = "pill bad";
    health.textContent = "status failed: " + JSON.parse(e.data).error;
  });
}
setInterval(() => renderJobs(jobs), 1000);
connect();
</script>
</body>
</html>
`;
