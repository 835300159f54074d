import { test } from "node:test";
import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "../src/connection.ts";
import { firstExecutable } from "../src/testing/nats_server.ts";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  findNatsServer,
  NatsServerNotFoundError,
  startNatsCluster,
  startNatsServer,
} from "../testing.ts";

/** Running or stopped, but not exited (a zombie awaiting its parent's wait is gone). */
function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2] !== "Z";
  } catch {
    return false;
  }
}

test("startNatsServer starts a JetStream server that accepts connections", async () => {
  await using server = await startNatsServer();
  assert.match(server.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
  const nc = await connect(server.url);
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.getAccountInfo();
    assert.equal(typeof info.streams, "number");
  } finally {
    await nc.close();
  }
});

test("startNatsServer stop ends the process and dispose removes the store", async () => {
  const server = await startNatsServer();
  const pid = server.pid;
  assert.ok(alive(pid));
  await server.stop();
  assert.equal(alive(pid), false);
  assert.equal(server.pid, undefined);
  await server[Symbol.asyncDispose]();
  assert.equal(existsSync(server.dir), false);
});

test("startNatsServer restart keeps port and JetStream store", async () => {
  await using server = await startNatsServer();
  const port = server.port;
  let nc = await connect(server.url);
  let jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "kept", subjects: ["kept"] });
  await nc.close();
  await server.restart();
  assert.equal(server.port, port);
  nc = await connect(server.url);
  jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info("kept");
  assert.equal(info.config.name, "kept");
  await nc.close();
});

test("startNatsServer kill ends the process with SIGKILL and restart brings it back", async () => {
  await using server = await startNatsServer();
  const pid = server.pid;
  await server.kill();
  assert.equal(alive(pid), false);
  await server.restart();
  assert.ok(alive(server.pid));
  assert.notEqual(server.pid, pid);
});

test("startNatsServer runs two servers at once on different ports", async () => {
  await using a = await startNatsServer();
  await using b = await startNatsServer();
  assert.notEqual(a.port, b.port);
  const [na, nb] = await Promise.all([connect(a.url), connect(b.url)]);
  assert.notEqual(na.info?.server_id, nb.info?.server_id);
  await Promise.all([na.close(), nb.close()]);
});

test("startNatsCluster forms a 3-node cluster that accepts an R3 stream", async () => {
  await using cluster = await startNatsCluster(3);
  assert.equal(cluster.urls.length, 3);
  const nc = await connect([...cluster.urls]);
  try {
    // The meta leader is elected shortly after the servers are up.
    let info;
    for (let i = 0; i < 100 && !info; i++) {
      try {
        const jsm = await jetstreamManager(nc, { timeout: 1000 });
        info = await jsm.streams.add({ name: "r3", subjects: ["r3"], num_replicas: 3 });
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    assert.ok(info, "the cluster never accepted the R3 stream");
    assert.equal(info.config.num_replicas, 3);
    assert.equal(info.cluster?.replicas?.length, 2);
  } finally {
    await nc.close();
  }
});

test("findNatsServer names the install commands when no binary is found", () => {
  assert.throws(
    () => firstExecutable(["/nonexistent/nats-server", "/also/missing/nats-server"]),
    (error: unknown) => {
      assert.ok(error instanceof NatsServerNotFoundError);
      assert.match(error.message, /\/nonexistent\/nats-server/);
      assert.match(error.message, /apt-get install nats-server/);
      assert.match(error.message, /brew install nats-server/);
      assert.match(error.message, /NATS_SERVER_BIN/);
      return true;
    },
  );
  // Not the caller's environment: NATS_SERVER_BIN may name any file (issue 20).
  assert.throws(
    () => findNatsServer({ env: { PATH: "", NATS_SERVER_BIN: "/nonexistent/nats-server" } }),
    /\/nonexistent\/nats-server/,
  );
});

/** A fake server cache: executable files named like the releases. */
function fakeCache(releases: string[], current: string): string {
  const root = mkdtempSync(join(tmpdir(), "walnats-cache-"));
  for (const release of releases) {
    mkdirSync(join(root, "nats-server", release), { recursive: true });
    writeFileSync(join(root, "nats-server", release, "nats-server"), "#!/bin/sh\n", {
      mode: 0o755,
    });
  }
  symlinkSync(current, join(root, "nats-server", "current"));
  return root;
}

test("findNatsServer picks a release from the server cache, newest patch of a line", () => {
  const root = fakeCache(["2.9.10", "2.10.2", "2.10.27", "2.15.1"], "2.15.1");
  try {
    const env = { WALNATS_CACHE_DIR: root, PATH: "" };
    const bin = (release: string) => join(root, "nats-server", release, "nats-server");
    assert.equal(findNatsServer({ version: "2.9", env }), bin("2.9.10"));
    assert.equal(findNatsServer({ version: "2.10", env }), bin("2.10.27"));
    assert.equal(findNatsServer({ version: "2.10.2", env }), bin("2.10.2"));
    assert.equal(findNatsServer({ version: "current", env }), bin("2.15.1"));
    // The environment variable of the CI legs, and the precedence around it.
    const legEnv = { ...env, WALNATS_NATS_SERVER_VERSION: "2.10" };
    assert.equal(findNatsServer({ env: legEnv }), bin("2.10.27"));
    assert.equal(
      findNatsServer({ env: { ...legEnv, NATS_SERVER_BIN: bin("2.9.10") } }),
      bin("2.9.10"),
    );
    assert.equal(findNatsServer({ version: "2.15", env: legEnv }), bin("2.15.1"));
    assert.equal(findNatsServer({ binary: bin("2.9.10"), version: "2.15", env }), bin("2.9.10"));
    assert.throws(
      () => findNatsServer({ version: "2.11", env }),
      (error: unknown) =>
        error instanceof NatsServerNotFoundError && /nats-server 2\.11/.test(error.message) &&
        /scripts\/_servers\.sh/.test(error.message) && /NATS_SERVER_BIN/.test(error.message),
    );
    assert.throws(() => findNatsServer({ version: "latest", env }), RangeError);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

for (const version of ["2.9", "2.10", "current"]) {
  let binary: string | undefined;
  try {
    binary = findNatsServer({ version });
  } catch {
    binary = undefined;
  }
  test(`startNatsServer({ version: "${version}" }) runs that release`, {
    skip: binary ? false : `nats-server ${version} is not cached: run bash scripts/_servers.sh`,
  }, async () => {
    await using server = await startNatsServer({ version });
    const wanted = version === "current" ? binary!.split("/").at(-2)! : version;
    assert.ok(
      server.version === wanted || server.version.startsWith(`${wanted}.`),
      `asked ${version}, got ${server.version}`,
    );
  });
}

test("startNatsServer leaves no nats-server process behind after dispose", async () => {
  let pids: (number | undefined)[];
  {
    await using a = await startNatsServer();
    await using cluster = await startNatsCluster(2);
    pids = [a.pid, ...cluster.servers.map((s) => s.pid)];
    assert.ok(pids.every(alive));
  }
  assert.ok(pids.every((pid) => !alive(pid)));
});
