// job run's checks and answers end to end (issue 11 and logs_preview): imports of the --include tree are
// stopped before the run, every online finding is in `warnings` (and stops the run with --strict), an active
// run of the same name is named with its id and the cancel command, tasks carry logs_preview, and a script
// run without its arguments is diagnosed as such.

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { type Served, served } from "../helpers/served.ts";

type J = Record<string, unknown>;
type Finding = { rule: string; severity: string; message: string; command?: string; data?: J };
type Task = { task_key: string; log_file: string | null; logs_preview: string | null; logs_bytes: number };

async function project(s: Served, files: Record<string, string>, clusterName = "analytics") {
  const dir = await Deno.makeTempDir({ dir: s.home, prefix: "job-" });
  for (const [name, text] of Object.entries(files)) {
    await Deno.mkdir(`${dir}/${name}`.replace(/\/[^/]+$/, ""), { recursive: true });
    await Deno.writeTextFile(`${dir}/${name}`, text);
  }
  const cluster = (await s.dbxr(["find-cluster", "--name", clusterName])).json().cluster_id as string;
  const job = (args: string[], opts = {}) =>
    s.dbxr(["--project-dir", dir, "job", ...args], { cwd: dir, ...opts });
  return { dir, cluster, job };
}

const submits = async (s: Served) => (await s.counts())["POST /api/2.2/jobs/runs/submit"] ?? 0;

Deno.test("job run: an import of the --include tree is stopped before the run; --wrap waives it", async () => {
  await using s = await served();
  const p = await project(s, {
    "tools/__init__.py": "",
    "tools/helper.py": "def greet(n):\n    return f'hello {n}'\n",
    "direct.py": "from tools.helper import greet\nprint(greet('wrapped'))\n",
  });
  const before = await submits(s);
  const r = await p.job(["run", "direct.py", "--cluster-id", p.cluster, "--include", "tools"]);
  assertEquals([r.code, r.json().status], [1, "PreflightFailed"], r.stdout);
  const f = ((r.json().details as J).findings as Finding[]).find((x) => x.rule === "workspace-import")!;
  assertEquals([f.severity, f.data?.include, f.data?.module], ["error", "tools", "tools.helper"]);
  assertStringIncludes(f.message, "--wrap");
  assertEquals(await submits(s), before);
  const w = await p.job(["run", "direct.py", "--cluster-id", p.cluster, "--include", "tools", "--wrap"]);
  assertEquals([w.code, w.json().status], [0, "SUCCESS"], w.stdout + w.stderr);
  assert(!(w.json().warnings as Finding[]).some((x) => x.rule === "workspace-import"));
});

Deno.test("job run: an active run of the same name is a warning with its run id and job cancel; --strict stops", async () => {
  await using s = await served();
  const p = await project(s, { "slow.py": "import time\ntime.sleep(60)\n" });
  const first = await p.job(["run", "slow.py", "--cluster-id", p.cluster, "--no-wait"]);
  assertEquals(first.code, 0, first.stdout + first.stderr);
  const firstId = first.json().run_id as number;
  try {
    const before = await submits(s);
    const strict = await p.job(["run", "slow.py", "--cluster-id", p.cluster, "--no-wait", "--strict"]);
    assertEquals([strict.code, strict.json().status], [1, "PreflightFailed"], strict.stdout);
    assertStringIncludes(strict.json().message as string, "--strict");
    assertEquals(strict.json().hint, `dbxr job cancel ${firstId}`);
    assertEquals(await submits(s), before);

    const second = await p.job(["run", "slow.py", "--cluster-id", p.cluster, "--no-wait"]);
    assertEquals([second.code, second.json().status], [0, "submitted"], second.stdout + second.stderr);
    const active = (second.json().warnings as Finding[]).find((f) => f.rule === "active-run")!;
    assertEquals(active.severity, "warning");
    assertEquals(active.data?.run_id, firstId);
    assertEquals(active.command, `dbxr job cancel ${firstId}`);
    assertMatch(active.message, new RegExp(`run ${firstId}\\b`));
    assertStringIncludes(second.stderr, `dbxr job cancel ${firstId}`);
    await p.job(["cancel", String(second.json().run_id)]);
  } finally {
    await p.job(["cancel", String(firstId)]);
  }
});

Deno.test("job run: UC in the code on a shared cluster: access mode and schema findings, in warnings under --force", async () => {
  await using s = await served();
  const script = 'df = spark.range(3)\ndf.write.mode("overwrite").saveAsTable("main.dbxr_nowhere.daily")\n';
  const p = await project(s, { "etl.py": script }, "team-shared");
  const r = await p.job(["run", "etl.py", "--cluster-id", p.cluster]);
  assertEquals([r.code, r.json().status], [1, "PreflightFailed"], r.stdout);
  const online = (r.json().details as J).online as Finding[];
  assertEquals(online.map((f) => [f.rule, f.severity]), [["uc-access-mode", "error"], [
    "uc-schema-missing",
    "error",
  ]]);
  assertStringIncludes(online[0].message, "USER_ISOLATION");
  assertStringIncludes(online[0].message, "main.dbxr_nowhere.daily");

  const forced = await p.job(["run", "etl.py", "--cluster-id", p.cluster, "--force", "--no-wait"]);
  assertEquals(forced.code, 0, forced.stdout + forced.stderr);
  const rules = (forced.json().warnings as Finding[]).map((f) => f.rule);
  assert(rules.includes("uc-access-mode") && rules.includes("uc-schema-missing"), rules.join());
  await p.job(["cancel", String(forced.json().run_id)]);
});

