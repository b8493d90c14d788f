// Serverless job runs through emulator.handle: no cluster, a start delay on the emulator clock, the job
// environment's dependencies pip-installed into a per-task venv (offline: what python3 already has installs,
// anything else fails as LIBRARY_INSTALLATION_ERROR with pip's message), and the workspace switch that
// refuses serverless submits.

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { type CallResult, type TestEmulator, testEmulator, uploadFile } from "../helpers/emulator.ts";
import { libraryFailure } from "../../src/emulator/job_runs.ts";

const HOME = "/Workspace/Users/dbxr-dev@example.com";
const TERMINAL = ["TERMINATED", "SKIPPED", "INTERNAL_ERROR"];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function serverlessBody(file: string, spec: Record<string, unknown>, parameters: string[] = []) {
  return {
    run_name: "serverless",
    tasks: [{
      task_key: "main",
      spark_python_task: { python_file: file, parameters, source: "WORKSPACE" },
      environment_key: "default",
    }],
    environments: [{ environment_key: "default", spec }],
  };
}

async function submit(te: TestEmulator, body: unknown): Promise<number> {
  const r = await te.post("/api/2.2/jobs/runs/submit", body);
  assertEquals(r.status, 200, r.text);
  return r.body.run_id;
}

const getRun = (te: TestEmulator, id: number) => te.get(`/api/2.2/jobs/runs/get?run_id=${id}`);

async function waitRun(te: TestEmulator, id: number, timeoutMs = 30_000): Promise<CallResult> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await getRun(te, id);
    if (TERMINAL.includes(r.body.state.life_cycle_state)) return r;
    if (Date.now() > end) throw new Error(`run ${id} did not end: ${r.text}`);
    te.advance(500);
    await sleep(20);
  }
}

Deno.test("serverless: PENDING until the start delay passes, no cluster, environment_key kept, a dependency python3 has installs offline into a venv of the task's own", async () => {
  await using te = testEmulator({ timeScale: 10 });
  await uploadFile(
    te,
    `${HOME}/sl/env.py`,
    "import os, sys, IPython\nprint(sys.argv[1:], os.environ['DATABRICKS_RUNTIME_VERSION'], " +
      "sys.prefix != sys.base_prefix, os.environ.get('VIRTUAL_ENV', '') == sys.prefix)\n",
  );
  const before = (await te.get("/api/2.0/clusters/list")).body.clusters?.length ?? 0;
  const id = await submit(
    te,
    serverlessBody(`${HOME}/sl/env.py`, { environment_version: "4", dependencies: ["ipython"] }, ["a b"]),
  );
  const first = (await getRun(te, id)).body;
  assertEquals(first.state.life_cycle_state, "PENDING");
  assertEquals(first.tasks[0].state.life_cycle_state, "PENDING");
  // SERVERLESS_START_MS (10 s) / timeScale 10 = 1 s of emulator time; nothing runs before it.
  te.advance(900);
  assertEquals((await getRun(te, id)).body.tasks[0].state.life_cycle_state, "PENDING");

  const run = (await waitRun(te, id)).body;
  assertEquals(run.state.result_state, "SUCCESS", JSON.stringify(run.state));
  const task = run.tasks[0];
  assertEquals(task.environment_key, "default");
  assertEquals(task.cluster_instance, undefined);
  assertEquals(task.existing_cluster_id, undefined);
  assertEquals(task.new_cluster, undefined);
  assert(task.setup_duration >= 1000, `setup_duration ${task.setup_duration}`);
  const out = (await te.get(`/api/2.2/jobs/runs/get-output?run_id=${task.run_id}`)).body;
  assertEquals(out.logs, "['a b'] client.4 True True\n");
  assertEquals((await te.get("/api/2.0/clusters/list")).body.clusters?.length ?? 0, before);

  // The control API shows the environment as submitted and the venv it was installed into.
  const snap = te.emu.control.jobRuns();
  const info = snap.runs.find((r) => r.run_id === id)!;
  assertEquals(info.environments, [{
    environment_key: "default",
    spec: { environment_version: "4", dependencies: ["ipython"] },
  }]);
  assertEquals(info.tasks[0].environment_key, "default");
  assertMatch(info.tasks[0].venv ?? "", /env-\d+$/);
  assertEquals(info.tasks[0].cluster_id, null);
});

