// Each rule of `job check` with a script that trips it and one that does not (seed 002's pitfalls).

import { assert, assertEquals, assertMatch, assertStringIncludes, assertThrows } from "../helpers/assert.ts";
import { isDbxrError } from "../../src/errors.ts";
import { packageName, parseClusterSpec, parseRuntime } from "../../src/jobs/cluster_spec.ts";
import {
  checkSparkVersionListed,
  type Finding,
  type PreflightInput,
  type RuleId,
  RULES,
  runPreflight,
} from "../../src/jobs/preflight.ts";
import { pipPackages } from "../../src/jobs/preflight_facts.ts";
import { preflightExitCode, preflightJson, preflightText } from "../../src/jobs/render.ts";

interface Opts extends Omit<PreflightInput, "files" | "clusterSpec"> {
  spec?: Record<string, unknown>;
  more?: Record<string, string>;
}

function check(source: string, o: Opts = {}) {
  const { spec, more, ...rest } = o;
  return runPreflight({
    files: [
      { path: "job.py", source },
      ...Object.entries(more ?? {}).map(([path, source]) => ({ path, source })),
    ],
    ...(spec ? { clusterSpec: parseClusterSpec("cluster.json", JSON.stringify(spec, null, 2)) } : {}),
    ...rest,
  });
}

const of = (source: string, rule: RuleId, o: Opts = {}): Finding[] =>
  check(source, o).findings.filter((f) => f.rule === rule);
const where = (fs: Finding[]) => fs.map((f) => [f.severity, f.line]);

const SEED_GOOD = `import sys, os, shutil
import mlflow

WORKSPACE_SRC = "/Workspace/Users/you@company.com/agents/my_agent"
LOCAL_DIR = "/tmp/my_agent"
if os.path.isdir(LOCAL_DIR):
    shutil.rmtree(LOCAL_DIR)
shutil.copytree(WORKSPACE_SRC, LOCAL_DIR)
sys.path.insert(0, LOCAL_DIR)
from agent import GRAPH

signature = mlflow.models.infer_signature(
    model_input={"messages": [{"role": "user", "content": "hello"}]},
    model_output={"choices": [{"message": {"role": "assistant", "content": "response"}, "index": 0}]},
)
REGISTERED_MODEL_NAME = "main.agents.my_agent"
agent_file = os.path.join(LOCAL_DIR, "agent.py")
with mlflow.start_run():
    model_info = mlflow.pyfunc.log_model(
        python_model=agent_file,
        artifact_path="agent",
        signature=signature,
        pip_requirements=["mlflow[databricks]>=2.10.0", "databricks-langchain", "langgraph>=0.3.4"],
        registered_model_name=REGISTERED_MODEL_NAME,
    )
`;
const SINGLE_USER = { spark_version: "16.4.x-cpu-ml-scala2.12", data_security_mode: "SINGLE_USER" };

Deno.test("the seed's own log-and-register pattern passes every rule (one info: the UC target)", () => {
  const r = check(SEED_GOOD, { spec: SINGLE_USER, uc: true, strict: true });
  assertEquals(r.findings.map((f) => f.rule), ["uc-three-part-name"]);
  assertEquals([r.status, r.uc_targets], ["ok", ["main.agents"]]);
});

Deno.test("rules: every rule has an id, the seed's explanation and a fix; ids are unique", () => {
  assertEquals(new Set(RULES.map((r) => r.id)).size, RULES.length);
  for (const r of RULES) {
    assert(r.explanation.length > 40 && r.fix.length > 10 && r.seed.length > 5, r.id);
  }
});