Deno.test("job run/output: every task answers logs_preview, the end of its log (--preview N)", async () => {
  await using s = await served();
  const p = await project(s, {
    "loud.py": "for i in range(100):\n    print('line', i)\nprint('final: 0.93')\n",
  });
  const r = await p.job(["run", "loud.py", "--cluster-id", p.cluster]);
  assertEquals(r.code, 0, r.stdout + r.stderr);
  const t = (r.json().tasks as Task[])[0];
  const log = await Deno.readTextFile(`${p.dir}/${t.log_file}`);
  assertEquals(t.logs_preview, "..." + log.slice(-200));
  assert(t.logs_preview!.endsWith("final: 0.93\n"));
  const o = await p.job(["output", String(r.json().run_id), "--preview", "12"]);
  assertEquals(o.code, 0, o.stdout);
  assertEquals((o.json().tasks as Task[])[0].logs_preview, "...final: 0.93\n");
  const small = await p.job(["run", "loud.py", "--cluster-id", p.cluster, "--preview", "1000"]);
  assertEquals((small.json().tasks as Task[])[0].logs_preview, log);
});

Deno.test("job run: a script run without its arguments is diagnosed, with job run FILE -- ARGS", async () => {
  await using s = await served();
  const p = await project(s, {
    "argv.py": "import sys\ncatalog = sys.argv[1]\nprint(catalog)\n",
    "parsed.py":
      "import argparse\np = argparse.ArgumentParser()\np.add_argument('--catalog', required=True)\n" +
      "args = p.parse_args()\nprint(args.catalog)\n",
  });
  const a = await p.job(["run", "argv.py", "--cluster-id", p.cluster]);
  assertEquals([a.code, a.json().status], [1, "RunFailed"], a.stdout + a.stderr);
  const da = (a.json().diagnosis as J[])[0];
  assertEquals([da.id, da.command], ["missing-arguments", "dbxr job run argv.py -- ARGS"]);
  const b = await p.job(["run", "parsed.py", "--cluster-id", p.cluster]);
  assertEquals([b.code, b.json().status], [1, "RunFailed"], b.stdout + b.stderr);
  const db = (b.json().diagnosis as J[])[0];
  assertEquals(
    [db.id, db.command],
    ["missing-arguments", "dbxr job run parsed.py -- --catalog VALUE"],
    JSON.stringify(b.json()),
  );
  // With them, it runs.
  const ok = await p.job(["run", "parsed.py", "--cluster-id", p.cluster, "--", "--catalog", "main"]);
  assertEquals(ok.code, 0, ok.stdout + ok.stderr);
});

Deno.test("job check --runtime: an ML key without -cpu- is an error, as in a cluster spec", async () => {
  await using s = await served();
  const p = await project(s, { "hello.py": "print('hello')\n" });
  const r = await p.job(["check", "hello.py", "--runtime", "16.4.x-ml-scala2.12"]);
  assertEquals(r.code, 1, r.stdout);
  const f = (r.json().findings as Finding[]).find((x) => x.rule === "spark-version-cpu")!;
  assertEquals([f.severity, f.data?.suggested], ["error", "16.4.x-cpu-ml-scala2.12"]);
  assertEquals((await p.job(["check", "hello.py", "--runtime", "16.4.x-cpu-ml-scala2.12"])).code, 0);
});

Deno.test("job diagnose: the runtime comes from the run's cluster, so model_validator names 15.4 only there", async () => {
  await using s = await served();
  const p = await project(s, {
    "pyd.py":
      "raise ImportError(\"cannot import name 'model_validator' from 'pydantic' (/x/pydantic.so)\")\n",
  });
  const r = await p.job(["run", "pyd.py", "--cluster-id", p.cluster]);
  assertEquals([r.code, r.json().status], [1, "RunFailed"], r.stdout + r.stderr);
  const d = await p.job(["diagnose", String(r.json().run_id)]);
  const pyd = (d.json().diagnosis as J[]).find((x) => x.id === "pydantic-v1-runtime")!;
  // The analytics cluster runs 16.4 ML: the cause is a pin, not the 15.4 runtime.
  assertStringIncludes(pyd.cause as string, "16.4.x-cpu-ml-scala2.12");
  assert(!(pyd.cause as string).includes("15.4"), pyd.cause as string);
});
