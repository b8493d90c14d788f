import { assertEquals } from "../helpers/assert.ts";
import { nameUsages, parseModule, workspacePaths } from "../../src/jobs/pycalls.ts";
import { constString, qualify, scopeOf, stringsOf } from "../../src/jobs/pyscope.ts";

Deno.test("findCalls: callee, keywords, first positional argument, multi-line and nested", () => {
  const m = parseModule(`
info = mlflow.langchain.log_model(
    lc_model=os.path.join(LOCAL_DIR, "agent.py"),   # the model file
    artifact_path="agent",
    signature=mlflow.models.infer_signature({"a": [1, (2, 3)]}, model_output=out),
    **extra,
)
sys.path.insert(0, LOCAL_DIR)
`);
  assertEquals(m.calls.map((c) => [c.callee, c.line]), [
    ["mlflow.langchain.log_model", 2],
    ["os.path.join", 3],
    ["mlflow.models.infer_signature", 5],
    ["sys.path.insert", 8],
  ]);
  const [log, join, sig, ins] = m.calls;
  assertEquals(log.keywords, ["lc_model", "artifact_path", "signature"]);
  assertEquals(log.hasKwargsSpread, true);
  assertEquals(log.firstArg, undefined);
  assertEquals(log.endLine, 7);
  assertEquals(log.args[0].text, 'os.path.join(LOCAL_DIR, "agent.py")');
  assertEquals(join.firstArg, "LOCAL_DIR");
  assertEquals([sig.firstArg, sig.keywords], ['{"a": [1, (2, 3)]}', ["model_output"]]);
  assertEquals(ins.args.map((a) => a.text), ["0", "LOCAL_DIR"]);
});

Deno.test("findCalls: def/class headers are not calls; keywords are not callees; calls on expressions", () => {
  const m = parseModule(`
class Agent(Base):
    def predict(self, x):
        if (x):
            return "-".join(x).strip()
@ToolNode(handle_tool_errors=True)
def f(): pass
`);
  assertEquals(m.calls.map((c) => [c.callee, c.onExpression]), [
    ["join", true],
    ["strip", true],
    ["ToolNode", false],
  ]);
  assertEquals(m.calls[2].keywords, ["handle_tool_errors"]);
});

Deno.test("findCalls: keyword `x == y` comparisons and walrus are positional; trailing commas are fine", () => {
  const [c] = parseModule("f(a == b, (n := 3), *rest, key=1,)").calls;
  assertEquals(c.args.map((a) => [a.keyword ?? a.star ?? "", a.text]), [
    ["", "a == b"],
    ["", "(n := 3)"],
    ["*", "rest"],
    ["key", "1"],
  ]);
});

Deno.test("findImports: import, from (relative, parenthesised, aliased), one-liners and dynamic", () => {
  const m = parseModule(`
import os, sys as system
import mlflow.pyfunc
from langgraph.prebuilt import (
    ToolNode,
    tools_condition as tc,
)
from . import sibling
from ..pkg.mod import *
try: import tools.my_tool
except ImportError: pass
mod = importlib.import_module("tools.other")
x = 1; from databricks import agents
`);
  assertEquals(m.imports.map((i) => [i.kind, i.module, i.level, i.line]), [
    ["import", "os", 0, 2],
    ["import", "sys", 0, 2],
    ["import", "mlflow.pyfunc", 0, 3],
    ["from", "langgraph.prebuilt", 0, 4],
    ["from", "", 1, 8],
    ["from", "pkg.mod", 2, 9],
    ["import", "tools.my_tool", 0, 10],
    ["dynamic", "tools.other", 0, 12],
    ["from", "databricks", 0, 13],
  ]);
  assertEquals(m.imports[1].alias, "system");
  assertEquals(m.imports[3].names, [{ name: "ToolNode" }, { name: "tools_condition", alias: "tc" }]);
  assertEquals(m.imports[5].names, [{ name: "*" }]);
});

Deno.test("nameUsages: the global name only; not attributes, strings or comments", () => {
  const m = parseModule(`
p = Path(__file__).parent   # __file__ in a comment
q = mlflow.__file__
s = "__file__"
t = f"{__file__}"
def g(): return os.path.dirname(__file__)
`);
  assertEquals(nameUsages(m.tokens, "__file__").map((t) => [t.line, t.column]), [[2, 10], [6, 33]]);
});

Deno.test("workspacePaths: /Workspace/ string constants, f-strings included", () => {
  const m = parseModule(`
A = "/Workspace/Users/me@x.com/agents"
B = f"/Workspace/Users/{user}/x"
C = "/tmp/Workspace/x"  # not a workspace path
D = "/Workspaces/x"
`);
  assertEquals(workspacePaths(m.tokens).map((p) => [p.line, p.formatted]), [[2, false], [3, true]]);
});

Deno.test("assignments and scope: aliases, strings through names, constant strings and f-strings", () => {
  const m = parseModule(`
import mlflow as mf
from mlflow import pyfunc
from langgraph.prebuilt import ToolNode as TN
CATALOG = "main"
SCHEMA: str = "agents"
NAME = f"{CATALOG}.{SCHEMA}.bot"
PLUS = CATALOG + "." + SCHEMA
BASE = "/Workspace/Users/me/agent"
LOCAL = "/tmp/agent"
agent_file = os.path.join(LOCAL, "agent.py")
a = b = "same"
`);
  const s = scopeOf(m);
  assertEquals(qualify(s, "mf.pyfunc.log_model"), "mlflow.pyfunc.log_model");
  assertEquals(qualify(s, "pyfunc.log_model"), "mlflow.pyfunc.log_model");
  assertEquals(qualify(s, "TN"), "langgraph.prebuilt.ToolNode");
  assertEquals(qualify(s, "other.call"), "other.call");
  const value = (name: string) => m.assignments.find((a) => a.target === name)!.value;
  assertEquals(constString(s, value("NAME")), "main.agents.bot");
  assertEquals(constString(s, value("PLUS")), "main.agents");
  assertEquals(constString(s, value("agent_file")), undefined);
  assertEquals(stringsOf(s, value("agent_file")), ["/tmp/agent", "agent.py"]);
  assertEquals(constString(s, value("b")), "same");
  assertEquals(m.assignments.filter((a) => a.text === '"same"').map((a) => a.target), ["a", "b"]);
});