Deno.test("file-dunder: __file__ in code and f-strings fails; comments, strings and mod.__file__ do not", () => {
  const bad = of(
    `from pathlib import Path
script_dir = Path(__file__).parent
msg = f"running {__file__!r}"
def here():
    return os.path.dirname(
        __file__)
`,
    "file-dunder",
  );
  assertEquals(where(bad), [["error", 2], ["error", 3], ["error", 6]]);
  assertEquals(bad[0].column, 19);
  assertEquals(bad[0].command, "dbxr job run job.py --wrap");
  assertEquals(
    of(
      `# never use __file__ here
WORKSPACE_BASE = "/Workspace/Users/you@company.com/agents/my_agent"
note = "__file__ is undefined in spark_python_task"
doc = """__file__"""
where = mlflow.__file__
lit = f"{{__file__}} is text"
`,
      "file-dunder",
    ),
    [],
  );
});

Deno.test("file-dunder: behind a NameError guard it is a warning", () => {
  const guarded = of(
    `try:
    base = Path(__file__).parent
except NameError:
    base = Path("/Workspace/Users/me/agent")
`,
    "file-dunder",
  );
  assertEquals(where(guarded), [["warning", 2]]);
});

Deno.test("workspace-import: a /Workspace/ path on sys.path followed by imports fails", () => {
  const literal = of(
    `import sys
sys.path.insert(0, "/Workspace/Users/me/agents/my_agent")
from tools.my_tool import my_function
`,
    "workspace-import",
  );
  assertEquals(where(literal), [["error", 2]]);
  assertMatch(literal[0].message, /No module named 'tools'/);
  // Through a constant, pathlib and os.path.join; append and site.addsitedir count too.
  const indirect = of(
    `import sys, os, pathlib
BASE = "/Workspace/Users/me/agents/my_agent"
root = pathlib.Path(BASE)
sys.path.append(str(root))
import agent
sys.path.insert(0, os.path.join(BASE, "lib"))
import helpers
`,
    "workspace-import",
  );
  assertEquals(where(indirect), [["error", 4], ["error", 6]]);
  // Logging a model file straight from /Workspace/.
  const logged = of(
    `BASE = f"/Workspace/Users/{user}/agent"
mlflow.langchain.log_model(lc_model=BASE + "/agent.py", artifact_path="agent")
`,
    "workspace-import",
  );
  assertEquals(where(logged), [["error", 2]]);
});

Deno.test("workspace-import: the copy-to-/tmp pattern passes; a leftover or idle /Workspace/ entry warns", () => {
  assertEquals(of(SEED_GOOD, "workspace-import"), []);
  const leftover = of(
    `WS = "/Workspace/Users/me/agent"
LOCAL = "/tmp/agent"
shutil.copytree(WS, LOCAL)
sys.path.insert(0, LOCAL)
sys.path.insert(0, WS)
import agent
`,
    "workspace-import",
  );
  assertEquals(where(leftover), [["warning", 5]]);
  assertEquals(where(of(`sys.path.insert(0, "/Workspace/x")\nimport os, mlflow\n`, "workspace-import")), [
    ["warning", 1],
  ]);
});

Deno.test("syspath-after-log-model: log_model before sys.path.insert, or a code model with no sys.path", () => {
  const before = of(
    `mlflow.pyfunc.log_model(
    python_model="/tmp/agent/agent.py",
    artifact_path="agent",
)
sys.path.insert(0, "/tmp/agent")
`,
    "syspath-after-log-model",
  );
  assertEquals(where(before), [["error", 1]]);
  assertMatch(before[0].message, /line 5/);
  const none = of(
    `mlflow.langchain.log_model(lc_model="agent.py", code_paths=["tools"], artifact_path="a")`,
    "syspath-after-log-model",
  );
  assertEquals(where(none), [["error", 1]]);
  // An aliased import is the same call.
  const aliased = of(
    `from mlflow import pyfunc as pf\npf.log_model(python_model="agent.py", artifact_path="a")\n`,
    "syspath-after-log-model",
  );
  assertEquals(where(aliased), [["error", 2]]);
});

Deno.test("syspath-after-log-model: passes with sys.path first, or an in-memory model", () => {
  assertEquals(of(SEED_GOOD, "syspath-after-log-model"), []);
  assertEquals(
    of(`mlflow.sklearn.log_model(model, artifact_path="m")\n`, "syspath-after-log-model"),
    [],
  );
});

