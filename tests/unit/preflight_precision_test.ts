// The details of issue 11's rules that the corpus does not pin down: what uc_targets/uc_objects hold, the
// execution-order judgement of syspath-after-log-model, the severities of fallbacks, the messages.

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { parseClusterSpec } from "../../src/jobs/cluster_spec.ts";
import { type PreflightInput, type RuleId, runPreflight } from "../../src/jobs/preflight.ts";
import { preflightJson, preflightText } from "../../src/jobs/render.ts";
import { blocksOf, compareTimes, execTime } from "../../src/jobs/pyblocks.ts";
import { parseModule } from "../../src/jobs/pycalls.ts";

interface Opts extends Omit<PreflightInput, "files" | "clusterSpec"> {
  spec?: Record<string, unknown>;
}

function check(source: string, o: Opts = {}) {
  const { spec, ...rest } = o;
  return runPreflight({
    files: [{ path: "job.py", source }],
    ...(spec ? { clusterSpec: parseClusterSpec("cluster.json", JSON.stringify(spec, null, 2)) } : {}),
    ...rest,
  });
}
const of = (source: string, rule: RuleId, o: Opts = {}) =>
  check(source, o).findings.filter((f) => f.rule === rule);
const where = (fs: { severity: string; line: number }[]) => fs.map((f) => [f.severity, f.line]);

Deno.test("file-dunder: globals()/vars()/locals() reach the same missing name; fallbacks and guards warn", () => {
  const src = `import os, pathlib
a = globals()["__file__"]
b = vars()['__file__']
c = locals()["__file__"]
d = pathlib.Path(globals().get("__file__"))
e = globals().get("__file__", "/Workspace/Users/me/agent")
f = globals().get("__file__") or "/Workspace/Users/me/agent"
g = globals().get("__file__")
try:
    h = globals()["__file__"]
except KeyError:
    h = "/Workspace/Users/me/agent"
x = globals()["spark"]
y = mod.globals()["__file__"]
`;
  const fs = of(src, "file-dunder");
  assertEquals(where(fs), [
    ["error", 2],
    ["error", 3],
    ["error", 4],
    ["error", 5],
    ["warning", 6],
    ["warning", 7],
    ["warning", 8],
    ["warning", 10],
  ]);
  assertMatch(fs[0].message, /KeyError/);
  assertMatch(fs[3].message, /TypeError/);
  assertEquals(fs[0].command, "dbxr job run job.py --wrap");
});

Deno.test("uc: uc_targets lists the schemas, uc_objects what touches UC and where", () => {
  const r = check(`CAT = "main"
df.write.saveAsTable("main.sales.daily")
spark.read.table(f"{CAT}.hr.people")
spark.sql("MERGE INTO \`dev\`.\`ops\`.\`t\` USING src ON 1=1")
spark.sql(f"SELECT * FROM {catalog}.x.y")
DeltaTable.forName(spark, "main.sales.orders")
open("/Volumes/main/raw/files/a.csv")
spark.sql("CREATE SCHEMA IF NOT EXISTS main.tools")
spark.table("hive_metastore.default.t")
spark.table("two.part")
mlflow.register_model(uri, "main.agents.bot")
`);
  assertEquals(r.uc_targets, ["main.agents", "main.sales", "main.hr", "dev.ops", "main.raw", "main.tools"]);
  assertEquals(
    r.uc_objects.map((o) => [o.kind, o.name, o.schema ?? null, o.via, o.line]),
    [
      ["table", "main.sales.daily", "main.sales", "saveAsTable", 2],
      ["table", "main.hr.people", "main.hr", "table", 3],
      ["table", "dev.ops.t", "dev.ops", "spark.sql", 4],
      ["table", "{catalog}.x.y", null, "spark.sql", 5],
      ["table", "main.sales.orders", "main.sales", "forName", 6],
      ["volume", "/Volumes/main/raw/files/a.csv", "main.raw", "string", 7],
      ["schema", "main.tools", "main.tools", "spark.sql", 8],
      ["model", "main.agents.bot", "main.agents", "registered_model_name", 11],
    ],
  );
  const j = preflightJson(r);
  assertEquals(j.uc_objects.length, 8);
  assertStringIncludes(preflightText(j), "Unity Catalog schemas: main.agents, main.sales");
});

