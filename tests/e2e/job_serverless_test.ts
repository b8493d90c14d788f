// Job runs on serverless compute end to end: `dbxr job run FILE --serverless` as a subprocess against the
// emulator, which runs the task without a cluster and pip-installs the environment's dependencies into a
// venv of the task's own (offline: what python3 already has installs, anything else fails at setup).

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { type Served, served } from "../helpers/served.ts";
import { runCli } from "../helpers/cli.ts";
import { permissionFlags } from "../../scripts/flags.ts";

type J = Record<string, unknown>;
type Task = { task_key: string; result_state: string; log_file: string | null; error: string | null };

async function project(s: Served, files: Record<string, string>) {
  const dir = await Deno.makeTempDir({ dir: s.home, prefix: "serverless-" });
  for (const [name, text] of Object.entries(files)) await Deno.writeTextFile(`${dir}/${name}`, text);
  const job = (args: string[]) => s.dbxr(["--project-dir", dir, "job", ...args], { cwd: dir });
  return { dir, job };
}

const clusterCount = async (s: Served) =>
  ((await s.dbxr(["cluster", "list"])).json() as unknown as J[]).length;

Deno.test("--serverless: a script with arguments and a dependency runs without a cluster, in its environment", async () => {
  await using s = await served();
  const script = "import sys, os, IPython\nprint('argv', sys.argv[1:])\n" +
    "print('runtime', os.environ['DATABRICKS_RUNTIME_VERSION'], 'venv', sys.prefix != sys.base_prefix)\n";
  const p = await project(s, { "etl.py": script });
  const clustersBefore = await clusterCount(s);
  const r = await p.job([
    "run",
    "etl.py",
    "--serverless",
    "--dependency",
    "ipython",
    "--environment-version",
    "3",
    "--",
    "--date",
    "2026-01-31",
  ]);
  assertEquals(r.code, 0, r.stdout + r.stderr);
  const out = r.json();
  assertEquals(out.status, "SUCCESS");
  assertEquals(out.compute, "serverless");
  assertEquals(out.environment, {
    environment_key: "default",
    spec: { environment_version: "3", dependencies: ["ipython"] },
  });
  assert(
    (out.warnings as J[]).some((w) => w.rule === "serverless-unity-catalog" && w.severity === "info"),
    JSON.stringify(out.warnings),
  );
  const log = await Deno.readTextFile(`${p.dir}/${(out.tasks as Task[])[0].log_file}`);
  assertEquals(log, "argv ['--date', '2026-01-31']\nruntime client.3 venv True\n");

  // What Databricks got: a task with environment_key and no cluster; no cluster was created for it.
  assertEquals(await clusterCount(s), clustersBefore);
  const run = s.emulator.control.jobRuns().runs.find((x) => x.run_id === out.run_id)!;
  assertEquals(run.environments, [out.environment]);
  assertEquals([run.tasks[0].environment_key, run.tasks[0].cluster_id], ["default", null]);
  const status = await p.job(["status", String(out.run_id)]);
  assertEquals(status.json().result_state, "SUCCESS");
});

Deno.test("--serverless --wrap: __file__ and sibling imports work; --libraries become dependencies", async () => {
  await using s = await served();
  const p = await project(s, {
    "main.py": "import pathlib, helper\nprint('from', pathlib.Path(__file__).name, helper.X)\n",
    "helper.py": "X = 42\n",
  });
  const r = await p.job([
    "run",
    "main.py",
    "--serverless",
    "--wrap",
    "--include",
    "helper.py",
    "--libraries",
    "ipython",
  ]);
  assertEquals(r.code, 0, r.stdout + r.stderr);
  assertEquals((r.json().environment as J).spec, { environment_version: "4", dependencies: ["ipython"] });
  const log = await Deno.readTextFile(`${p.dir}/${(r.json().tasks as Task[])[0].log_file}`);
  assertStringIncludes(log, "from main.py 42");
});

