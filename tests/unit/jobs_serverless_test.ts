// Serverless job runs, the pure parts: the request pieces (environment, task), the flags that conflict with
// --serverless, dbxr's answer to a refused submit, and the preflight rules that differ on serverless.

import { assert, assertEquals, assertStringIncludes, assertThrows } from "../helpers/assert.ts";
import { DbxrError } from "../../src/errors.ts";
import { parseClusterSpec } from "../../src/jobs/cluster_spec.ts";
import { type PreflightInput, ruleById, runPreflight } from "../../src/jobs/preflight.ts";
import { CLUSTER_ONLY_RULES, SERVERLESS_RULES } from "../../src/jobs/preflight_serverless.ts";
import {
  checkServerlessFlags,
  DEFAULT_ENVIRONMENT_VERSION,
  dependencySpecs,
  environmentVersion,
  isServerlessRun,
  jobEnvironment,
  serverlessDiagnoses,
  serverlessRefusal,
  serverlessTask,
} from "../../src/jobs/serverless.ts";
import type { Diagnosis } from "../../src/jobs/diagnose.ts";

const invalid = (f: () => unknown, includes: string) => {
  const e = assertThrows(f) as DbxrError;
  assert(e instanceof DbxrError, String(e));
  assertEquals(e.code, "InvalidArgument");
  assertStringIncludes(e.message, includes);
};

Deno.test("the serverless request: one task with environment_key and no cluster, one environment with the pip lines", () => {
  const task = serverlessTask("/Workspace/Users/a/.dbxr/p/etl.py", ["--date", "2026-01-31"]);
  assertEquals(task, {
    task_key: "main",
    spark_python_task: {
      python_file: "/Workspace/Users/a/.dbxr/p/etl.py",
      parameters: ["--date", "2026-01-31"],
      source: "WORKSPACE",
    },
    environment_key: "default",
  });
  assert(!("existing_cluster_id" in task) && !("new_cluster" in task) && !("libraries" in task));
  assertEquals(jobEnvironment(["pandas>=2.2", "mlflow"], "3"), {
    environment_key: "default",
    spec: { environment_version: "3", dependencies: ["pandas>=2.2", "mlflow"] },
  });
  // No empty dependencies list: protobuf JSON leaves empty repeated fields out.
  assertEquals(jobEnvironment([], "4"), { environment_key: "default", spec: { environment_version: "4" } });
});

Deno.test("dependencies: --dependency specs as given, then --libraries, trimmed, without repeats; one line each", () => {
  assertEquals(
    dependencySpecs(["pandas>=2.2", " mlflow[databricks]==2.21.3 "], [
      "mlflow[databricks]==2.21.3",
      "langgraph",
    ]),
    ["pandas>=2.2", "mlflow[databricks]==2.21.3", "langgraph"],
  );
  assertEquals(dependencySpecs(["/Volumes/main/default/libs/my_pkg-0.1-py3-none-any.whl"]), [
    "/Volumes/main/default/libs/my_pkg-0.1-py3-none-any.whl",
  ]);
  invalid(() => dependencySpecs(["  "]), "one pip requirement per flag");
  invalid(() => dependencySpecs(["a\nb"]), "one pip requirement per flag");
});

Deno.test("environment version: a whole number, 4 by default", () => {
  assertEquals(environmentVersion(undefined), DEFAULT_ENVIRONMENT_VERSION);
  assertEquals(environmentVersion(" 2 "), "2");
  for (const bad of ["four", "0", "2.1", "-1", ""]) invalid(() => environmentVersion(bad), "whole number");
});

Deno.test("--serverless conflicts with every flag that chooses or shapes a cluster", () => {
  checkServerlessFlags("job.py", {});
  checkServerlessFlags("job.py", { newCluster: false, env: [] });
  invalid(() => checkServerlessFlags("job.py", { clusterId: "0123" }), "--cluster-id chooses one");
  invalid(() => checkServerlessFlags("job.py", { newCluster: true }), "--new-cluster");
  invalid(() => checkServerlessFlags("job.py", { template: "cpu-single-node" }), "--template");
  invalid(() => checkServerlessFlags("job.py", { clusterSpecFile: "c.json" }), "--cluster-spec");
  invalid(
    () => checkServerlessFlags("job.py", { instancePool: "p", clusterId: "c" }),
    "--cluster-id, --instance-pool choose one",
  );
  invalid(() => checkServerlessFlags("job.py", { env: ["A=1"] }), "spark_env_vars");
});

Deno.test("a refused serverless submit: the server's words and the next steps; other errors pass through", () => {
  const refused = new DbxrError("ApiError", "Serverless compute is not enabled for this workspace.", {
    details: { http_status: 400, error_code: "INVALID_PARAMETER_VALUE" },
  });
  const e = serverlessRefusal(refused, "my job.py")!;
  assertEquals(e.code, "ApiError");
  assertEquals(
    e.message,
    "This workspace refused a serverless run: Serverless compute is not enabled for this workspace. Run it on " +
      "a cluster instead, or ask a workspace admin to enable serverless compute for jobs (it needs Unity Catalog).",
  );
  assertEquals(e.hint, "dbxr job run 'my job.py' --cluster-id CLUSTER_ID");
  assertEquals(e.details.error_code, "INVALID_PARAMETER_VALUE");
  assertEquals((e.details.next_steps as string[]).length, 3);
  // A message without a period gets one; unrelated errors are not rewritten.
  assertStringIncludes(
    serverlessRefusal(new DbxrError("PermissionDenied", "serverless is not available"), "j.py")!.message,
    "serverless is not available. Run it",
  );
  assertEquals(serverlessRefusal(new DbxrError("ApiError", "Invalid python_file"), "j.py"), undefined);
  assertEquals(serverlessRefusal(new DbxrError("NetworkError", "serverless"), "j.py"), undefined);
  assertEquals(serverlessRefusal(new Error("serverless"), "j.py"), undefined);
});