Deno.test("uc-access-mode: tables and volumes need SINGLE_USER; the message says what touches UC", () => {
  const shared = { spark_version: "16.4.x-cpu-ml-scala2.12", data_security_mode: "USER_ISOLATION" };
  const t = of('df.write.saveAsTable("main.sales.daily")\n', "uc-access-mode", { spec: shared });
  assertEquals(where(t), [["error", 3]]);
  assertMatch(t[0].message, /job\.py uses table main\.sales\.daily via saveAsTable \(line 1\)/);
  const v = of('import os\nos.listdir(f"/Volumes/{c}/raw/files")\n', "uc-access-mode", { spec: shared });
  assertMatch(v[0].message, /uses volume/);
  // Not UC: nothing to say on the shared cluster.
  assertEquals(of('spark.table("hive_metastore.default.t")\n', "uc-access-mode", { spec: shared }), []);
  assertEquals(
    of('df.write.saveAsTable("main.sales.daily")\n', "uc-access-mode", {
      spec: { ...shared, data_security_mode: "DATA_SECURITY_MODE_DEDICATED" },
    }),
    [],
  );
});

Deno.test("spark-version-cpu: --runtime is checked like the spec, once when both name the same key", () => {
  const flag = of("print(1)\n", "spark-version-cpu", { runtime: "16.4.x-ml-scala2.12" });
  assertEquals(flag.map((f) => [f.file, f.severity, f.data?.suggested]), [
    ["--runtime", "error", "16.4.x-cpu-ml-scala2.12"],
  ]);
  const both = of("print(1)\n", "spark-version-cpu", {
    runtime: "16.4.x-ml-scala2.12",
    spec: { spark_version: "16.4.x-ml-scala2.12" },
  });
  assertEquals(both.map((f) => f.file), ["cluster.json"]);
  for (
    const ok of [
      "16.4",
      "16.4 LTS ML",
      "16.4.x-cpu-ml-scala2.12",
      "16.4.x-gpu-ml-scala2.12",
      "16.4.x-scala2.12",
    ]
  ) {
    assertEquals(of("print(1)\n", "spark-version-cpu", { runtime: ok }), [], ok);
  }
});

Deno.test("single-node-conf: names what is missing and points at num_workers", () => {
  const fs = of("print(1)\n", "single-node-conf", {
    spec: { new_cluster: { spark_version: "16.4.x-cpu-ml-scala2.12", num_workers: 0 } },
  });
  assertEquals(fs.length, 1);
  assertEquals(fs[0].data?.missing, [
    'spark.master "local[*]"',
    'spark.databricks.cluster.profile "singleNode"',
    'custom_tags.ResourceClass "SingleNode"',
  ]);
  assertEquals([fs[0].file, fs[0].line], ["cluster.json", 4]);
  assertStringIncludes(fs[0].message, "new_cluster has num_workers 0");
});

Deno.test("syspath-after-log-model: judged by execution order; unknown order is a warning, never an error", () => {
  const main = `import sys, mlflow
def log():
    mlflow.pyfunc.log_model(python_model="/tmp/a/agent.py", artifact_path="a", pip_requirements=["x"])
if __name__ == "__main__":
    sys.path.insert(0, "/tmp/a")
    log()
`;
  assertEquals(of(main, "syspath-after-log-model"), []);
  // The same functions, called in the other order: a known order, so an error.
  const wrong = main.replace(
    '    sys.path.insert(0, "/tmp/a")\n    log()\n',
    '    log()\n    sys.path.insert(0, "/tmp/a")\n',
  );
  assertEquals(where(of(wrong, "syspath-after-log-model")), [["error", 3]]);
  // Called through a framework: the order cannot be told.
  const fire = `import sys, mlflow, fire
def log():
    mlflow.pyfunc.log_model(python_model="/tmp/a/agent.py", artifact_path="a", pip_requirements=["x"])
def setup():
    sys.path.insert(0, "/tmp/a")
fire.Fire({"log": log, "setup": setup})
`;
  const unknown = of(fire, "syspath-after-log-model");
  assertEquals(where(unknown), [["warning", 3]]);
  assertMatch(unknown[0].message, /cannot tell/);
  // Module-level sys.path above the def runs before any call; so does an insert earlier in the same body.
  assertEquals(
    of(
      'import sys, mlflow\nsys.path.insert(0, "/tmp/a")\ndef log():\n    mlflow.pyfunc.log_model(python_model="/tmp/a/agent.py", pip_requirements=["x"])\ncb = log\n',
      "syspath-after-log-model",
    ),
    [],
  );
  assertEquals(
    of(
      'import sys, mlflow\ndef log():\n    sys.path.insert(0, "/tmp/a")\n    mlflow.pyfunc.log_model(python_model="/tmp/a/agent.py", pip_requirements=["x"])\n',
      "syspath-after-log-model",
    ),
    [],
  );
});

