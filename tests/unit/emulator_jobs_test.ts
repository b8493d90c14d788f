// Jobs one-time runs through emulator.handle: runs/submit with real python3 task runs, the life cycle and
// its roll-up, get-output per task run, the spark_python_task pitfalls (no __file__, /Workspace not
// importable), cancel, timeouts, idempotency, setup failures and the workspace's active-run limit.

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { type CallResult, type TestEmulator, testEmulator, uploadFile } from "../helpers/emulator.ts";

const ANALYTICS = "analytics-shared-ml";
const ME = "dbxr-dev@example.com";
const HOME = `/Workspace/Users/${ME}`;
/** `error` ends with a W3C-traceparent-like id, as on Databricks. */
const TRACE_ID = /\n\[Trace ID: 00-[0-9a-f]{32}-[0-9a-f]{16}-00\]$/;
const TERMINAL = ["TERMINATED", "SKIPPED", "INTERNAL_ERROR"];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function submit(te: TestEmulator, body: unknown, version = "2.2"): Promise<number> {
  const r = await te.post(`/api/${version}/jobs/runs/submit`, body);
  assertEquals(r.status, 200, r.text);
  assertEquals(typeof r.body.run_id, "number");
  return r.body.run_id;
}

const getRun = (te: TestEmulator, runId: number) => te.get(`/api/2.2/jobs/runs/get?run_id=${runId}`);
const getOutput = (te: TestEmulator, runId: number) =>
  te.get(`/api/2.2/jobs/runs/get-output?run_id=${runId}`);

/**
 * Polls runs/get until the run is terminal. The scripts run in real time while cluster starts and
 * TERMINATING follow the injected clock, so each poll also moves the clock by `stepMs`.
 */
async function waitRun(
  te: TestEmulator,
  runId: number,
  stepMs = 500,
  timeoutMs = 20_000,
): Promise<CallResult> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await getRun(te, runId);
    assertEquals(r.status, 200, r.text);
    if (TERMINAL.includes(r.body.state.life_cycle_state)) return r;
    if (Date.now() > end) throw new Error(`run ${runId} did not end; last answer ${r.text}`);
    te.advance(stepMs);
    await sleep(15);
  }
}

function pythonTask(key: string, file: string, extra: Record<string, unknown> = {}) {
  return { task_key: key, spark_python_task: { python_file: file, source: "WORKSPACE" }, ...extra };
}

Deno.test("a run on a running cluster: RUNNING, then TERMINATING, then TERMINATED SUCCESS with its logs", async () => {
  await using te = testEmulator({ timeScale: 10 });
  const cluster = await te.clusterId(ANALYTICS);
  await uploadFile(
    te,
    `${HOME}/job/hello.py`,
    "print('hello from job')\nimport sys\nprint('oops', file=sys.stderr)\n\n",
  );
  const runId = await submit(te, {
    run_name: "hello",
    tasks: [pythonTask("main", `${HOME}/job/hello.py`, { existing_cluster_id: cluster })],
  });
  const first = await getRun(te, runId);
  assertEquals(first.body.state.life_cycle_state, "RUNNING");
  assertEquals(first.body.state.state_message, "In run");
  assertEquals(first.body.status, { state: "RUNNING" });

  // The script ends in real time; TERMINATING then lasts CLEANUP_MS / timeScale on the emulator clock.
  let r: CallResult;
  for (let i = 0;; i++) {
    r = await getRun(te, runId);
    if (r.body.tasks[0].state.life_cycle_state !== "RUNNING") break;
    assert(i < 1000, "the script did not end");
    await sleep(10);
  }
  assertEquals(r.body.tasks[0].state.life_cycle_state, "TERMINATING");
  assertEquals(r.body.state.life_cycle_state, "TERMINATING");
  te.advance(100);
  r = await getRun(te, runId);
  const run = r.body;
  assertEquals(run.state, {
    life_cycle_state: "TERMINATED",
    result_state: "SUCCESS",
    state_message: "",
    user_cancelled_or_timedout: false,
  });
  assertEquals(run.status, {
    state: "TERMINATED",
    termination_details: { code: "SUCCESS", type: "SUCCESS", message: "" },
  });
  assertEquals(run.run_type, "SUBMIT_RUN");
  assertEquals(run.run_name, "hello");
  assertEquals(run.creator_user_name, ME);
  assertEquals(typeof run.job_id, "number");
  assertMatch(
    run.run_page_url,
    new RegExp(`^http://emulator\\.test/\\?o=\\d+#job/${run.job_id}/run/${runId}$`),
  );
  assertEquals(run.run_duration, run.end_time - run.start_time);
  const task = run.tasks[0];
  assertEquals(task.task_key, "main");
  assert(task.run_id !== runId);
  assertEquals(task.existing_cluster_id, cluster);
  assertEquals(task.cluster_instance.cluster_id, cluster);
  assertMatch(task.cluster_instance.spark_context_id, /^\d+$/);
  assertEquals(task.attempt_number, 0);
  assertEquals(task.state.result_state, "SUCCESS");
  assertEquals(task.cleanup_duration, 100);

  const out = await getOutput(te, task.run_id);
  assertEquals(out.status, 200, out.text);
  // stdout and stderr, exactly one trailing newline.
  assertEquals(out.body.logs, "hello from job\noops\n");
  assertEquals(out.body.logs_truncated, false);
  assertEquals(out.body.error, undefined);
  assertEquals(out.body.metadata.run_id, task.run_id);
  assertEquals(out.body.metadata.task_key, "main");
  assertEquals(out.body.metadata.state.result_state, "SUCCESS");

  // The parent id is refused, even for a single-task run; an unknown id too.
  const parent = await getOutput(te, runId);
  assertEquals(parent.status, 400);
  assertEquals(parent.body, {
    error_code: "INVALID_PARAMETER_VALUE",
    message: "Retrieving the output of runs with multiple tasks is not supported. Please retrieve the " +
      "output of each individual task run instead.",
  });
  const unknown = await getOutput(te, 42);
  assertEquals(unknown.status, 400);
  assertEquals(unknown.body, { error_code: "INVALID_PARAMETER_VALUE", message: "Run 42 does not exist." });
});