Deno.test("a serverless run's library failure is explained as an environment dependency, not a cluster library", () => {
  assert(isServerlessRun([{ environment_key: "default" }]));
  assert(!isServerlessRun([{}]) && !isServerlessRun(undefined));
  const d: Diagnosis = {
    id: "library-installation",
    matched: "Library installation failed",
    cause: "A library of the task (foo==1) failed to install on the cluster, so the script never started.",
    fix: "Check the name and version pin in --libraries",
    source: "dbxr",
  };
  const other: Diagnosis = { ...d, id: "syntax-error" };
  const [adapted, kept] = serverlessDiagnoses([d, other]);
  assertEquals(
    adapted.cause,
    "A library of the task (foo==1) failed to install into the serverless environment, so the script never started.",
  );
  assertStringIncludes(adapted.fix, "--dependency");
  assertEquals(kept, other);
});

// ---------------------------------------------------------------------------------------------------------
// job check --serverless

function check(source: string, o: Omit<PreflightInput, "files" | "clusterSpec"> & { spec?: unknown } = {}) {
  const { spec, ...rest } = o;
  return runPreflight({
    files: [{ path: "job.py", source }],
    ...(spec ? { clusterSpec: parseClusterSpec("cluster.json", JSON.stringify(spec, null, 2)) } : {}),
    ...rest,
  });
}
const rules = (r: ReturnType<typeof check>) => r.findings.map((f) => f.rule);

const REGISTERS = "import mlflow\nsig = mlflow.models.infer_signature({'a': 1}, {'b': 2})\n" +
  "mlflow.register_model('runs:/abc/model', 'main.agents.m', signature=sig)\n";

Deno.test("serverless rules: each has an explanation and a fix; ruleById finds them; the cluster-only set is real rules", () => {
  for (const r of SERVERLESS_RULES) {
    assert(r.explanation.length > 40 && r.fix.length > 10, r.id);
    assertEquals(ruleById(r.id), r);
  }
  for (const id of CLUSTER_ONLY_RULES) assertEquals(ruleById(id).id, id);
});

Deno.test("--serverless: the access-mode and spark-version rules do not apply; Unity Catalog is an info", () => {
  const spec = { job_clusters: [{ new_cluster: { spark_version: "15.4.x-ml-scala2.12" } }] };
  const classic = check(REGISTERS, { spec, uc: true });
  assert(rules(classic).includes("uc-access-mode") && rules(classic).includes("spark-version-cpu"));

  const bare = check(REGISTERS, { serverless: true, uc: true });
  assertEquals(rules(bare), ["serverless-unity-catalog", "uc-three-part-name"]);
  assertEquals(bare.status, "ok");
  const info = bare.findings[0];
  assertEquals([info.severity, info.file, info.line], ["info", "job.py", 1]);
  assertStringIncludes(info.message, "requires Unity Catalog");
});

Deno.test("--serverless: a cluster in the spec and spark_env_vars are errors, each at its place", () => {
  const spec = {
    new_cluster: { spark_version: "16.4.x-cpu-ml-scala2.12", spark_env_vars: { TOKEN_NAME: "x" } },
  };
  const r = check("print(1)\n", { serverless: true, spec });
  assertEquals(r.status, "PreflightFailed");
  const errs = r.findings.filter((f) => f.rule === "serverless-cluster-spec");
  assertEquals(errs.map((f) => [f.file, f.line, f.message]), [
    ["cluster.json", 3, "new_cluster defines a cluster; a serverless task runs on none"],
    ["cluster.json", 4, "spark_env_vars is not supported on serverless compute"],
  ]);
  // A job spec that only declares an environment is fine, and its dependencies count as installed.
  const env = {
    environments: [{ environment_key: "default", spec: { dependencies: ["databricks-langchain"] } }],
  };
  const ok = check("from databricks_langchain import ChatDatabricks\n", { serverless: true, spec: env });
  assertEquals(rules(ok), ["serverless-unity-catalog"]);
});

Deno.test("--serverless: %pip stays an error and missing agent packages a warning, both pointing at --dependency", () => {
  const src =
    "%pip install databricks-langchain langgraph\nfrom databricks_langchain import ChatDatabricks\n" +
    "import langgraph\n";
  const r = check(src, { serverless: true });
  const pip = r.findings.find((f) => f.rule === "pip-magic")!;
  assertEquals(pip.severity, "error");
  assertEquals(
    pip.command,
    "dbxr job run job.py --serverless --dependency databricks-langchain --dependency langgraph",
  );
  assertStringIncludes(pip.fix, "serverless environment");
  const deps = r.findings.find((f) => f.rule === "databricks-agents-deps")!;
  assertEquals(deps.severity, "warning");
  assertEquals(
    deps.message,
    "imports databricks-langchain, langgraph, not among the serverless environment's dependencies",
  );
  assertEquals(
    deps.command,
    "dbxr job run job.py --serverless --dependency databricks-langchain --dependency langgraph",
  );
  // Classic: the cluster's libraries, as before.
  const classic = check(src).findings.find((f) => f.rule === "pip-magic")!;
  assertStringIncludes(classic.command ?? "", "--libraries");
});