Deno.test("uc-signature: registering to UC without signature= fails", () => {
  const kw = of(
    `mlflow.langchain.log_model(lc_model=f, artifact_path="a", registered_model_name="main.s.m",
    input_example={"messages": []})`,
    "uc-signature",
  );
  assertEquals(where(kw), [["error", 1]]);
  // register_model of a model logged without signature, in another file of the same job.
  const two = check(`mlflow.register_model(info.model_uri, "main.s.m")\n`, {
    more: { "log.py": `info = mlflow.pyfunc.log_model(python_model=m, artifact_path="a")\n` },
  }).findings.filter((f) => f.rule === "uc-signature");
  assertEquals(two.map((f) => [f.file, f.line]), [["log.py", 1]]);
  const none = of(
    `mlflow.pyfunc.log_model(python_model=m, signature=None, registered_model_name=N)`,
    "uc-signature",
  );
  assertEquals(where(none), [["error", 1]]);
});

Deno.test("uc-signature: passes with signature=, without registration, or for a workspace-registry name", () => {
  assertEquals(of(SEED_GOOD, "uc-signature"), []);
  assertEquals(of(`mlflow.pyfunc.log_model(python_model=m, artifact_path="a")`, "uc-signature"), []);
  assertEquals(
    of(`mlflow.pyfunc.log_model(python_model=m, registered_model_name="bot")`, "uc-signature"),
    [],
  );
  assertEquals(
    of(`mlflow.pyfunc.log_model(python_model=m, **kw, registered_model_name="a.b.c")`, "uc-signature"),
    [],
  );
  // …but a two-part name with --uc or the UC registry does go to UC.
  const uc = of(
    `mlflow.set_registry_uri("databricks-uc")\nmlflow.pyfunc.log_model(python_model=m, registered_model_name="s.bot")`,
    "uc-signature",
  );
  assertEquals(where(uc), [["error", 2]]);
});

Deno.test("langchain-name-kwarg: name= on MLflow 2 warns; the runtime picks the message", () => {
  const src = `mlflow.langchain.log_model(lc_model="agent.py", name="agent")\n`;
  const on164 = of(src, "langchain-name-kwarg", { runtime: "16.4" });
  assertEquals(where(on164), [["warning", 1]]);
  assertMatch(on164[0].message, /fails on runtime 16\.4 \(MLflow 2, from --runtime\): use artifact_path=/);
  const unknown = of(src, "langchain-name-kwarg");
  assertMatch(unknown[0].message, /only on MLflow 3/);
  const fromSpec = of(src, "langchain-name-kwarg", { spec: { spark_version: "15.4.x-cpu-ml-scala2.12" } });
  assertMatch(fromSpec[0].message, /15\.4 \(MLflow 2, from cluster spec\)/);
  assertEquals(of(src, "langchain-name-kwarg", { runtime: "17.3" }), []);
  // On MLflow 3 the old keyword is only deprecated.
  const old = of(`mlflow.langchain.log_model(lc_model="a.py", artifact_path="a")`, "langchain-name-kwarg", {
    runtime: "17.3.x-cpu-ml-scala2.13",
  });
  assertEquals(where(old), [["info", 1]]);
  assertEquals(
    of(`mlflow.langchain.log_model(lc_model="a.py", artifact_path="a")`, "langchain-name-kwarg"),
    [],
  );
});

Deno.test("toolnode-errors: ToolNode without handle_tool_errors=True warns", () => {
  const bad = of(
    `from langgraph.prebuilt import ToolNode
tool_node = ToolNode(
    ALL_TOOLS,
)
other = prebuilt.ToolNode(ALL_TOOLS, handle_tool_errors=False)
`,
    "toolnode-errors",
  );
  assertEquals(where(bad), [["warning", 2], ["warning", 5]]);
  assertEquals(
    of(
      `from langgraph.prebuilt import ToolNode as TN\nnode = TN(ALL_TOOLS, handle_tool_errors=True)\n# ToolNode(x)\n`,
      "toolnode-errors",
    ),
    [],
  );
});