Deno.test("__file__ is not defined: the task FAILED, get-output's error and IPython error_trace, the run's roll-up", async () => {
  await using te = testEmulator({ timeScale: 10 });
  const cluster = await te.clusterId(ANALYTICS);
  await uploadFile(
    te,
    `${HOME}/job/uses_file.py`,
    "import pathlib\nprint('before')\nhere = pathlib.Path(__file__).parent\n",
  );
  const runId = await submit(te, {
    tasks: [pythonTask("etl", `${HOME}/job/uses_file.py`, { existing_cluster_id: cluster })],
  });
  const run = (await waitRun(te, runId)).body;
  assertEquals(run.run_name, "Untitled");
  assertEquals(run.state, {
    life_cycle_state: "INTERNAL_ERROR",
    result_state: "FAILED",
    state_message: "Task etl failed with message: Workload failed, see run output for details.",
    user_cancelled_or_timedout: false,
  });
  assertEquals(run.status.state, "TERMINATED");
  assertEquals(run.status.termination_details.code, "RUN_EXECUTION_ERROR");
  const task = run.tasks[0];
  assertEquals(task.state, {
    life_cycle_state: "TERMINATED",
    result_state: "FAILED",
    state_message: "Workload failed, see run output for details",
    user_cancelled_or_timedout: false,
  });
  const out = (await getOutput(te, task.run_id)).body;
  assertEquals(out.logs, "before\n");
  assertMatch(out.error, TRACE_ID);
  assertEquals(out.error.replace(TRACE_ID, ""), "NameError: name '__file__' is not defined");
  const trace: string = out.error_trace;
  // IPython 8 with Databricks' colours; the wrapper is the first frame, then the script by its /Workspace path.
  assert(trace.startsWith("\x1b[0;31m-----"), trace);
  // deno-lint-ignore no-control-regex
  assertMatch(trace, /^.*\n\x1b\[0;31mNameError\x1b\[0m +Traceback \(most recent call last\)\n/);
  assertMatch(
    trace,
    // deno-lint-ignore no-control-regex
    /\nFile \x1b\[0;32m~\/\.ipykernel\/\d+\/command--1-\d+:8\x1b\[0m\n\x1b\[1;32m {6}5\x1b\[0m \x1b\[38;5;28;01mdel\x1b\[39;00m sys\n/,
  );
  assertStringIncludes(trace, `\nFile \x1b[0;32m${HOME}/job/uses_file.py:3\x1b[0m\n`);
  assert(trace.endsWith("\x1b[0;31mNameError\x1b[0m: name '__file__' is not defined"), trace);
  assert(trace.indexOf("command--1-") < trace.indexOf("uses_file.py"));
});

Deno.test("the script's world: argv from parameters, CWD, __name__, notebook globals, runtime version", async () => {
  await using te = testEmulator({ timeScale: 10 });
  const cluster = await te.clusterId(ANALYTICS);
  await uploadFile(
    te,
    `/Workspace/Shared/tools/show.py`,
    [
      "import os, sys",
      "print(sys.argv)",
      "print(os.getcwd())",
      "print(__name__, 'spark' in globals(), 'dbutils' in globals(), '__file__' in globals())",
      "print(spark.conf.get('spark.databricks.clusterUsageTags.clusterId'))",
      "ctx = dbutils.notebook.entry_point.getDbutils().notebook().getContext()",
      "print(ctx.apiUrl().get(), ctx.apiToken().get().startswith('dapi'))",
      "print(os.environ['DATABRICKS_RUNTIME_VERSION'])",
      "print(sorted(os.listdir('.')), open('show.py').readline().strip())",
    ].join("\n"),
  );
  // Without the /Workspace prefix it is the same object; the script still sees its /Workspace path.
  const runId = await submit(te, {
    tasks: [{
      task_key: "show",
      existing_cluster_id: cluster,
      spark_python_task: { python_file: "/Shared/tools/show.py", parameters: ["--n", "3", "a b"] },
    }],
  });
  const run = (await waitRun(te, runId)).body;
  assertEquals(run.state.result_state, "SUCCESS", JSON.stringify(run.state));
  assertEquals(run.tasks[0].spark_python_task.source, "WORKSPACE");
  const logs: string = (await getOutput(te, run.tasks[0].run_id)).body.logs;
  assertEquals(logs.split("\n"), [
    "['/Workspace/Shared/tools/show.py', '--n', '3', 'a b']",
    "/Workspace/Shared/tools",
    "__main__ True True False",
    cluster,
    "http://emulator.test True",
    "16.4",
    "['show.py'] import os, sys",
    "",
  ]);
});

Deno.test("/Workspace: os.path and copytree see the files, imports from it fail, a copy under /tmp imports", async () => {
  await using te = testEmulator({ timeScale: 10 });
  const cluster = await te.clusterId(ANALYTICS);
  const agent = `${HOME}/agents/my_agent`;
  await uploadFile(te, `${agent}/tools/__init__.py`, "");
  await uploadFile(te, `${agent}/tools/my_tool.py`, "def my_function():\n    return 'tool says hi'\n");
  await uploadFile(
    te,
    `${agent}/log_model.py`,
    [
      "import os, shutil, sys",
      `SRC = '${agent}'`,
      "LOCAL = sys.argv[1]",
      "print(os.path.exists(SRC + '/tools/my_tool.py'), sorted(os.listdir(SRC)))",
      "sys.path.insert(0, SRC)",
      "try:",
      "    from tools.my_tool import my_function",
      "except ImportError as e:",
      "    print('import from /Workspace:', e)",
      "shutil.copytree(SRC, LOCAL)",
      "sys.path.insert(0, LOCAL)",
      "from tools.my_tool import my_function",
      "print(my_function())",
    ].join("\n"),
  );
  const tmp = await Deno.makeTempDir({ prefix: "dbxr-jobs-test-" });
  try {
    const runId = await submit(te, {
      tasks: [pythonTask("log", `${agent}/log_model.py`, {
        existing_cluster_id: cluster,
        spark_python_task: { python_file: `${agent}/log_model.py`, parameters: [`${tmp}/my_agent`] },
      })],
    });
    const run = (await waitRun(te, runId)).body;
    const out = (await getOutput(te, run.tasks[0].run_id)).body;
    assertEquals(run.state.result_state, "SUCCESS", out.error ?? "");
    assertEquals(
      out.logs,
      [
        "True ['log_model.py', 'tools']",
        "import from /Workspace: No module named 'tools'",
        "tool says hi",
        "",
      ].join("\n"),
    );
    assertEquals((await Deno.stat(`${tmp}/my_agent/tools/my_tool.py`)).isFile, true);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("two tasks run in parallel, each with its own output; depends_on waits; an upstream failure skips", async () => {
  await using te = testEmulator({ timeScale: 10 });
  const cluster = await te.clusterId(ANALYTICS);
  await uploadFile(te, `${HOME}/two/a.py`, "print('task a')");
  await uploadFile(te, `${HOME}/two/b.py`, "print('task b')");
  await uploadFile(te, `${HOME}/two/boom.py`, "raise ValueError('bad input')");
  const runId = await submit(te, {
    tasks: [
      pythonTask("a", `${HOME}/two/a.py`, { existing_cluster_id: cluster }),
      pythonTask("b", `${HOME}/two/b.py`, { existing_cluster_id: cluster }),
      pythonTask("after_a", `${HOME}/two/b.py`, {
        existing_cluster_id: cluster,
        depends_on: [{ task_key: "a" }],
      }),
    ],
  });
  const first = (await getRun(te, runId)).body;
  assertEquals(first.tasks.map((t: { state: { life_cycle_state: string } }) => t.state.life_cycle_state), [
    "RUNNING",
    "RUNNING",
    "BLOCKED",
  ]);
  const run = (await waitRun(te, runId)).body;
  assertEquals(run.state.result_state, "SUCCESS");
  const outs = await Promise.all(run.tasks.map((t: { run_id: number }) => getOutput(te, t.run_id)));
  assertEquals(outs.map((o) => o.body.logs), ["task a\n", "task b\n", "task b\n"]);
  assert(run.tasks[2].start_time >= run.tasks[0].end_time);

  const failing = await submit(te, {
    tasks: [
      pythonTask("boom", `${HOME}/two/boom.py`, { existing_cluster_id: cluster }),
      pythonTask("next", `${HOME}/two/a.py`, {
        existing_cluster_id: cluster,
        depends_on: [{ task_key: "boom" }],
      }),
    ],
  });
  const failed = (await waitRun(te, failing)).body;
  assertEquals(
    failed.state.state_message,
    "Task boom failed with message: Workload failed, see run output for details.",
  );
  assertEquals(failed.tasks[1].state.result_state, "UPSTREAM_FAILED");
  assertEquals(failed.tasks[1].status.termination_details.code, "SKIPPED");
  const boom = (await getOutput(te, failed.tasks[0].run_id)).body;
  assertMatch(boom.error, /^ValueError: bad input\n\[Trace ID: /);
});

Deno.test("logs keep the last N bytes with logs_truncated (5 MB by default, N set through control)", async () => {
  await using te = testEmulator({ timeScale: 10 });
  const cluster = await te.clusterId(ANALYTICS);
  assertEquals(te.emu.control.jobRuns().logs_limit_bytes, 5 * 1024 * 1024);
  const set = await te.post("/__emulator/jobs/logs-limit", { bytes: 18 });
  assertEquals(set.body, { bytes: 18 });
  await uploadFile(te, `${HOME}/loud.py`, "for i in range(100):\n    print(f'line {i:03d}')\n");
  const runId = await submit(te, {
    tasks: [pythonTask("loud", `${HOME}/loud.py`, { existing_cluster_id: cluster })],
  });
  const run = (await waitRun(te, runId)).body;
  const out = (await getOutput(te, run.tasks[0].run_id)).body;
  assertEquals(out.logs_truncated, true);
  assertEquals(out.logs, "line 098\nline 099\n");
  assertEquals((await te.post("/__emulator/jobs/logs-limit", { bytes: -1 })).status, 400);
});

Deno.test("sys.exit(0) succeeds, sys.exit(3) fails with SystemExit", async () => {
  await using te = testEmulator({ timeScale: 10 });
  const cluster = await te.clusterId(ANALYTICS);
  await uploadFile(te, `${HOME}/exit0.py`, "import sys\nprint('bye')\nsys.exit(0)\nprint('not reached')");
  await uploadFile(te, `${HOME}/exit3.py`, "import sys\nsys.exit(3)");
  const ok = await submit(te, {
    tasks: [pythonTask("t", `${HOME}/exit0.py`, { existing_cluster_id: cluster })],
  });
  const bad = await submit(te, {
    tasks: [pythonTask("t", `${HOME}/exit3.py`, { existing_cluster_id: cluster })],
  });
  const okRun = (await waitRun(te, ok)).body;
  assertEquals(okRun.state.result_state, "SUCCESS");
  assertEquals((await getOutput(te, okRun.tasks[0].run_id)).body.logs, "bye\n");
  const badRun = (await waitRun(te, bad)).body;
  assertEquals(badRun.state.result_state, "FAILED");
  assertMatch((await getOutput(te, badRun.tasks[0].run_id)).body.error, /^SystemExit: 3\n\[Trace ID: /);
});

Deno.test("runs/cancel: the script gets KeyboardInterrupt and the run ends CANCELED / USER_CANCELED", async () => {
  await using te = testEmulator({ timeScale: 10 });
  const cluster = await te.clusterId(ANALYTICS);
  await uploadFile(
    te,
    `${HOME}/slow.py`,
    [
      "import sys, time",
      "print('started', flush=True)",
      "try:",
      "    open(sys.argv[1], 'w').close()  # tells the test that the try block is reached",
      "    time.sleep(60)",
      "except KeyboardInterrupt:",
      "    print('interrupted')",
      "    raise",
    ].join("\n"),
  );
  const marker = await Deno.makeTempFile({ prefix: "dbxr-jobs-test-" });
  await Deno.remove(marker);
  const runId = await submit(te, {
    tasks: [{
      task_key: "slow",
      existing_cluster_id: cluster,
      spark_python_task: { python_file: `${HOME}/slow.py`, parameters: [marker] },
    }],
  });
  const taskId = (await getRun(te, runId)).body.tasks[0].run_id;
  // Wait until the script is inside its try block, then cancel the parent run.
  for (let i = 0;; i++) {
    try {
      await Deno.stat(marker);
      break;
    } catch {
      assert(i < 1000, "the script never started");
      await sleep(10);
    }
  }
  await Deno.remove(marker);
  const c = await te.post("/api/2.2/jobs/runs/cancel", { run_id: runId });
  assertEquals(c.status, 200);
  assertEquals(c.body, {});
  assertEquals((await getRun(te, runId)).body.state.life_cycle_state, "TERMINATING");
  const run = (await waitRun(te, runId)).body;
  assertEquals(run.state, {
    life_cycle_state: "TERMINATED",
    result_state: "CANCELED",
    state_message: "Run cancelled.",
    user_cancelled_or_timedout: true,
  });
  assertEquals(run.status.termination_details.code, "USER_CANCELED");
  const out = (await getOutput(te, taskId)).body;
  assertEquals(out.logs, "started\ninterrupted\n");
  // Cancelling an ended run changes nothing; an unknown run is refused.
  assertEquals((await te.post("/api/2.2/jobs/runs/cancel", { run_id: runId })).status, 200);
  assertEquals((await getRun(te, runId)).body.state.result_state, "CANCELED");
  assertEquals((await te.post("/api/2.2/jobs/runs/cancel", { run_id: 7 })).status, 400);
});

Deno.test("timeout_seconds: the task is stopped and the run ends TIMEDOUT", async () => {
  await using te = testEmulator({ timeScale: 10 });
  const cluster = await te.clusterId(ANALYTICS);
  await uploadFile(te, `${HOME}/forever.py`, "import time\nwhile True:\n    time.sleep(0.05)\n");
  const runId = await submit(te, {
    tasks: [
      pythonTask("forever", `${HOME}/forever.py`, { existing_cluster_id: cluster, timeout_seconds: 30 }),
    ],
  });
  for (let i = 0; !te.emu.control.jobRuns().runs[0].tasks[0].pid; i++) {
    assert(i < 1000, "the task never started");
    await sleep(10);
  }
  assertEquals((await getRun(te, runId)).body.state.life_cycle_state, "RUNNING");
  te.advance(30_000);
  const run = (await waitRun(te, runId)).body;
  assertEquals(run.state.result_state, "TIMEDOUT");
  assertEquals(run.state.user_cancelled_or_timedout, true);
  assertEquals(run.tasks[0].state.result_state, "TIMEDOUT");
  assertEquals(run.status.termination_details.code, "CANCELED");
});

Deno.test("idempotency_token: the same token answers the same run and starts nothing new", async () => {
  await using te = testEmulator({ timeScale: 10 });
  const cluster = await te.clusterId(ANALYTICS);
  await uploadFile(te, `${HOME}/once.py`, "print('once')");
  const body = {
    idempotency_token: "deploy-2026-01-15",
    tasks: [pythonTask("once", `${HOME}/once.py`, { existing_cluster_id: cluster })],
  };
  const a = await submit(te, body);
  const b = await submit(te, body, "2.1");
  assertEquals(a, b);
  assertEquals(te.emu.control.jobRuns().runs.length, 1);
  const c = await submit(te, { ...body, idempotency_token: "another" });
  assert(c !== a);
  await waitRun(te, a);
  await waitRun(te, c);
  const long = await te.post("/api/2.2/jobs/runs/submit", { ...body, idempotency_token: "x".repeat(65) });
  assertEquals(long.status, 400);
});

const NEW_CLUSTER = {
  spark_version: "16.4.x-cpu-ml-scala2.12",
  node_type_id: "i3.xlarge",
  num_workers: 0,
  data_security_mode: "SINGLE_USER",
};

Deno.test("new_cluster: PENDING while the job cluster starts (delay / timeScale), then it runs and the cluster goes", async () => {
  await using te = testEmulator({ timeScale: 10 }); // the cluster's PENDING: 20 s / 10 = 2 s of emulator time
  await uploadFile(
    te,
    `${HOME}/on_job_cluster.py`,
    "print(spark.conf.get('spark.databricks.clusterUsageTags.clusterName'))",
  );
  const runId = await submit(te, {
    tasks: [pythonTask("main", `${HOME}/on_job_cluster.py`, { new_cluster: NEW_CLUSTER })],
  });
  const pending = (await getRun(te, runId)).body;
  assertEquals(pending.state.life_cycle_state, "PENDING");
  assertEquals(pending.tasks[0].state.state_message, "Waiting for cluster");
  assertEquals(pending.tasks[0].new_cluster, NEW_CLUSTER);
  const clusters = (await te.get("/api/2.1/clusters/list?filter_by.cluster_sources=JOB")).body.clusters;
  const jobCluster = clusters.find((c: { cluster_name: string }) =>
    c.cluster_name.startsWith(`job-${pending.job_id}-run-`)
  );
  assert(jobCluster, JSON.stringify(clusters));
  assertEquals(jobCluster.state, "PENDING");
  assertEquals(jobCluster.default_tags.JobId, String(pending.job_id));
  te.advance(1999);
  assertEquals((await getRun(te, runId)).body.state.life_cycle_state, "PENDING");
  te.advance(1);
  assertEquals((await getRun(te, runId)).body.state.life_cycle_state, "RUNNING");
  const run = (await waitRun(te, runId)).body;
  assertEquals(run.state.result_state, "SUCCESS");
  assertEquals(run.tasks[0].setup_duration, 2000);
  assertEquals(run.tasks[0].cluster_instance.cluster_id, jobCluster.cluster_id);
  assertEquals((await getOutput(te, run.tasks[0].run_id)).body.logs, `${jobCluster.cluster_name}\n`);
  te.advance(10_000);
  const after = (await te.get(`/api/2.1/clusters/get?cluster_id=${jobCluster.cluster_id}`)).body;
  assertEquals(after.state, "TERMINATED");
  assertEquals(after.termination_reason.code, "JOB_FINISHED");
});

Deno.test("an unknown spark_version (the seed's missing -cpu-) fails the run at setup, as Databricks does", async () => {
  await using te = testEmulator({ timeScale: 10 });
  await uploadFile(te, `${HOME}/log_model.py`, "print('never runs')");
  for (const version of ["16.4.x-ml-scala2.12", "15.4.x-ml-scala2.12"]) {
    const runId = await submit(te, {
      tasks: [
        pythonTask("log_model", `${HOME}/log_model.py`, {
          new_cluster: { ...NEW_CLUSTER, spark_version: version },
        }),
      ],
    });
    const run = (await waitRun(te, runId)).body;
    const cause = "Unexpected user error while preparing the cluster for the job. Cause: BAD_REQUEST: " +
      `INVALID_PARAMETER_VALUE: Invalid spark version ${version}.`;
    assertEquals(run.state, {
      life_cycle_state: "INTERNAL_ERROR",
      result_state: "FAILED",
      state_message: `Task log_model failed with message: ${cause}`,
      user_cancelled_or_timedout: false,
    });
    assertEquals(run.status.termination_details.code, "INVALID_CLUSTER_REQUEST");
    assertEquals(run.tasks[0].state.life_cycle_state, "INTERNAL_ERROR");
    assertEquals(run.tasks[0].state.state_message, cause);
  }
  // Missing required cluster fields are refused with the run.
  for (
    const [field, spec] of [["size", { spark_version: "16.4.x-scala2.12", node_type_id: "i3.xlarge" }], [
      "node_type_id",
      { spark_version: "16.4.x-scala2.12", num_workers: 1 },
    ]] as const
  ) {
    const r = await te.post("/api/2.2/jobs/runs/submit", {
      tasks: [pythonTask("t", `${HOME}/log_model.py`, { new_cluster: spec })],
    });
    assertEquals(r.status, 400);
    assertEquals(r.body, {
      error_code: "INVALID_PARAMETER_VALUE",
      message: `Cluster validation error: Missing required field: settings.cluster_spec.new_cluster.${field}`,
    });
  }
});

Deno.test("a terminated all-purpose cluster is started by the run; a deleted one fails it", async () => {
  await using te = testEmulator({ timeScale: 10 });
  const cluster = await te.clusterId("dbxr-dev-terminated");
  await uploadFile(te, `${HOME}/hi.py`, "print('hi')");
  const runId = await submit(te, {
    tasks: [pythonTask("t", `${HOME}/hi.py`, { existing_cluster_id: cluster })],
  });
  assertEquals((await getRun(te, runId)).body.state.life_cycle_state, "PENDING");
  assertEquals((await te.get(`/api/2.1/clusters/get?cluster_id=${cluster}`)).body.state, "PENDING");
  const run = (await waitRun(te, runId)).body;
  assertEquals(run.state.result_state, "SUCCESS");
  assertEquals((await te.get(`/api/2.1/clusters/get?cluster_id=${cluster}`)).body.state, "RUNNING");

  const shared = await te.clusterId("team-shared");
  await te.post("/__emulator/clusters/" + shared + "/state", { state: "PENDING", hold: true });
  const doomed = await submit(te, {
    tasks: [pythonTask("t", `${HOME}/hi.py`, { existing_cluster_id: shared })],
  });
  assertEquals((await te.post("/api/2.1/clusters/permanent-delete", { cluster_id: shared })).status, 200);
  const gone = (await waitRun(te, doomed)).body;
  assertEquals(
    gone.tasks[0].state.state_message,
    `Run executed on existing cluster ID ${shared} failed since the cluster does not exist.`,
  );
});

Deno.test("python_file: a notebook or a missing file cannot be read; relative paths need GIT; request errors", async () => {
  await using te = testEmulator({ timeScale: 10 });
  const cluster = await te.clusterId(ANALYTICS);
  // `workspace import --language PYTHON` makes a NOTEBOOK, which a spark_python_task cannot read (the seed's trap).
  const imp = await te.post("/api/2.0/workspace/import", {
    path: `${HOME}/nb_main.py`,
    format: "SOURCE",
    language: "PYTHON",
    content: btoa("print('notebook')"),
  });
  assertEquals(imp.status, 200, imp.text);
  for (const file of [`${HOME}/nb_main.py`, `${HOME}/missing.py`, "dbfs:/tmp/x.py"]) {
    const runId = await submit(te, { tasks: [pythonTask("t", file, { existing_cluster_id: cluster })] });
    const run = (await waitRun(te, runId)).body;
    assertEquals(run.tasks[0].state.life_cycle_state, "INTERNAL_ERROR");
    assertEquals(
      run.tasks[0].state.state_message,
      `Cannot read the python file ${file}. Please check driver logs for more details.`,
    );
    assertEquals(run.state.result_state, "FAILED");
  }

  const refuse = async (body: unknown, message: string | RegExp) => {
    const r = await te.post("/api/2.2/jobs/runs/submit", body);
    assertEquals(r.status, 400, r.text);
    assertEquals(r.body.error_code, "INVALID_PARAMETER_VALUE");
    if (typeof message === "string") assertEquals(r.body.message, message);
    else assertMatch(r.body.message, message);
  };
  await refuse(
    { tasks: [pythonTask("t", "src/main.py", { existing_cluster_id: cluster })] },
    /^Invalid python_file src\/main\.py: for python files stored in the Databricks workspace, the path must be absolute/,
  );
  await refuse(
    { tasks: [pythonTask("t", `${HOME}/x.py`, { existing_cluster_id: "0000-000000-nope1234" })] },
    "Cluster 0000-000000-nope1234 does not exist",
  );
  await refuse(
    { tasks: [pythonTask("serverless_task", `${HOME}/x.py`)] },
    "An environment is required for serverless task serverless_task. Please define one using `environments` " +
      "and `environment_key`. For more details, please refer to the API documentation at https://docs.databricks.com",
  );
  await refuse(
    { tasks: [pythonTask("t", `${HOME}/x.py`, { job_cluster_key: "shared" })] },
    /job_cluster_key is not supported by runs\/submit/,
  );
  await refuse(
    { spark_python_task: { python_file: `${HOME}/x.py` } },
    "Either new_cluster or existing_cluster_id must be specified.",
  );
  await refuse({ tasks: [] }, /at least one task/);
  await refuse(
    { tasks: [{ task_key: "nb", notebook_task: { notebook_path: "/x" }, existing_cluster_id: cluster }] },
    /notebook_task is not supported by the dbxr emulator/,
  );
  await refuse(
    {
      tasks: [
        pythonTask("a", `${HOME}/x.py`, { existing_cluster_id: cluster, depends_on: [{ task_key: "b" }] }),
        pythonTask("b", `${HOME}/x.py`, { existing_cluster_id: cluster, depends_on: [{ task_key: "a" }] }),
      ],
    },
    /cycle/,
  );
  const malformed = await te.post("/api/2.2/jobs/runs/submit", "[1]");
  assertEquals(malformed.status, 400);
  assertEquals(malformed.body.error_code, "MALFORMED_REQUEST");
});

Deno.test("the legacy single-task body and serverless tasks with an environment run too", async () => {
  await using te = testEmulator({ timeScale: 10 });
  const cluster = await te.clusterId(ANALYTICS);
  await uploadFile(
    te,
    `${HOME}/legacy.py`,
    "import os, sys\nprint(sys.argv[1:], os.environ['DATABRICKS_RUNTIME_VERSION'])",
  );
  const legacy = await submit(te, {
    run_name: "airflow-style",
    existing_cluster_id: cluster,
    spark_python_task: { python_file: `${HOME}/legacy.py`, parameters: ["x"] },
  }, "2.0");
  const run = (await waitRun(te, legacy)).body;
  assertEquals(run.tasks.length, 1);
  assertEquals(run.state.result_state, "SUCCESS");
  assertEquals((await getOutput(te, run.tasks[0].run_id)).body.logs, "['x'] 16.4\n");
  assertEquals((await te.get(`/api/2.1/jobs/runs/get-output?run_id=${legacy}`)).status, 400);

  const serverless = await submit(te, {
    tasks: [pythonTask("sl", `${HOME}/legacy.py`, { environment_key: "default" })],
    environments: [{ environment_key: "default", spec: { environment_version: "2" } }],
  });
  const sl = (await waitRun(te, serverless)).body;
  assertEquals(sl.state.result_state, "SUCCESS");
  assertEquals(sl.tasks[0].cluster_instance, undefined);
  assertEquals((await getOutput(te, sl.tasks[0].run_id)).body.logs, "[] client.2\n");
});

Deno.test("the workspace's active task-run limit: a run beyond it is skipped, or queued when queue.enabled", async () => {
  await using te = testEmulator({ timeScale: 10 });
  const cluster = await te.clusterId(ANALYTICS);
  await uploadFile(te, `${HOME}/hold.py`, "import time\ntime.sleep(60)");
  await uploadFile(te, `${HOME}/quick.py`, "print('quick')");
  assertEquals((await te.post("/__emulator/jobs/run-limit", { limit: 1 })).body, { limit: 1 });
  const holding = await submit(te, {
    tasks: [pythonTask("hold", `${HOME}/hold.py`, { existing_cluster_id: cluster })],
  });
  const skipped = await submit(te, {
    tasks: [pythonTask("q", `${HOME}/quick.py`, { existing_cluster_id: cluster })],
  });
  const s = (await getRun(te, skipped)).body;
  assertEquals(s.state.life_cycle_state, "SKIPPED");
  assertEquals(s.state.result_state, "MAXIMUM_CONCURRENT_RUNS_REACHED");
  assertEquals(s.status.termination_details.code, "WORKSPACE_RUN_LIMIT_EXCEEDED");
  assertEquals(s.status.termination_details.type, "CLIENT_ERROR");

  const queued = await submit(te, {
    queue: { enabled: true },
    tasks: [pythonTask("q", `${HOME}/quick.py`, { existing_cluster_id: cluster })],
  });
  const q = (await getRun(te, queued)).body;
  assertEquals(q.state.life_cycle_state, "QUEUED");
  assertEquals(q.status.state, "QUEUED");
  assertEquals(q.status.queue_details.code, "ACTIVE_RUNS_LIMIT_REACHED");
  assertEquals((await te.post("/api/2.2/jobs/runs/cancel", { run_id: holding })).status, 200);
  await waitRun(te, holding);
  const done = (await waitRun(te, queued)).body;
  assertEquals(done.state.result_state, "SUCCESS");
  assert(done.queue_duration >= 0);
});

Deno.test("runs/list: newest first, active_only / completed_only, limit and page tokens, run_type", async () => {
  await using te = testEmulator({ timeScale: 10 });
  const cluster = await te.clusterId(ANALYTICS);
  await uploadFile(te, `${HOME}/quick.py`, "print('quick')");
  await uploadFile(te, `${HOME}/hold.py`, "import time\ntime.sleep(60)");
  const ids: number[] = [];
  for (let i = 0; i < 3; i++) {
    ids.push(
      await submit(te, {
        run_name: `r${i}`,
        tasks: [pythonTask("q", `${HOME}/quick.py`, { existing_cluster_id: cluster })],
      }),
    );
    await waitRun(te, ids[i]);
    te.advance(1000);
  }
  const active = await submit(te, {
    tasks: [pythonTask("h", `${HOME}/hold.py`, { existing_cluster_id: cluster })],
  });
  const all = (await te.get("/api/2.2/jobs/runs/list")).body;
  assertEquals(all.runs.map((r: { run_id: number }) => r.run_id), [active, ids[2], ids[1], ids[0]]);
  assertEquals(all.has_more, false);
  assertEquals(all.runs[0].tasks, undefined);
  assertEquals((await te.get("/api/2.2/jobs/runs/list?active_only=true")).body.runs.length, 1);
  assertEquals((await te.get("/api/2.2/jobs/runs/list?completed_only=true")).body.runs.length, 3);
  assertEquals((await te.get("/api/2.2/jobs/runs/list?active_only=true&completed_only=true")).status, 400);
  const page1 = (await te.get("/api/2.2/jobs/runs/list?limit=2&expand_tasks=true")).body;
  assertEquals(page1.runs.length, 2);
  assertEquals(page1.has_more, true);
  assertEquals(page1.runs[1].tasks.length, 1);
  const page2 = (await te.get(`/api/2.2/jobs/runs/list?limit=2&page_token=${page1.next_page_token}`)).body;
  assertEquals(page2.runs.map((r: { run_id: number }) => r.run_id), [ids[1], ids[0]]);
  assertEquals(page2.has_more, false);
  assertEquals((await te.get("/api/2.2/jobs/runs/list?offset=3")).body.runs.length, 1);
  assertEquals((await te.get("/api/2.2/jobs/runs/list?run_type=JOB_RUN")).body, { has_more: false });
  assertEquals((await te.get("/api/2.2/jobs/runs/list?limit=26")).status, 400);

  // runs/delete: only an ended run.
  assertEquals((await te.post("/api/2.2/jobs/runs/delete", { run_id: active })).status, 400);
  assertEquals((await te.post("/api/2.2/jobs/runs/delete", { run_id: ids[0] })).status, 200);
  assertEquals((await getRun(te, ids[0])).status, 400);
});

Deno.test("reset and close kill every task process; the control API lists runs", async () => {
  const te = testEmulator({ timeScale: 10 });
  const cluster = await te.clusterId(ANALYTICS);
  await uploadFile(
    te,
    `${HOME}/hold.py`,
    "import subprocess, time\nsubprocess.Popen(['sleep', '60'])\ntime.sleep(60)",
  );
  await submit(te, { tasks: [pythonTask("h", `${HOME}/hold.py`, { existing_cluster_id: cluster })] });
  const pidOf = async () => {
    for (let i = 0;; i++) {
      const pid = te.emu.control.jobRuns().runs[0]?.tasks[0].pid;
      if (pid) return pid;
      assert(i < 1000, "the task never started");
      await sleep(10);
    }
  };
  const alive = (pid: number) => {
    try {
      Deno.kill(pid, "SIGCONT");
      return true;
    } catch {
      return false;
    }
  };
  const first = await pidOf();
  const snapshot = (await te.get("/__emulator/jobs")).body;
  assertEquals(snapshot.run_limit, 1000);
  assertEquals(snapshot.runs[0].tasks[0].phase, "RUNNING");
  assertMatch(snapshot.runs[0].tasks[0].cwd, /\/Workspace\/Users\/dbxr-dev@example\.com$/);
  assertEquals((await te.post("/__emulator/reset")).status, 200);
  assertEquals(te.emu.control.jobRuns().runs, []);
  for (let i = 0; alive(first); i++) {
    assert(i < 500, "the task process survived the reset");
    await sleep(10);
  }
  await uploadFile(te, `${HOME}/hold.py`, "import time\ntime.sleep(60)");
  await submit(te, { tasks: [pythonTask("h", `${HOME}/hold.py`, { existing_cluster_id: cluster })] });
  const second = await pidOf();
  await te.emu.close();
  assertEquals(alive(second), false);
});

Deno.test("DBR 13 starts in the driver directory; a cluster terminated under a running task fails it", async () => {
  await using te = testEmulator({ timeScale: 10 });
  await uploadFile(
    te,
    `${HOME}/where.py`,
    "import os, time\nprint(os.getcwd(), os.environ['DATABRICKS_RUNTIME_VERSION'])",
  );
  const old = await submit(te, {
    tasks: [
      pythonTask("t", `${HOME}/where.py`, {
        new_cluster: { ...NEW_CLUSTER, spark_version: "13.3.x-scala2.12" },
      }),
    ],
  });
  const run = (await waitRun(te, old)).body;
  assertEquals(run.state.result_state, "SUCCESS");
  assertEquals((await getOutput(te, run.tasks[0].run_id)).body.logs, "/databricks/driver 13.3\n");

  const cluster = await te.clusterId(ANALYTICS);
  await uploadFile(te, `${HOME}/hold.py`, "import time\ntime.sleep(60)");
  const held = await submit(te, {
    tasks: [pythonTask("t", `${HOME}/hold.py`, { existing_cluster_id: cluster })],
  });
  for (let i = 0; !te.emu.control.jobRuns().runs[0].tasks[0].pid; i++) {
    assert(i < 1000, "the task never started");
    await sleep(10);
  }
  assertEquals((await te.post("/api/2.1/clusters/delete", { cluster_id: cluster })).status, 200);
  const lost = (await waitRun(te, held)).body;
  assertEquals(lost.state.life_cycle_state, "INTERNAL_ERROR");
  assertEquals(lost.tasks[0].state.state_message, `Cluster ${cluster} was terminated during the run.`);
  assertEquals(lost.status.termination_details.code, "CLUSTER_ERROR");
});

Deno.test("run ids differ between emulators unless a seed is pinned (a restart never reuses a project's ids)", async () => {
  const firstRunId = async (seed: number | undefined) => {
    await using te = testEmulator({ seed, timeScale: 10 });
    const cluster = await te.clusterId(ANALYTICS);
    await uploadFile(te, `${HOME}/job/ids.py`, "print('x')\n");
    const runId = await submit(te, {
      run_name: "ids",
      tasks: [pythonTask("main", `${HOME}/job/ids.py`, { existing_cluster_id: cluster })],
    });
    await te.post("/api/2.2/jobs/runs/cancel", { run_id: runId });
    return runId;
  };
  const unpinned = [await firstRunId(undefined), await firstRunId(undefined)];
  assert(unpinned[0] !== unpinned[1], `both emulators started at run ${unpinned[0]}`);
  assertEquals(await firstRunId(11), await firstRunId(11));
});
