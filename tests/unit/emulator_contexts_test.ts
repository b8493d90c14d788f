// API 1.2 through emulator.handle: contexts and commands on real python3 processes, the cluster's driver
// taking its contexts with it, the context limit with LRU eviction, faults and the control API.

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { type CallResult, EMULATOR_ORIGIN, type TestEmulator, testEmulator } from "../helpers/emulator.ts";

const ANALYTICS = "analytics-shared-ml";
const CONTEXT_ID = /^[1-8]\d{18}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TERMINAL = ["Finished", "Cancelled", "Error"];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `done` holds (real time: the python processes do not follow the injected clock). */
async function until(
  poll: () => Promise<CallResult>,
  done: (r: CallResult) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<CallResult> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await poll();
    if (done(r)) return r;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last answer ${r.status} ${r.text}`);
    await sleep(10);
  }
}

async function create(te: TestEmulator, clusterId: string, language = "python"): Promise<string> {
  const r = await te.post("/api/1.2/contexts/create", { clusterId, language });
  assertEquals(r.status, 200, r.text);
  return r.body.id;
}

const contextStatus = (te: TestEmulator, clusterId: string, contextId: string) =>
  te.get(`/api/1.2/contexts/status?clusterId=${clusterId}&contextId=${contextId}`);

const waitRunning = (te: TestEmulator, clusterId: string, contextId: string) =>
  until(() => contextStatus(te, clusterId, contextId), (r) => r.body?.status !== "Pending", "Running");

async function execute(
  te: TestEmulator,
  clusterId: string,
  contextId: string,
  command: string,
  language = "python",
): Promise<string> {
  const r = await te.post("/api/1.2/commands/execute", { clusterId, contextId, language, command });
  assertEquals(r.status, 200, r.text);
  assertMatch(r.body.id, UUID);
  return r.body.id;
}

const commandStatus = (te: TestEmulator, clusterId: string, contextId: string, commandId: string) =>
  te.get(`/api/1.2/commands/status?clusterId=${clusterId}&contextId=${contextId}&commandId=${commandId}`);

async function run(
  te: TestEmulator,
  clusterId: string,
  contextId: string,
  command: string,
  language = "python",
) {
  const id = await execute(te, clusterId, contextId, command, language);
  const r = await until(
    () => commandStatus(te, clusterId, contextId, id),
    (r) => TERMINAL.includes(r.body?.status),
    command,
  );
  return r.body;
}

async function text(
  te: TestEmulator,
  clusterId: string,
  contextId: string,
  command: string,
): Promise<string> {
  const body = await run(te, clusterId, contextId, command);
  assertEquals(body.status, "Finished");
  assertEquals(body.results?.resultType, "text", JSON.stringify(body));
  return body.results.data;
}

function assertContextNotFound(r: CallResult, contextId: string) {
  assertEquals(r.status, 500, r.text);
  assertEquals(Object.keys(r.body), ["error"]);
  assert(r.body.error.startsWith("ContextNotFound: "), r.body.error);
  assertStringIncludes(r.body.error, contextId);
}

/** Any process of the group that is not a zombie. */
function processGroupAlive(pgid: number): boolean {
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(pgrp) === pgid && state !== "Z") return true;
    } catch { /* exited meanwhile */ }
  }
  return false;
}

async function waitGone(pid: number): Promise<void> {
  const end = Date.now() + 10_000;
  while (processGroupAlive(pid)) {
    if (Date.now() > end) throw new Error(`process group ${pid} still alive`);
    await sleep(20);
  }
}

const info = (te: TestEmulator, id: string) => te.emu.control.contexts().contexts.find((c) => c.id === id);
const gone = (te: TestEmulator, id: string) => te.emu.control.contexts().gone.find((c) => c.id === id);

Deno.test("a context: Pending then Running, commands with text, error and table results, globals, destroy", async (t) => {
  await using te = testEmulator();
  const cluster = await te.clusterId(ANALYTICS);
  const ctx = await create(te, cluster);
  assertMatch(ctx, CONTEXT_ID);

  await t.step("Pending until the python host is ready, then Running", async () => {
    assertEquals((await contextStatus(te, cluster, ctx)).body, { id: ctx, status: "Pending" });
    assertEquals((await waitRunning(te, cluster, ctx)).body, { id: ctx, status: "Running" });
  });

  await t.step("a command goes Queued/Running without results, then Finished with its text", async () => {
    const id = await execute(te, cluster, ctx, "import time\ntime.sleep(0.2)\nprint('hello')");
    const first = await commandStatus(te, cluster, ctx, id);
    assert(["Queued", "Running"].includes(first.body.status), first.text);
    assertEquals(Object.keys(first.body).sort(), ["id", "status"], "no results while it runs");
    const done = await until(
      () => commandStatus(te, cluster, ctx, id),
      (r) => r.body.status === "Finished",
      "done",
    );
    assertEquals(done.body, { id, status: "Finished", results: { resultType: "text", data: "hello" } });
  });

  await t.step("globals persist between commands", async () => {
    assertEquals(await text(te, cluster, ctx, "x = 41"), "");
    assertEquals(await text(te, cluster, ctx, "print(x + 1)"), "42");
  });

  await t.step("an exception is Finished with an error result, not status Error", async () => {
    const body = await run(te, cluster, ctx, "print('lost')\n1 / 0");
    assertEquals(body.status, "Finished");
    assertEquals(body.results.resultType, "error");
    assertEquals(
      body.results.summary,
      "<span class='ansi-red-fg'>ZeroDivisionError</span>: division by zero",
    );
    assertStringIncludes(body.results.cause, "ZeroDivisionError");
  });

  await t.step("SQL gives a table result", async () => {
    await run(
      te,
      cluster,
      ctx,
      "CREATE TABLE t (id INTEGER, name TEXT); INSERT INTO t VALUES (1, 'a');",
      "sql",
    );
    const body = await run(te, cluster, ctx, "SELECT id, name FROM t", "sql");
    assertEquals(body.results, {
      resultType: "table",
      data: [[1, "a"]],
      schema: [
        { name: "id", type: '"long"', metadata: "{}" },
        { name: "name", type: '"string"', metadata: "{}" },
      ],
      truncated: false,
      isJsonSchema: true,
    });
  });

  await t.step(
    "the notebook context: the emulator's URL, a per-context token, the bare host, its own CWD",
    async () => {
      const entry = info(te, ctx)!;
      assertEquals(entry.cluster_id, cluster);
      assertEquals(entry.status, "Running");
      assertMatch(entry.api_token, /^dapi[0-9a-f]{32}$/);
      assert(entry.api_token !== te.emu.token, "not the user's PAT");
      const nb = "dbutils.notebook.entry_point.getDbutils().notebook().getContext()";
      assertEquals(
        await text(te, cluster, ctx, `print(${nb}.apiUrl().get())\nprint(${nb}.apiToken().get())`),
        `${EMULATOR_ORIGIN}\n${entry.api_token}`,
      );
      assertEquals(
        await text(te, cluster, ctx, "print(spark.conf.get('spark.databricks.workspaceUrl'))"),
        new URL(EMULATOR_ORIGIN).host,
      );
      assertEquals(
        await text(te, cluster, ctx, "print(spark.conf.get('spark.databricks.clusterUsageTags.clusterId'))"),
        cluster,
      );
      assertEquals(
        await text(te, cluster, ctx, "import os\nprint(os.getcwd())"),
        await Deno.realPath(entry.cwd),
      );
      // The token is accepted by the API as the user who created the context, and recorded as its own.
      const me = await te.get("/api/2.0/preview/scim/v2/Me", { token: entry.api_token });
      assertEquals([me.status, me.body.userName], [200, "dbxr-dev@example.com"]);
      assertEquals(info(te, ctx)!.api_token_uses, 1);
      assertEquals(te.emu.control.requests().at(-1)!.auth, `context:${ctx}`);
      assertEquals(te.emu.control.requests().at(-2)!.auth, "pat");
    },
  );

  await t.step("an unknown command id on a live context is a 1.2 error", async () => {
    const r = await commandStatus(te, cluster, ctx, "00000000-0000-4000-8000-000000000000");
    assertEquals(r.status, 500);
    assert(r.body.error.startsWith("CommandNotFound: "), r.text);
  });

  await t.step("destroy answers its id; afterwards the id is ContextNotFound (500) everywhere", async () => {
    const { pid, api_token: token, cwd } = info(te, ctx)!;
    const id = await execute(te, cluster, ctx, "print(1)");
    const r = await te.post("/api/1.2/contexts/destroy", { clusterId: cluster, contextId: ctx });
    assertEquals([r.status, r.body], [200, { id: ctx }]);
    assertContextNotFound(await contextStatus(te, cluster, ctx), ctx);
    assertContextNotFound(await commandStatus(te, cluster, ctx, id), ctx);
    assertContextNotFound(
      await te.post("/api/1.2/commands/execute", {
        clusterId: cluster,
        contextId: ctx,
        language: "python",
        command: "1",
      }),
      ctx,
    );
    const again = await te.post("/api/1.2/contexts/destroy", { clusterId: cluster, contextId: ctx });
    assertContextNotFound(again, ctx);
    assertStringIncludes(again.body.error, "it was destroyed");
    assertEquals(gone(te, ctx)?.reason, "destroyed");
    assertEquals(
      (await te.get("/api/2.0/preview/scim/v2/Me", { token })).status,
      403,
      "the token went with it",
    );
    await waitGone(pid!);
    await te.emu.close();
    assert(!(await exists(cwd)), "its directory is removed");
  });
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("cancel: Cancelled by default, or Finished with CommandCancelledException", async () => {
  await using te = testEmulator();
  const cluster = await te.clusterId(ANALYTICS);
  const ctx = await create(te, cluster);
  await waitRunning(te, cluster, ctx);

  const runningSleep = async () => {
    const id = await execute(te, cluster, ctx, "import time\ntime.sleep(30)");
    await until(() => commandStatus(te, cluster, ctx, id), (r) => r.body.status === "Running", "Running");
    assertEquals(info(te, ctx)!.running_command?.id, id);
    const r = await te.post("/api/1.2/commands/cancel", {
      clusterId: cluster,
      contextId: ctx,
      commandId: id,
    });
    assertEquals([r.status, r.body], [200, { id }]);
    return (await until(
      () => commandStatus(te, cluster, ctx, id),
      (r) => TERMINAL.includes(r.body.status),
      "cancel",
    ))
      .body;
  };

  const t0 = Date.now();
  const a = await runningSleep();
  assertEquals(Object.keys(a).sort(), ["id", "status"]);
  assertEquals(a.status, "Cancelled");

  const set = await te.call("POST", "/__emulator/cancel-outcome", {
    body: { outcome: "FinishedWithCancelledException" },
  });
  assertEquals(set.body, { outcome: "FinishedWithCancelledException" });
  assertEquals((await te.get("/__emulator/cancel-outcome")).body, set.body);
  const b = await runningSleep();
  assertEquals(b.status, "Finished");
  assertEquals(b.results.resultType, "error");
  assertStringIncludes(b.results.cause, "com.databricks.backend.common.rpc.CommandCancelledException");
  assert(Date.now() - t0 < 10_000, "cancel interrupts the sleep");

  te.emu.control.setCancelOutcome("Cancelled");
  assertEquals(te.emu.control.contexts().cancel_outcome, "Cancelled");
  const bad = await te.call("POST", "/__emulator/cancel-outcome", { body: { outcome: "Nope" } });
  assertEquals(bad.status, 400);
  const unknown = await te.post("/api/1.2/commands/cancel", {
    clusterId: cluster,
    contextId: ctx,
    commandId: "00000000-0000-4000-8000-000000000000",
  });
  assertEquals(unknown.status, 500);
  assert(unknown.body.error.startsWith("CommandNotFound: "));
  assertEquals(await text(te, cluster, ctx, "print('still usable')"), "still usable");
});

Deno.test("a cluster leaving RUNNING loses every context; create then answers ClusterNotReadyException", async (t) => {
  await using te = testEmulator();
  const cluster = await te.clusterId(ANALYTICS);

  await t.step(
    "terminate: the running command ends with CommandCancelledException, the process dies",
    async () => {
      const ctx = await create(te, cluster);
      const idle = await create(te, cluster);
      await waitRunning(te, cluster, ctx);
      const cmd = await execute(te, cluster, ctx, "import time\ntime.sleep(30)");
      await until(() => commandStatus(te, cluster, ctx, cmd), (r) => r.body.status === "Running", "Running");
      const pid = info(te, ctx)!.pid!;
      assertEquals((await te.post("/api/2.1/clusters/delete", { cluster_id: cluster })).status, 200);
      assertContextNotFound(await commandStatus(te, cluster, ctx, cmd), ctx);
      assertContextNotFound(await contextStatus(te, cluster, ctx), ctx);
      assertContextNotFound(await contextStatus(te, cluster, idle), idle);
      const lost = gone(te, ctx)!;
      assertEquals(lost.reason, "cluster_stopped");
      assertEquals(lost.interrupted_commands.length, 1);
      assertEquals(lost.interrupted_commands[0].status, "Finished");
      assertStringIncludes(
        JSON.stringify(lost.interrupted_commands[0].results),
        "com.databricks.backend.common.rpc.CommandCancelledException",
      );
      assertEquals(te.emu.control.contexts().contexts, []);
      await waitGone(pid);

      const r = await te.post("/api/1.2/contexts/create", { clusterId: cluster, language: "python" });
      assertEquals(r.status, 500);
      assertEquals(r.body, {
        error:
          `ClusterNotReadyException: Cluster ${cluster} is not ready to run commands (state TERMINATING).`,
      });
    },
  );

  await t.step("restart: contexts made before it are gone, new ones work once RUNNING again", async () => {
    const team = await te.clusterId("team-shared");
    const before = await create(te, team);
    assertEquals((await te.post("/api/2.1/clusters/restart", { cluster_id: team })).status, 200);
    assertContextNotFound(await contextStatus(te, team, before), before);
    assertStringIncludes((await contextStatus(te, team, before)).body.error, "driver stopped");
    assertEquals(
      (await te.post("/api/1.2/contexts/create", { clusterId: team, language: "python" })).status,
      500,
    );
    te.advance(15_000); // the restart delay
    const after = await create(te, team);
    assertEquals((await contextStatus(te, team, after)).status, 200);
  });
});

Deno.test("the context limit: LRU idle eviction, refusal when nothing may go, and eviction through control", async (t) => {
  await using te = testEmulator({ maxContexts: 2, idleEvictionMs: 60_000 });
  const cluster = await te.clusterId(ANALYTICS);
  const tooMany = { error: "Too many execution contexts are open right now" };

  const a = await create(te, cluster);
  const b = await create(te, cluster);
  te.advance(60_000);
  await run(te, cluster, a, "x = 1"); // a was used a minute after b
  te.advance(30_000);

  let c = "";
  await t.step("at the limit the least recently used context idle past the threshold goes", async () => {
    c = await create(te, cluster);
    assertContextNotFound(await contextStatus(te, cluster, b), b);
    assertStringIncludes((await contextStatus(te, cluster, b)).body.error, "evicted");
    assertEquals(gone(te, b)?.reason, "evicted_idle");
    assertEquals((await contextStatus(te, cluster, a)).status, 200);
  });

  await t.step("nothing idle long enough: refused", async () => {
    const r = await te.post("/api/1.2/contexts/create", { clusterId: cluster, language: "python" });
    assertEquals([r.status, r.body], [500, tooMany]);
  });

  let d = "";
  await t.step("a context with a running or queued command is never evicted", async () => {
    const busy = await execute(te, cluster, c, "import time\ntime.sleep(30)");
    te.advance(120_000);
    d = await create(te, cluster); // a is idle (3 min), c is busy
    assertContextNotFound(await contextStatus(te, cluster, a), a);
    assertEquals(
      (await commandStatus(te, cluster, c, busy)).status,
      200,
      "c and its command are still there",
    );
    await execute(te, cluster, d, "import time\ntime.sleep(30)");
    te.advance(120_000);
    const r = await te.post("/api/1.2/contexts/create", { clusterId: cluster, language: "python" });
    assertEquals([r.status, r.body], [500, tooMany]);
  });

  await t.step("control: list, evict (interrupting the running command), then ContextNotFound", async () => {
    const listed = (await te.get("/__emulator/contexts")).body;
    assertEquals(listed.contexts.map((x: { id: string }) => x.id).sort(), [c, d].sort());
    const entry = listed.contexts.find((x: { id: string }) => x.id === c);
    assertEquals(entry.cluster_id, cluster);
    assert(["Pending", "Running"].includes(entry.status));
    assertEquals(typeof entry.last_used_at, "number");
    assert(entry.running_command !== null || entry.queued_commands === 1, JSON.stringify(entry));
    const evicted = await te.call("POST", `/__emulator/contexts/${c}/evict`);
    assertEquals([evicted.status, evicted.body.id, evicted.body.reason], [200, c, "evicted_control"]);
    assertEquals(evicted.body.interrupted_commands[0].status, "Finished");
    assertContextNotFound(await contextStatus(te, cluster, c), c);
    assertEquals((await te.call("POST", `/__emulator/contexts/${c}/evict`)).status, 404);
    // Room again, without eviction.
    await create(te, cluster);
    assertEquals(te.emu.control.contexts().contexts.length, 2);
  });
});

Deno.test("enableIdleContextTracking=false: a full cluster refuses instead of evicting", async () => {
  await using te = testEmulator({ maxContexts: 1 });
  const created = await te.post("/api/2.1/clusters/create", {
    cluster_name: "no-eviction",
    spark_version: "16.4.x-scala2.12",
    node_type_id: "m5d.large",
    num_workers: 0,
    spark_conf: { "spark.databricks.chauffeur.enableIdleContextTracking": "false" },
  });
  const cluster = created.body.cluster_id;
  te.advance(20_000);
  await create(te, cluster);
  te.advance(3_600_000);
  const r = await te.post("/api/1.2/contexts/create", { clusterId: cluster, language: "python" });
  assertEquals([r.status, r.body], [500, { error: "Too many execution contexts are open right now" }]);
});

Deno.test("the contexts-not-ready fault: ClusterNotReadyException for N s of emulator time after RUNNING", async () => {
  await using te = testEmulator();
  const cluster = await te.clusterId(ANALYTICS);
  const team = await te.clusterId("team-shared");
  const set = await te.call("POST", "/__emulator/contexts/not-ready", {
    body: { seconds: 30, cluster_id: cluster },
  });
  assertEquals(set.body, { seconds: 30, cluster_id: cluster });
  const refused = await te.post("/api/1.2/contexts/create", { clusterId: cluster, language: "python" });
  assertEquals(refused.status, 500);
  assertStringIncludes(refused.body.error, "ClusterNotReadyException");
  assertStringIncludes(refused.body.error, "RUNNING");
  te.advance(29_999);
  assertEquals(
    (await te.post("/api/1.2/contexts/create", { clusterId: cluster, language: "python" })).status,
    500,
  );
  te.advance(1);
  await create(te, cluster);

  // Every cluster, and the window restarts when a driver comes up.
  te.emu.control.setContextsNotReady(10);
  assertEquals(te.emu.control.contexts().not_ready.length, 2);
  await te.post("/api/2.1/clusters/restart", { cluster_id: team });
  te.advance(15_000);
  assertEquals(
    (await te.post("/api/1.2/contexts/create", { clusterId: team, language: "python" })).status,
    500,
  );
  te.advance(10_000);
  await create(te, team);

  te.emu.control.setContextsNotReady(0);
  te.emu.control.setContextsNotReady(0, cluster);
  assertEquals(te.emu.control.contexts().not_ready, []);
  const bad = await te.call("POST", "/__emulator/contexts/not-ready", { body: { seconds: -1 } });
  assertEquals(bad.status, 400);
  const unknown = await te.call("POST", "/__emulator/contexts/not-ready", {
    body: { seconds: 1, cluster_id: "0101-010101-nothere1" },
  });
  assertEquals(unknown.status, 404);
});

Deno.test("contexts/create: request errors in the 1.2 shape, and a configurable not-ready text", async () => {
  await using te = testEmulator({
    clusterNotReadyMessage: "ClusterNotReadyException: {clusterId} is {state}",
  });
  const cluster = await te.clusterId(ANALYTICS);
  const terminated = await te.clusterId("dbxr-dev-terminated");
  const cases: [unknown, number, string][] = [
    [{ language: "python" }, 400, "requirement failed: missing clusterId"],
    [{ clusterId: cluster }, 400, "requirement failed: missing language"],
    [
      { clusterId: cluster, language: "scala" },
      400,
      "Language scala is not supported by the dbxr emulator (it runs python and sql only)",
    ],
    [
      { clusterId: cluster, language: "r" },
      400,
      "Language r is not supported by the dbxr emulator (it runs python and sql only)",
    ],
    [
      { clusterId: cluster, language: "java" },
      400,
      "requirement failed: unknown language 'java' (expected python, scala, sql or r)",
    ],
    [
      { clusterId: "0101-010101-nothere1", language: "python" },
      400,
      "Cluster 0101-010101-nothere1 does not exist",
    ],
    [
      { clusterId: terminated, language: "python" },
      500,
      `ClusterNotReadyException: ${terminated} is TERMINATED`,
    ],
    ["{not json", 400, "Invalid JSON given in the body of the request - failed to parse given JSON"],
  ];
  for (const [body, status, error] of cases) {
    const r = await te.post("/api/1.2/contexts/create", body);
    assertEquals([r.status, r.body], [status, { error }], JSON.stringify(body));
  }
  assertEquals(te.emu.control.contexts().contexts, [], "no context was made");
});

Deno.test("form-encoded and multipart bodies as in the historic curl docs; execute's requirement errors", async () => {
  await using te = testEmulator();
  const cluster = await te.clusterId(ANALYTICS);
  const form = { "content-type": "application/x-www-form-urlencoded" };
  const created = await te.post("/api/1.2/contexts/create", `clusterId=${cluster}&language=python`, {
    headers: form,
  });
  assertEquals(created.status, 200, created.text);
  const ctx = created.body.id;
  await waitRunning(te, cluster, ctx);

  const command = encodeURIComponent("print(6 * 7)");
  const ex = await te.post(
    "/api/1.2/commands/execute",
    `clusterId=${cluster}&contextId=${ctx}&language=python&command=${command}`,
    { headers: form },
  );
  assertEquals(ex.status, 200, ex.text);
  const done = await until(
    () => commandStatus(te, cluster, ctx, ex.body.id),
    (r) => r.body.status === "Finished",
    "form command",
  );
  assertEquals(done.body.results, { resultType: "text", data: "42" });

  // curl -F: multipart/form-data; and curl -d '{...}' (JSON under curl's default form type).
  const multipart = new FormData();
  multipart.set("clusterId", cluster);
  multipart.set("contextId", ctx);
  multipart.set("language", "python");
  multipart.set("command", "print('multipart')");
  const req = new Request(`${EMULATOR_ORIGIN}/api/1.2/commands/execute`, { method: "POST", body: multipart });
  req.headers.set("authorization", `Bearer ${te.emu.token}`);
  const mp = await te.emu.handle(req);
  assertEquals(mp.status, 200);
  const mpId = (await mp.json()).id;
  const mpDone = await until(
    () => commandStatus(te, cluster, ctx, mpId),
    (r) => r.body.status === "Finished",
    "multipart command",
  );
  assertEquals(mpDone.body.results.data, "multipart");
  const jsonAsForm = await te.post(
    "/api/1.2/commands/execute",
    JSON.stringify({ clusterId: cluster, contextId: ctx, language: "python", command: "1" }),
    { headers: form },
  );
  assertEquals(jsonAsForm.status, 200, jsonAsForm.text);

  const missing = await te.post("/api/1.2/commands/execute", {
    clusterId: cluster,
    language: "python",
    command: "1",
  });
  assertEquals([missing.status, missing.body], [400, { error: "requirement failed: missing contextId" }]);
  const scala = await te.post("/api/1.2/commands/execute", {
    clusterId: cluster,
    contextId: ctx,
    language: "scala",
    command: "1",
  });
  assertEquals(scala.status, 400);
  assertStringIncludes(scala.body.error, "Language scala is not supported by the dbxr emulator");
  const snake = await te.get(`/api/1.2/contexts/status?cluster_id=${cluster}&context_id=${ctx}`);
  assertEquals([snake.status, snake.body], [400, { error: "requirement failed: missing clusterId" }]);
  const otherCluster = await contextStatus(te, await te.clusterId("team-shared"), ctx);
  assertContextNotFound(otherCluster, ctx);
});

Deno.test("reset and close kill every context process", async () => {
  const te = testEmulator();
  try {
    const cluster = await te.clusterId(ANALYTICS);
    const first = await create(te, cluster);
    await waitRunning(te, cluster, first);
    const pid = info(te, first)!.pid!;
    assertEquals((await te.call("POST", "/__emulator/reset")).status, 200);
    assertEquals(te.emu.control.contexts().contexts, []);
    assertEquals(gone(te, first)?.reason, "reset");
    assertContextNotFound(await contextStatus(te, cluster, first), first);
    await waitGone(pid);

    const second = await create(te, cluster);
    await waitRunning(te, cluster, second);
    const { pid: pid2, cwd } = info(te, second)!;
    await te.emu.close();
    assertEquals(processGroupAlive(pid2!), false, "close() waits until the process is gone");
    assert(!(await exists(cwd)));
    assert(!(await exists(cwd.replace(/[/\\][^/\\]+$/, ""))), "the emulator's temp dir is removed");
  } finally {
    await te.emu.close();
  }
});
