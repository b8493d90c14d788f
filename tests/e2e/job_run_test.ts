// The job runner end to end: dbxr job run/output/diagnose/cancel as a subprocess against the emulator,
// whose task runner executes scripts the way spark_python_task does.

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { type Served, served } from "../helpers/served.ts";

type J = Record<string, unknown>;
type Task = {
  task_key: string;
  result_state: string;
  log_file: string | null;
  logs_truncated: boolean;
  error: string;
};

async function project(s: Served, files: Record<string, string>) {
  const dir = await Deno.makeTempDir({ dir: s.home, prefix: "job-" });
  for (const [name, text] of Object.entries(files)) {
    await Deno.mkdir(`${dir}/${name}`.replace(/\/[^/]+$/, ""), { recursive: true });
    await Deno.writeTextFile(`${dir}/${name}`, text);
  }
  const cluster = (await s.dbxr(["find-cluster", "--name", "analytics"])).json().cluster_id as string;
  const job = (args: string[], opts = {}) =>
    s.dbxr(["--project-dir", dir, "job", ...args], { cwd: dir, ...opts });
  return { dir, cluster, job };
}

const USES_FILE = "import pathlib\nhere = pathlib.Path(__file__).parent\nprint('running from', here)\n";

Deno.test("__file__: job check stops it; --force fails on the emulator with the seed's error; diagnose explains; --wrap succeeds", async () => {
  await using s = await served();
  const p = await project(s, { "uses_file.py": USES_FILE });
  const check = await p.job(["check", "uses_file.py"]);
  assertEquals(check.code, 1, check.stdout);
  assert((check.json().findings as J[]).some((f) => f.rule === "file-dunder"));

  const refused = await p.job(["run", "uses_file.py", "--cluster-id", p.cluster]);
  assertEquals([refused.code, refused.json().status], [1, "PreflightFailed"]);

  const forced = await p.job(["run", "uses_file.py", "--cluster-id", p.cluster, "--force"]);
  assertEquals(forced.code, 1, forced.stdout + forced.stderr);
  const f = forced.json();
  assertEquals(f.status, "RunFailed");
  assertEquals(f.result_state, "FAILED");
  const task = (f.tasks as Task[])[0];
  assertMatch(
    task.error,
    /^NameError: name '__file__' is not defined\n\[Trace ID: 00-[0-9a-f]{32}-[0-9a-f]{16}-00\]$/,
  );
  assert((f.diagnosis as J[]).length > 0);
  assertStringIncludes(JSON.stringify(f.diagnosis), "--wrap");

  const d = await p.job(["diagnose", String(f.run_id)]);
  assertEquals(d.code, 0, d.stdout);
  assertStringIncludes(JSON.stringify(d.json().diagnosis), "__file__");

  // --wrap defines __file__, so the check no longer stops the run.
  const wrapped = await p.job(["run", "uses_file.py", "--cluster-id", p.cluster, "--wrap"]);
  assertEquals(wrapped.code, 0, wrapped.stdout + wrapped.stderr);
  assertEquals(wrapped.json().status, "SUCCESS");
  const log = await Deno.readTextFile(`${p.dir}/${(wrapped.json().tasks as Task[])[0].log_file}`);
  assertStringIncludes(log, "running from");
});

const HELPER = { "tools/__init__.py": "", "tools/helper.py": "def greet(n):\n    return f'hello {n}'\n" };

Deno.test("a helper package of the uploaded tree: plain import fails, copy-to-/tmp works, --wrap works", async () => {
  await using s = await served();
  const plain =
    "import sys\nsys.path.insert(0, sys.argv[1])\nfrom tools.helper import greet\nprint(greet('plain'))\n";
  const copied = "import os, shutil, sys\nsrc = sys.argv[1]\nlocal = '/tmp/dbxr_test_agent'\n" +
    "if os.path.isdir(local):\n    shutil.rmtree(local)\nshutil.copytree(src, local)\nsys.path.insert(0, local)\n" +
    "from tools.helper import greet\nprint(greet('copied'))\n";
  const direct = "from tools.helper import greet\nprint(greet('wrapped'))\n";
  const p = await project(s, { ...HELPER, "plain.py": plain, "copied.py": copied, "direct.py": direct });
  const me = (await s.dbxr(["auth", "whoami"])).json().user_name as string;
  const root = `/Workspace/Users/${me}/.dbxr/${p.dir.split("/").pop()}`;

  const a = await p.job([
    "run",
    "plain.py",
    "--cluster-id",
    p.cluster,
    "--include",
    "tools",
    "--force",
    "--",
    root,
  ]);
  assertEquals(a.code, 1, a.stdout);
  assertStringIncludes((a.json().tasks as Task[])[0].error, "No module named 'tools'");

  const b = await p.job(["run", "copied.py", "--cluster-id", p.cluster, "--include", "tools", "--", root]);
  assertEquals(b.code, 0, b.stdout + b.stderr);

  const c = await p.job(["run", "direct.py", "--cluster-id", p.cluster, "--include", "tools", "--wrap"]);
  assertEquals(c.code, 0, c.stdout + c.stderr);
  const log = await Deno.readTextFile(`${p.dir}/${(c.json().tasks as Task[])[0].log_file}`);
  assertStringIncludes(log, "hello wrapped");
});