Deno.test("pyblocks: defs, try bodies and execution times", () => {
  const src = `def a(x, *args, state: MessagesState = None, **kw):
    try:
        f()
    except Exception:
        pass
    g()

async def b():
    return h()

def c():
    a(1)

if __name__ == "__main__":
    c()
`;
  const m = parseModule(src);
  const blocks = blocksOf(m.tokens);
  assertEquals(blocks.defs.map((d) => [d.name, d.line, d.endLine]), [["a", 1, 6], ["b", 8, 9], [
    "c",
    11,
    12,
  ]]);
  assertEquals(blocks.defs[0].params, [
    { name: "x", annotation: "" },
    { name: "args", annotation: "" },
    { name: "state", annotation: "MessagesState" },
    { name: "kw", annotation: "" },
  ]);
  assertEquals(blocks.tries.map((t) => [t.line, t.endLine]), [[2, 3]]);
  // g() in a runs when c() (line 15) calls a (line 12); nothing calls b.
  assertEquals(execTime(blocks, m.calls, 6, 5), [[15, 5], [12, 5], [6, 5]]);
  assertEquals(execTime(blocks, m.calls, 9, 12), undefined);
  assert(compareTimes([[15, 5]], [[15, 5], [1, 1]]) < 0);
});

Deno.test("agent-node-try: a graph node's model call outside try warns; inside try, or not a node, it does not", () => {
  const fs = of(
    `def agent_node(state: MessagesState):
    return {"messages": [llm_with_tools.invoke(state["messages"])]}

def node(state):
    out = model.with_structured_output(Plan).invoke(state["messages"])
    return {"plan": out}

def guarded(state):
    try:
        return {"messages": [llm.invoke(state["messages"])]}
    except Exception as e:
        return {"messages": [AIMessage(content=str(e))]}

def tool(query: str):
    return llm.invoke(query)

def runner(state):
    return GRAPH.invoke(state)
`,
    "agent-node-try",
  );
  assertEquals(where(fs), [["warning", 2], ["warning", 5]]);
  assertStringIncludes(fs[0].message, "agent node agent_node(state) calls llm_with_tools.invoke()");
  assertStringIncludes(fs[1].message, "model.with_structured_output(…).invoke()");
});

Deno.test("workspace-import: imports of the --include tree fail unless copied locally; only in the job's script", () => {
  const uploaded = [{ include: "tools", modules: ["tools", "helper"] }];
  const fs = of(
    "import os\nfrom tools.helper import greet\nimport helper\nimport json\n",
    "workspace-import",
    {
      uploaded,
    },
  );
  assertEquals(where(fs), [["error", 2], ["error", 3]]);
  assertEquals(fs[0].data, { module: "tools.helper", include: "tools" });
  assertStringIncludes(fs[0].message, "--include tools");
  assertStringIncludes(fs[0].message, "--wrap");
  // Relative imports and the helper's own imports (not the job's script) are not this rule's business.
  const r = runPreflight({
    files: [{ path: "job.py", source: "print(1)\n" }, {
      path: "tools/helper.py",
      source: "from tools import x\n",
    }],
    uploaded,
  });
  assertEquals(r.findings.filter((f) => f.rule === "workspace-import"), []);
});