Deno.test("pip-requirements: log_model without pip_requirements, or missing an imported package, warns", () => {
  assertEquals(where(of(`mlflow.pyfunc.log_model(python_model=m, artifact_path="a")`, "pip-requirements")), [
    ["warning", 1],
  ]);
  const missing = check(
    `REQS = ["mlflow", "databricks-langchain"]\nmlflow.pyfunc.log_model(python_model=m, pip_requirements=REQS)\n`,
    {
      more: { "agent.py": "from langgraph.graph import StateGraph\nimport databricks_langchain\n" },
    },
  ).findings.filter((f) => f.rule === "pip-requirements");
  assertEquals(missing.map((f) => f.data), [{ missing: ["langgraph"] }]);
  assertEquals(of(SEED_GOOD, "pip-requirements"), []);
  assertEquals(
    of(`mlflow.pyfunc.log_model(python_model=m, pip_requirements=read_reqs())`, "pip-requirements"),
    [],
  );
});

Deno.test("pip-magic: %pip / %%pip / !pip lines fail with a --libraries command; the rest still parses", () => {
  const src = `%pip install databricks-langchain "langgraph>=0.3.4" -q
%%pip install -r requirements.txt databricks-agents
!pip install langchain-core
import sys
p = Path(__file__)
`;
  const r = check(src);
  const pip = r.findings.filter((f) => f.rule === "pip-magic");
  assertEquals(where(pip), [["error", 1], ["error", 2], ["error", 3]]);
  assertEquals(pip[0].command, "dbxr job run job.py --libraries 'databricks-langchain,langgraph>=0.3.4'");
  assertEquals(pip[1].data, { packages: ["databricks-agents"] });
  // The %pip lines did not swallow the code after them.
  assertEquals(where(r.findings.filter((f) => f.rule === "file-dunder")), [["error", 5]]);
});

Deno.test("pip-magic: `# MAGIC %pip` in a notebook export warns; a plain comment does not", () => {
  const nb = of(`# Databricks notebook source\n# MAGIC %pip install langgraph\n`, "pip-magic");
  assertEquals(where(nb), [["warning", 2]]);
  assertEquals(of(`# run %pip install x in a notebook first\nx = 5 % 2\n`, "pip-magic"), []);
});

Deno.test("magic-line: other magics fail; the modulo operator does not", () => {
  assertEquals(where(of(`%sh ls /dbfs\n!ls -la\n%run ./setup\n`, "magic-line")), [
    ["error", 1],
    ["error", 2],
    ["error", 3],
  ]);
  assertEquals(of(`x = a % b\ny = (a\n% b)\n`, "magic-line"), []);
});

Deno.test("notebook-source: the notebook header warns", () => {
  assertEquals(where(of(`# Databricks notebook source\nprint(1)\n`, "notebook-source")), [["warning", 1]]);
  assertEquals(of(`print(1)  # Databricks notebook source\n`, "notebook-source"), []);
});

Deno.test("uc-access-mode: a UC job on a cluster spec without SINGLE_USER fails", () => {
  const missing = of(SEED_GOOD, "uc-access-mode", { spec: { spark_version: "16.4.x-cpu-ml-scala2.12" } });
  assertEquals(missing.map((f) => [f.file, f.line, f.severity]), [["cluster.json", 2, "error"]]);
  assertMatch(missing[0].message, /no data_security_mode.*job\.py registers to Unity Catalog/);
  const shared = of(`print(1)`, "uc-access-mode", {
    uc: true,
    spec: { tasks: [{ task_key: "t", new_cluster: { data_security_mode: "USER_ISOLATION" } }] },
  });
  assertEquals(shared.map((f) => f.message), [
    'tasks[0].new_cluster has data_security_mode "USER_ISOLATION", not SINGLE_USER (with --uc)',
  ]);
  assertEquals(shared[0].line, 6);
});