Deno.test("a UC registration into a missing schema is stopped before submit; --ensure-schema creates it", async () => {
  await using s = await served();
  const script = "import mlflow\nimport sys\nsys.path.insert(0, '/tmp/x')\n" +
    "sig = mlflow.models.infer_signature({'a': 1}, {'b': 2})\n" +
    "mlflow.register_model('runs:/abc/model', 'main.dbxr_new_schema.my_model', signature=sig)\n";
  const p = await project(s, { "register.py": script });
  const before = await s.counts();
  const r = await p.job(["run", "register.py"]);
  assertEquals(r.code, 1, r.stdout);
  assertEquals(r.json().status, "PreflightFailed");
  assertStringIncludes(JSON.stringify(r.json()), "main.dbxr_new_schema");
  const after = await s.counts();
  assertEquals(after["POST /api/2.2/jobs/runs/submit"] ?? 0, before["POST /api/2.2/jobs/runs/submit"] ?? 0);
  const ensured = await s.dbxr(["uc", "ensure-schema", "main.dbxr_new_schema"]);
  assertEquals([ensured.code, ensured.json().created], [0, true]);
});

Deno.test("arguments after -- become argv; --no-wait returns the run id; job output fetches every task", async () => {
  await using s = await served();
  const p = await project(s, { "args.py": "import sys\nprint('argv', sys.argv[1:])\n" });
  const r = await p.job(["run", "args.py", "--cluster-id", p.cluster, "--no-wait", "--", "--n", "3"]);
  assertEquals(r.code, 0, r.stdout);
  assertEquals(r.json().status, "submitted");
  const runId = String(r.json().run_id);
  const w = await p.job(["watch", runId]);
  assertEquals(w.code, 0, w.stdout + w.stderr);
  const o = await p.job(["output", runId]);
  const log = await Deno.readTextFile(`${p.dir}/${(o.json().tasks as Task[])[0].log_file}`);
  assertEquals(log, "argv ['--n', '3']\n");
  const st = await p.job(["status", runId]);
  assertEquals(st.json().result_state, "SUCCESS");
  const list = await p.job(["list"]);
  assert((list.json() as unknown as J[]).some((x) => String(x.run_id) === runId));
});

Deno.test("a run with two tasks: job output writes both logs (by task run id)", async () => {
  await using s = await served();
  const p = await project(s, {});
  const me = (await s.dbxr(["auth", "whoami"])).json().user_name as string;
  const put = (path: string, text: string) =>
    fetch(`${s.host}/api/2.0/workspace-files/import-file${path}?overwrite=true`, {
      method: "POST",
      headers: { authorization: `Bearer ${s.emulator.token}` },
      body: text,
    }).then((r) => r.body?.cancel());
  await put(`/Users/${me}/a.py`, "print('task a')");
  await put(`/Users/${me}/b.py`, "print('task b')");
  const submit = await fetch(`${s.host}/api/2.2/jobs/runs/submit`, {
    method: "POST",
    headers: { authorization: `Bearer ${s.emulator.token}`, "content-type": "application/json" },
    body: JSON.stringify({
      run_name: "two tasks",
      tasks: ["a", "b"].map((k) => ({
        task_key: k,
        existing_cluster_id: p.cluster,
        spark_python_task: { python_file: `/Workspace/Users/${me}/${k}.py`, source: "WORKSPACE" },
      })),
    }),
  });
  const runId = String((await submit.json()).run_id);
  const w = await p.job(["watch", runId]);
  assertEquals(w.code, 0, w.stdout + w.stderr);
  const tasks = w.json().tasks as Task[];
  assertEquals(tasks.map((t) => t.task_key).sort(), ["a", "b"]);
  for (const t of tasks) {
    assertEquals(await Deno.readTextFile(`${p.dir}/${t.log_file}`), `task ${t.task_key}\n`);
  }
});

