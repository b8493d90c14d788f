// `dbxr job check` end to end: the CLI as a subprocess under the release permission flags. No emulator:
// the check is static and local.

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { runCli } from "../helpers/cli.ts";

const BAD = `%pip install databricks-langchain
import sys, pathlib
import mlflow
base = pathlib.Path(__file__).parent
sys.path.insert(0, "/Workspace/Users/me@example.com/agents/bot")
from tools.lookup import lookup
mlflow.langchain.log_model(lc_model="/tmp/bot/agent.py", artifact_path="agent",
                           registered_model_name="main.agents.bot")
`;

const GOOD = `import os, sys, shutil
import mlflow
WORKSPACE_SRC = "/Workspace/Users/me@example.com/agents/bot"
LOCAL_DIR = "/tmp/bot"
shutil.copytree(WORKSPACE_SRC, LOCAL_DIR)
sys.path.insert(0, LOCAL_DIR)  # not __file__
signature = mlflow.models.infer_signature(model_input={"messages": []}, model_output={"choices": []})
mlflow.pyfunc.log_model(python_model=os.path.join(LOCAL_DIR, "agent.py"), artifact_path="agent",
                        signature=signature, pip_requirements=["mlflow"],
                        registered_model_name="main.agents.bot")
`;

const WARN_ONLY =
  `from langgraph.prebuilt import ToolNode\nnode = ToolNode(tools, handle_tool_errors=True)\n`;

type Report = {
  status: string;
  error?: string;
  hint?: string;
  files: string[];
  uc_targets: string[];
  findings: Array<{ rule: string; severity: string; file: string; line: number; command?: string }>;
};

async function project(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "dbxr-job-check-" });
  for (const [name, text] of Object.entries(files)) await Deno.writeTextFile(`${dir}/${name}`, text);
  return dir;
}

Deno.test("job check: a bad script is PreflightFailed (exit 1) with JSON findings", async () => {
  const dir = await project({ "log_model.py": BAD });
  try {
    const r = await runCli(["job", "check", "log_model.py"], { cwd: dir });
    assertEquals(r.code, 1, r.stderr);
    const rep = r.json<Report>();
    assertEquals([rep.status, rep.error, rep.files], ["PreflightFailed", "PreflightFailed", [
      "log_model.py",
    ]]);
    const rules = rep.findings.map((f) => `${f.severity}:${f.rule}:${f.line}`);
    for (
      const want of [
        "error:pip-magic:1",
        "error:file-dunder:4",
        "error:workspace-import:5",
        "error:uc-signature:7",
        "warning:pip-requirements:7",
        "info:langchain-schema:7",
        "info:uc-three-part-name:8",
      ]
    ) assert(rules.includes(want), `${want} in ${rules.join(", ")}`);
    assertEquals(rep.uc_targets, ["main.agents"]);
    assertEquals(rep.hint, "dbxr job run log_model.py --libraries databricks-langchain");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("job check: a good script is ok (exit 0); the UC target is reported", async () => {
  const dir = await project({ "log_model.py": GOOD });
  try {
    const r = await runCli(["job", "check", "log_model.py", "--uc"], { cwd: dir });
    assertEquals(r.code, 0, r.stdout);
    const rep = r.json<Report>();
    assertEquals(rep.status, "ok");
    assertEquals(rep.findings.map((f) => f.rule), ["uc-three-part-name"]);
    assertEquals(rep.findings[0].command, "dbxr uc ensure-schema main.agents");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("job check --strict: warnings fail too", async () => {
  const dir = await project({ "agent.py": WARN_ONLY });
  try {
    const plain = await runCli(["job", "check", "agent.py"], { cwd: dir });
    assertEquals([plain.code, plain.json<Report>().status], [0, "ok"]);
    const strict = await runCli(["job", "check", "agent.py", "--strict"], { cwd: dir });
    assertEquals([strict.code, strict.json<Report>().status], [1, "PreflightFailed"]);
    assertEquals(strict.json<Report>().findings.map((f) => f.rule), ["databricks-agents-deps"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("job check --cluster-spec --runtime: spec findings point into the spec file", async () => {
  const spec = JSON.stringify({ spark_version: "16.4.x-ml-scala2.12", num_workers: 0 }, null, 2);
  const dir = await project({ "log_model.py": GOOD, "cluster.json": spec });
  try {
    const r = await runCli(["job", "check", "log_model.py", "--cluster-spec", "cluster.json"], { cwd: dir });
    assertEquals(r.code, 1);
    const spec = r.json<Report>().findings.filter((f) => f.file === "cluster.json");
    // num_workers 0 without the single-node conf and tag is the guide's template half done.
    assertEquals(spec.map((f) => `${f.rule}:${f.line}`), [
      "spark-version-cpu:2",
      "uc-access-mode:2",
      "single-node-conf:3",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("job check --text: a findings table, why/fix/run per finding, a summary, same exit code", async () => {
  const dir = await project({ "log_model.py": BAD });
  try {
    const r = await runCli(["job", "check", "log_model.py", "--text"], { cwd: dir });
    assertEquals(r.code, 1);
    assertMatch(r.stdout, /^WHERE\s+SEVERITY\s+RULE\s+MESSAGE\n/);
    assertMatch(r.stdout, /\nlog_model\.py:4:21\s+error\s+file-dunder\s+`__file__` is not defined/);
    assertStringIncludes(r.stdout, "\nlog_model.py:4:21 file-dunder\n    why: ");
    assertStringIncludes(r.stdout, "    run: dbxr job run log_model.py --wrap");
    assertMatch(r.stdout, /\nPreflightFailed: 4 errors, \d+ warnings?, \d+ info in 1 file\n/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("job check: a missing file is FileNotFound (exit 2); a bad spec is InvalidArgument (exit 2)", async () => {
  const dir = await project({ "ok.py": "print(1)\n", "bad.json": "{not json" });
  try {
    const missing = await runCli(["job", "check", "nope.py"], { cwd: dir });
    assertEquals(missing.code, 2);
    assertEquals(missing.json().status, "FileNotFound");
    const spec = await runCli(["job", "check", "ok.py", "--cluster-spec", "bad.json"], { cwd: dir });
    assertEquals([spec.code, spec.json().status], [2, "InvalidArgument"]);
    const noSpec = await runCli(["job", "check", "ok.py", "--cluster-spec", "none.json"], { cwd: dir });
    assertEquals([noSpec.code, noSpec.json().status], [2, "FileNotFound"]);
    const runtime = await runCli(["job", "check", "ok.py", "--runtime", "latest"], { cwd: dir });
    assertEquals([runtime.code, runtime.json().status], [2, "InvalidArgument"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