Deno.test("--serverless: a dependency that cannot be installed fails the run at setup, diagnosed", async () => {
  await using s = await served();
  const p = await project(s, { "job.py": "print('never printed')\n" });
  const r = await p.job(["run", "job.py", "--serverless", "--dependency", "dbxr-no-such-package==1.0"]);
  assertEquals(r.code, 1, r.stdout + r.stderr);
  const out = r.json();
  assertEquals([out.status, out.error, out.result_state], ["RunFailed", "RunFailed", "FAILED"]);
  assertEquals(out.termination_code, "LIBRARY_INSTALLATION_ERROR");
  assertStringIncludes(String(out.message), "Library installation failed");
  const d = (out.diagnosis as J[])[0];
  assertEquals(d.id, "library-installation");
  assertStringIncludes(String(d.cause), "dbxr-no-such-package==1.0");
  assertStringIncludes(String(d.cause), "serverless environment");
  assertStringIncludes(String(d.fix), "--dependency");

  const again = await p.job(["diagnose", String(out.run_id)]);
  assertEquals(again.code, 0, again.stdout);
  assertEquals((again.json().diagnosis as J[])[0].id, "library-installation");
});

Deno.test("--serverless: a script that fails the seed's way is diagnosed as on a cluster", async () => {
  await using s = await served();
  const p = await project(s, { "uses_file.py": "import os\nprint(os.path.dirname(__file__))\n" });
  const refused = await p.job(["run", "uses_file.py", "--serverless"]);
  assertEquals([refused.code, refused.json().status], [1, "PreflightFailed"]);
  const r = await p.job(["run", "uses_file.py", "--serverless", "--force"]);
  assertEquals(r.code, 1, r.stdout + r.stderr);
  const out = r.json();
  assertEquals([out.status, out.termination_code], ["RunFailed", "RUN_EXECUTION_ERROR"]);
  assertStringIncludes(String((out.tasks as Task[])[0].error), "NameError: name '__file__' is not defined");
  const d = (out.diagnosis as J[])[0];
  assertEquals(d.id, "file-not-defined");
  assertStringIncludes(String(d.command), "--wrap");
});

Deno.test("--serverless on a workspace with serverless switched off: a clear error with the next step, nothing runs", async () => {
  await using s = await served();
  const p = await project(s, { "job.py": "print(1)\n" });
  await s.control("POST", "serverless", { enabled: false });
  const r = await p.job(["run", "job.py", "--serverless"]);
  assertEquals(r.code, 1, r.stdout + r.stderr);
  const e = r.json();
  assertEquals(e.error, "ApiError");
  assertMatch(
    String(e.message),
    /^This workspace refused a serverless run: Serverless compute is not enabled for this workspace\. Run it on a cluster/,
  );
  assertEquals(e.hint, "dbxr job run job.py --cluster-id CLUSTER_ID");
  const details = e.details as J;
  assertEquals(details.error_code, "INVALID_PARAMETER_VALUE");
  assertStringIncludes(JSON.stringify(details.next_steps), "enable serverless compute");
  assertEquals(s.emulator.control.jobRuns().runs.length, 0);
});

Deno.test("--serverless conflicts with cluster flags; --dependency needs --serverless (InvalidArgument)", async () => {
  await using s = await served();
  const p = await project(s, { "job.py": "print(1)\n" });
  const a = await p.job([
    "run",
    "job.py",
    "--serverless",
    "--cluster-id",
    "0123-456789-abcdefgh",
    "--template",
    "x",
  ]);
  assertEquals([a.code, a.json().error], [2, "InvalidArgument"]);
  assertStringIncludes(String(a.json().message), "--cluster-id, --template");
  const b = await p.job(["run", "job.py", "--serverless", "--env", "A=1"]);
  assertEquals([b.code, b.json().error], [2, "InvalidArgument"]);
  const c = await p.job(["run", "job.py", "--dependency", "pandas"]);
  assertEquals([c.code, c.json().error], [2, "InvalidArgument"]);
  const d = await p.job(["run", "job.py", "--serverless", "--environment-version", "four"]);
  assertEquals([d.code, d.json().error], [2, "InvalidArgument"]);
  assertEquals(s.emulator.control.jobRuns().runs.length, 0);
});