Deno.test("uc-access-mode: SINGLE_USER, DEDICATED, or no UC at all pass", () => {
  assertEquals(of(SEED_GOOD, "uc-access-mode", { spec: SINGLE_USER }), []);
  assertEquals(
    of(SEED_GOOD, "uc-access-mode", {
      spec: { new_cluster: { data_security_mode: "DATA_SECURITY_MODE_DEDICATED" } },
    }),
    [],
  );
  assertEquals(of(`print(1)`, "uc-access-mode", { spec: { spark_version: "16.4.x-cpu-ml-scala2.12" } }), []);
});

Deno.test("spark-version-cpu: an ML key without -cpu-/-gpu- fails with the corrected key", () => {
  const bad = of(`print(1)`, "spark-version-cpu", { spec: { spark_version: "16.4.x-ml-scala2.12" } });
  assertEquals(bad.map((f) => [f.file, f.line, f.column]), [["cluster.json", 2, 20]]);
  assertEquals(bad[0].data, { spark_version: "16.4.x-ml-scala2.12", suggested: "16.4.x-cpu-ml-scala2.12" });
  assertEquals(bad[0].command, "dbxr cluster spark-versions --filter cpu-ml");
  for (const v of ["16.4.x-cpu-ml-scala2.12", "16.4.x-gpu-ml-scala2.12", "16.4.x-scala2.12"]) {
    assertEquals(of(`print(1)`, "spark-version-cpu", { spec: { spark_version: v } }), [], v);
  }
});

Deno.test("checkSparkVersionListed: the online hook for job run", () => {
  const keys = [
    "16.4.x-scala2.12",
    "16.4.x-cpu-ml-scala2.12",
    "16.4.x-gpu-ml-scala2.12",
    "15.4.x-cpu-ml-scala2.12",
  ];
  assertEquals(checkSparkVersionListed("16.4.x-cpu-ml-scala2.12", keys), undefined);
  const f = checkSparkVersionListed("16.4.x-ml-scala2.12", keys, {
    file: "cluster.json",
    line: 2,
    column: 20,
  })!;
  assertEquals([f.rule, f.severity, f.file, f.line], ["spark-version-unlisted", "error", "cluster.json", 2]);
  assertEquals(f.data, { spark_version: "16.4.x-ml-scala2.12", suggested: "16.4.x-cpu-ml-scala2.12" });
  assertEquals(checkSparkVersionListed("99.1.x-scala2.12", keys)!.data, {
    spark_version: "99.1.x-scala2.12",
  });
});

Deno.test("runtime-15-4-pydantic: databricks-langchain on 15.4 warns; on 16.4 it does not", () => {
  const spec = {
    spark_version: "15.4.x-cpu-ml-scala2.12",
    libraries: [{ pypi: { package: "databricks-langchain==0.4.0" } }],
  };
  const fromSpec = of(`print(1)`, "runtime-15-4-pydantic", { spec });
  assertEquals(fromSpec.map((f) => [f.file, f.line, f.severity]), [["cluster.json", 2, "warning"]]);
  const fromImport = of(`from databricks_langchain import ChatDatabricks\n`, "runtime-15-4-pydantic", {
    runtime: "15.4 LTS ML",
  });
  assertEquals(fromImport.map((f) => [f.file, f.line]), [["job.py", 1]]);
  assertEquals(
    of(`from databricks_langchain import ChatDatabricks\n`, "runtime-15-4-pydantic", { runtime: "16.4" }),
    [],
  );
  assertEquals(of(`print(1)`, "runtime-15-4-pydantic", { runtime: "15.4" }), []);
});