Deno.test("truncated logs are reported (logs_truncated) and the tail is kept", async () => {
  await using s = await served();
  await s.control("POST", "jobs/logs-limit", { bytes: 1000 });
  const p = await project(s, { "loud.py": "for i in range(500):\n    print('line', i)\n" });
  const r = await p.job(["run", "loud.py", "--cluster-id", p.cluster]);
  assertEquals(r.code, 0, r.stdout + r.stderr);
  const t = (r.json().tasks as Task[])[0];
  assertEquals(t.logs_truncated, true);
  const log = await Deno.readTextFile(`${p.dir}/${t.log_file}`);
  assertStringIncludes(log, "line 499");
});

Deno.test("Ctrl-C during job run cancels the run and says so (exit 130)", async () => {
  await using s = await served();
  const p = await project(s, { "slow.py": "import time\ntime.sleep(60)\n" });
  const r = await p.job(["run", "slow.py", "--cluster-id", p.cluster], {
    onSpawn: (child: Deno.ChildProcess) => setTimeout(() => child.kill("SIGINT"), 2500),
  });
  assertEquals(r.code, 130, r.stdout + r.stderr);
  assertEquals(r.json().status, "Cancelled");
  assertEquals(r.json().result_state, "CANCELED");
  assertStringIncludes(r.stderr, "cancelling the run");
});

Deno.test("a new job cluster from the default template runs the script", async () => {
  await using s = await served({ timeScale: 200 });
  const p = await project(s, { "hello.py": "print('hello from a job cluster')\n" });
  const r = await p.job(["run", "hello.py", "--new-cluster"]);
  assertEquals(r.code, 0, r.stdout + r.stderr);
  assertEquals(r.json().status, "SUCCESS");
});

Deno.test("job cancel: an ended run is NothingToCancel, an unknown one NotFound (both exit 4); bad input exit 2", async () => {
  await using s = await served();
  const p = await project(s, { "ok.py": "print('ok')\n" });
  const r = await p.job(["run", "ok.py", "--cluster-id", p.cluster]);
  assertEquals(r.code, 0, r.stdout);
  const ended = await p.job(["cancel", String(r.json().run_id)]);
  assertEquals([ended.code, ended.json().status], [4, "NothingToCancel"]);
  const unknown = await p.job(["cancel", "999999"]);
  assertEquals([unknown.code, unknown.json().status], [4, "NotFound"]);
  assertEquals((await p.job(["list", "--limit", "30"])).code, 2);
  assertEquals((await p.job(["run", "ok.py", "--timeout", "soon"])).code, 2);
  await Deno.mkdir(`${p.dir}/somedir`);
  assertEquals((await p.job(["run", "somedir", "--cluster-id", p.cluster])).code, 2);
});

Deno.test("--env sets the new cluster's environment (spark_env_vars), seen by the script", async () => {
  await using s = await served({ timeScale: 200 });
  const p = await project(s, { "env.py": "import os\nprint('FOO =', os.environ.get('FOO'))\n" });
  const r = await p.job(["run", "env.py", "--new-cluster", "--env", "FOO=bar baz"]);
  assertEquals(r.code, 0, r.stdout + r.stderr);
  const log = await Deno.readTextFile(`${p.dir}/${(r.json().tasks as Task[])[0].log_file}`);
  assertEquals(log, "FOO = bar baz\n");
  const refused = await p.job(["run", "env.py", "--cluster-id", p.cluster, "--env", "FOO=1"]);
  assertEquals(refused.code, 2, refused.stdout);
});

Deno.test("job run --cluster-id of a cluster that does not exist: ClusterNotFound (exit 4) with the find hint", async () => {
  await using s = await served();
  const p = await project(s, { "ok.py": "print('fine')\n" });
  const r = await p.job(["run", "ok.py", "--cluster-id", "0000-000000-bogus000"]);
  assertEquals(r.code, 4, r.stdout);
  assertEquals(r.json().error, "ClusterNotFound");
  assertEquals(r.json().hint, "dbxr cluster find");
});