Deno.test("job check --serverless: no access-mode rule, a cluster spec is an error, %pip suggests --dependency", async () => {
  await using s = await served();
  const script = "%pip install databricks-langchain\n" +
    "import mlflow\nfrom databricks_langchain import ChatDatabricks\n" +
    "sig = mlflow.models.infer_signature({'a': 1}, {'b': 2})\n" +
    "mlflow.register_model('runs:/abc/model', 'main.agents.m', signature=sig)\n";
  const spec = JSON.stringify({
    new_cluster: { spark_version: "16.4.x-ml-scala2.12", spark_env_vars: { A: "1" } },
  });
  const p = await project(s, { "agent.py": script, "cluster.json": spec });
  const classic = await p.job(["check", "agent.py", "--cluster-spec", "cluster.json"]);
  const classicRules = (classic.json().findings as J[]).map((f) => f.rule);
  assert(
    classicRules.includes("uc-access-mode") && classicRules.includes("spark-version-cpu"),
    classic.stdout,
  );

  const r = await p.job(["check", "agent.py", "--cluster-spec", "cluster.json", "--serverless"]);
  assertEquals(r.code, 1, r.stdout);
  const findings = r.json().findings as J[];
  const rules = findings.map((f) => f.rule);
  assert(!rules.includes("uc-access-mode") && !rules.includes("spark-version-cpu"), r.stdout);
  assertEquals(findings.filter((f) => f.rule === "serverless-cluster-spec").length, 2);
  const pip = findings.find((f) => f.rule === "pip-magic")!;
  assertEquals(pip.command, "dbxr job run agent.py --serverless --dependency databricks-langchain");
  assert(rules.includes("serverless-unity-catalog"));

  // The dependency given: the agents-deps warning goes, the %pip line stays an error.
  const d = await p.job(["check", "agent.py", "--serverless", "--dependency", "databricks-langchain"]);
  const dRules = (d.json().findings as J[]).map((f) => f.rule);
  assert(!dRules.includes("databricks-agents-deps") && dRules.includes("pip-magic"), d.stdout);
});

Deno.test(
  "--serverless against the emulator run under its own permission flags (python3 is all it may start)",
  {
    ignore: Deno.build.os === "windows",
  },
  async () => {
    const entry = new URL("../../src/emulator/main.ts", import.meta.url).pathname;
    const emulator = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        ...permissionFlags("emulator_permission_flags.txt"),
        entry,
        "--time-scale",
        "50",
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const home = await Deno.makeTempDir({ prefix: "dbxr-serverless-scoped-" });
    try {
      const reader = emulator.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let first = "";
      while (!first.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        first += value;
      }
      reader.releaseLock();
      const { host, token } = JSON.parse(first.split("\n")[0]);
      await Deno.writeTextFile(
        `${home}/job.py`,
        "import IPython, sys\nprint('ok', sys.prefix != sys.base_prefix)\n",
      );
      const env = { HOME: home, DATABRICKS_HOST: host, DATABRICKS_TOKEN: token };
      const r = await runCli([
        "--project-dir",
        home,
        "job",
        "run",
        "job.py",
        "--serverless",
        "--dependency",
        "ipython",
      ], {
        env,
        cwd: home,
      });
      assertEquals(r.code, 0, r.stdout + r.stderr);
      const log = await Deno.readTextFile(`${home}/${(r.json().tasks as Task[])[0].log_file}`);
      assertEquals(log, "ok True\n");
    } finally {
      emulator.kill("SIGTERM");
      await emulator.status;
      await emulator.stdout.cancel().catch(() => {});
      await Deno.remove(home, { recursive: true });
    }
  },
);