Deno.test("langchain-schema: mlflow.langchain.log_model on 16.4 warns, unknown runtime notes, 17.3 passes", () => {
  const src = `mlflow.langchain.log_model(lc_model="agent.py", artifact_path="agent")\n`;
  assertEquals(where(of(src, "langchain-schema", { runtime: "16.4" })), [["warning", 1]]);
  assertEquals(where(of(src, "langchain-schema")), [["info", 1]]);
  assertEquals(of(src, "langchain-schema", { runtime: "17.3" }), []);
  assertEquals(of(SEED_GOOD, "langchain-schema", { runtime: "16.4" }), []);
});

Deno.test("databricks-agents-deps: agent packages not in the cluster's libraries warn with a --libraries command", () => {
  const src = `from databricks_langchain import ChatDatabricks
from langgraph.graph import StateGraph
from databricks import agents
import databricks.sdk
`;
  const bad = of(src, "databricks-agents-deps");
  assertEquals(where(bad), [["warning", 1]]);
  assertEquals(bad[0].data, { packages: ["databricks-langchain", "langgraph", "databricks-agents"] });
  assertEquals(
    bad[0].command,
    "dbxr job run job.py --libraries databricks-langchain,langgraph,databricks-agents",
  );
  const spec = {
    ...SINGLE_USER,
    libraries: ["databricks-langchain", "langgraph>=0.3.4", "databricks_agents"].map((p) => ({
      pypi: { package: p },
    })),
  };
  assertEquals(of(src, "databricks-agents-deps", { spec }), []);
  assertEquals(
    of(`import mlflow\nfrom databricks.sdk import WorkspaceClient\n`, "databricks-agents-deps"),
    [],
  );
});

Deno.test("uc-three-part-name: the catalog.schema registered into, from literals, constants and f-strings", () => {
  const r = check(`CATALOG = "main"
SCHEMA = "agents"
mlflow.register_model(model_uri=uri, name=f"{CATALOG}.{SCHEMA}.bot")
mlflow.register_model(uri, "dev.tools.helper")
`);
  const infos = r.findings.filter((f) => f.rule === "uc-three-part-name");
  assertEquals(infos.map((f) => [f.severity, f.line, f.command]), [
    ["info", 3, "dbxr uc ensure-schema main.agents"],
    ["info", 4, "dbxr uc ensure-schema dev.tools"],
  ]);
  assertEquals(infos[0].data, { catalog: "main", schema: "agents", model: "bot", name: "main.agents.bot" });
  assertEquals(r.uc_targets, ["main.agents", "dev.tools"]);
  assertEquals(check(`mlflow.register_model(uri, "bot")\nmlflow.register_model(uri, name)\n`).uc_targets, []);
});

Deno.test("status: errors fail; warnings fail only with --strict; info never", () => {
  const warnOnly = `node = ToolNode(tools)\n`;
  assertEquals(check(warnOnly).status, "ok");
  assertEquals(check(warnOnly, { strict: true }).status, "PreflightFailed");
  assertEquals(check(`p = __file__\n`).status, "PreflightFailed");
  assertEquals(check(`mlflow.register_model(uri, "a.b.c")\n`, { strict: true }).status, "ok");
  assertEquals(check(warnOnly).counts, { error: 0, warning: 1, info: 0 });
});

Deno.test("findings are sorted by file (in argument order), line and column", () => {
  const r = check(`x = ToolNode(t)\np = __file__\n`, { more: { "a.py": "q = __file__\n" } });
  assertEquals(r.findings.map((f) => `${f.file}:${f.line}`), ["job.py:1", "job.py:2", "a.py:1"]);
  assertEquals(r.files, ["job.py", "a.py"]);
});