Deno.test("serverless: a dependency pip cannot install fails the task at setup with LIBRARY_INSTALLATION_ERROR and pip's message; the script never runs", async () => {
  await using te = testEmulator({ timeScale: 10 });
  await uploadFile(te, `${HOME}/sl/never.py`, "open('/tmp/dbxr_serverless_should_not_run', 'w')\n");
  const id = await submit(
    te,
    serverlessBody(`${HOME}/sl/never.py`, {
      client: "2",
      dependencies: ["ipython", "dbxr-surely-not-a-package==9.9"],
    }),
  );
  const run = (await waitRun(te, id)).body;
  const task = run.tasks[0];
  assertEquals(task.state.life_cycle_state, "INTERNAL_ERROR");
  assertEquals(task.state.result_state, "FAILED");
  assertEquals(task.status.termination_details.code, "LIBRARY_INSTALLATION_ERROR");
  assertStringIncludes(
    task.state.state_message,
    'Library installation failed for library due to user error for pypi {\n  package: "dbxr-surely-not-a-package==9.9"\n}\n Error messages:\n',
  );
  assertStringIncludes(task.state.state_message, "ERROR: ");
  assertEquals(run.state.life_cycle_state, "INTERNAL_ERROR");
  assertMatch(run.state.state_message, /^Task main failed with message: Library installation failed/);
  const out = (await te.get(`/api/2.2/jobs/runs/get-output?run_id=${task.run_id}`)).body;
  assertEquals(out.error, task.state.state_message);
  assertEquals(out.logs, "");
});

Deno.test("serverless switched off: a serverless submit is refused with 400, classic runs are not; reset switches it back on", async () => {
  await using te = testEmulator({ timeScale: 10 });
  await uploadFile(te, `${HOME}/sl/x.py`, "print(1)\n");
  assertEquals((await te.post("/__emulator/serverless", { enabled: false })).body, { enabled: false });
  assertEquals((await te.get("/__emulator/serverless")).body, { enabled: false });
  const r = await te.post("/api/2.2/jobs/runs/submit", serverlessBody(`${HOME}/sl/x.py`, { client: "2" }));
  assertEquals(r.status, 400);
  assertEquals(r.body.error_code, "INVALID_PARAMETER_VALUE");
  assertEquals(r.body.message, "Serverless compute is not enabled for this workspace.");
  assertEquals(te.emu.control.jobRuns().runs.length, 0);
  assertEquals(te.emu.control.jobRuns().serverless_enabled, false);
  const cluster = await te.clusterId("analytics-shared-ml");
  await submit(te, {
    tasks: [{
      task_key: "classic",
      spark_python_task: { python_file: `${HOME}/sl/x.py` },
      existing_cluster_id: cluster,
    }],
  });
  const bad = await te.post("/__emulator/serverless", { enabled: "no" });
  assertEquals(bad.status, 400);

  te.emu.control.reset();
  assertEquals((await te.get("/__emulator/serverless")).body, { enabled: true });
  await submit(te, serverlessBody(`${HOME}/sl/x.py`, { client: "2" }));
});

Deno.test("serverless: environments are checked (dependencies are strings, keys unique)", async () => {
  await using te = testEmulator({ timeScale: 10 });
  const bad = await te.post(
    "/api/2.2/jobs/runs/submit",
    serverlessBody("/Users/x/y.py", { dependencies: [1] }),
  );
  assertEquals(bad.status, 400);
  assertStringIncludes(bad.body.message, "dependencies");
  const twice = await te.post("/api/2.2/jobs/runs/submit", {
    ...serverlessBody("/Users/x/y.py", {}),
    environments: [{ environment_key: "default" }, { environment_key: "default" }],
  });
  assertEquals(twice.status, 400);
  assertStringIncludes(twice.body.message, "more than one");
});

Deno.test("libraryFailure: names the requirement pip could not find, keeps pip's ERROR lines", () => {
  const out = "Looking in links: /x\nERROR: Could not find a version that satisfies the requirement foo==1 " +
    "(from versions: none)\nERROR: No matching distribution found for foo==1\n";
  assertEquals(
    libraryFailure(["bar", "foo==1"], out),
    'Library installation failed for library due to user error for pypi {\n  package: "foo==1"\n}\n' +
      " Error messages:\nERROR: Could not find a version that satisfies the requirement foo==1 (from versions: " +
      "none)\nERROR: No matching distribution found for foo==1",
  );
  assertStringIncludes(libraryFailure(["a", "b"], "boom"), 'package: "a, b"');
});