Deno.test("render: JSON carries status, error and hint when failed; text is a findings table, then why/fix/run per finding", () => {
  const failed = check(`%pip install langgraph\np = __file__\n`);
  const json = preflightJson(failed);
  assertEquals([json.status, json.error, json.hint], [
    "PreflightFailed",
    "PreflightFailed",
    "dbxr job run job.py --libraries langgraph",
  ]);
  assertEquals(Object.keys(json.findings[0]).sort(), [
    "column",
    "command",
    "data",
    "explanation",
    "file",
    "fix",
    "line",
    "message",
    "rule",
    "severity",
  ]);
  assertEquals(preflightExitCode(failed), 1);
  const text = preflightText(json);
  assertEquals(text.split("\n").slice(0, 3), [
    "WHERE       SEVERITY  RULE         MESSAGE",
    "job.py:1:1  error     pip-magic    `%pip install langgraph` is a SyntaxError in a Python file task",
    "job.py:2:5  error     file-dunder  `__file__` is not defined in a spark_python_task (NameError)",
  ]);
  assertStringIncludes(text, "\njob.py:2:5 file-dunder\n    why: Databricks runs spark_python_task");
  assertStringIncludes(text, "    fix: Use a path constant");
  assertStringIncludes(text, "    run: dbxr job run job.py --wrap");
  assert(!text.includes("**"), "markdown emphasis is stripped");
  assertStringIncludes(text, "PreflightFailed: 2 errors, 0 warnings, 0 info in 1 file");

  const ok = preflightJson(check(`print("hello")\n`));
  assertEquals([ok.status, ok.error, ok.message, preflightExitCode(ok)], [
    "ok",
    undefined,
    "no problems found in 1 file",
    0,
  ]);
  assertEquals(preflightText(ok), "ok: no problems found in 1 file\n");
});

Deno.test("cluster spec: invalid JSON is InvalidArgument; shapes and libraries are read", () => {
  assertThrows(() => parseClusterSpec("c.json", "{nope"), (e) => assert(isDbxrError(e, "InvalidArgument")));
  assertThrows(() => parseClusterSpec("c.json", "[1]"), (e) => assert(isDbxrError(e, "InvalidArgument")));
  const s = parseClusterSpec(
    "job.json",
    JSON.stringify({
      job_clusters: [{ new_cluster: { spark_version: "a" } }],
      tasks: [{ libraries: [{ pypi: { package: "Databricks_LangChain[x]>=1" } }, { whl: "x.whl" }] }],
      environments: [{ spec: { dependencies: ["langgraph==0.3"] } }],
    }),
  );
  assertEquals(s.clusters, [{ where: "job_clusters[0].new_cluster", spark_version: "a" }]);
  assertEquals(s.libraries, ["databricks-langchain", "langgraph"]);
  assertEquals(packageName("mlflow[databricks]>=2.10.0"), "mlflow");
});

Deno.test("parseRuntime and pipPackages", () => {
  assertEquals(parseRuntime("16.4.x-cpu-ml-scala2.12"), { major: 16, minor: 4, ml: true, label: "16.4" });
  assertEquals(parseRuntime("16.4 LTS ML"), { major: 16, minor: 4, ml: true, label: "16.4" });
  assertEquals(parseRuntime("17.3.x-scala2.13"), { major: 17, minor: 3, ml: false, label: "17.3" });
  assertEquals(parseRuntime("18"), { major: 18, minor: 0, label: "18.0" });
  assertEquals(parseRuntime("latest"), undefined);
  assertEquals(pipPackages("%pip install -q --upgrade a 'b>=1' -r req.txt --index-url https://x c"), [
    "a",
    "b>=1",
    "c",
  ]);
  assertEquals(pipPackages("%pip list"), []);
});

Deno.test("file-dunder: an attribute __file__ in an f-string is not the bare name; a guard elsewhere excuses nothing", () => {
  assertEquals(of('import mlflow\nprint(f"mlflow at {mlflow.__file__}")\n', "file-dunder"), []);
  const unrelated = "try:\n    spark\nexcept NameError:\n    spark = None\n\n\n\n\n\n\n\nimport pathlib\n" +
    "HERE = pathlib.Path(__file__).parent\n";
  assertEquals(where(of(unrelated, "file-dunder")), [["error", 13]]);
  const guarded =
    "import pathlib\ntry:\n    HERE = pathlib.Path(__file__).parent\nexcept NameError:\n    HERE = None\n";
  assertEquals(where(of(guarded, "file-dunder")), [["warning", 3]]);
});
