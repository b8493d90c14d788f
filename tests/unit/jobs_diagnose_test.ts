// diagnose(): one test per row of the seed's troubleshooting table (with the error as Databricks reports it:
// get-output `error` with its Trace ID line, an ANSI IPython `error_trace`, the task's `logs`), then the
// failures dbxr adds, then ordering, dedupe, roll-up and the fallback.

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import {
  diagnose,
  type DiagnoseInput,
  type DiagnoseTask,
  type Diagnosis,
  DIAGNOSIS_IDS,
} from "../../src/jobs/diagnose.ts";

const ESC = "\u001b";
const TRACE_ID = "[Trace ID: 00-0ec742bbbcdc1e38f6f7f0a9a405a7b9-28f79e43e09612e0-00]";
const SCRIPT = "/Workspace/Users/me@example.com/.dbxr/agent/log_model.py";

/**
 * An IPython 8 traceback as a spark_python_task's error_trace has it (docs/databricks-behaviour.md §10.2).
 */
function ipythonTrace(frames: Array<[string, number, string]>, excType: string, message: string): string {
  const red = (s: string) => `${ESC}[0;31m${s}${ESC}[0m`;
  const green = (s: string) => `${ESC}[0;32m${s}${ESC}[0m`;
  const lines = [
    red("---------------------------------------------------------------------------"),
    `${red(excType)}                               Traceback (most recent call last)`,
    `File ${green("~/.ipykernel/2187/command--1-3962067571:8")}`,
    `${ESC}[1;32m      5${ESC}[0m ${ESC}[38;5;28;01mdel${ESC}[39;00m sys`,
    `${ESC}[1;32m      7${ESC}[0m ${ESC}[38;5;28;01mwith${ESC}[39;00m ${ESC}[38;5;28mopen${ESC}[39m(filename, ${ESC}[38;5;124m"${ESC}[39m${ESC}[38;5;124mrb${ESC}[39m${ESC}[38;5;124m"${ESC}[39m) ${ESC}[38;5;28;01mas${ESC}[39;00m f:`,
    `${ESC}[0;32m----> 8${ESC}[0m   exec(${ESC}[38;5;28mcompile${ESC}[39m(f${ESC}[38;5;241m.${ESC}[39mread(), filename, ${ESC}[38;5;124m'${ESC}[39m${ESC}[38;5;124mexec${ESC}[39m${ESC}[38;5;124m'${ESC}[39m))`,
    "",
  ];
  for (const [file, line, code] of frames) {
    lines.push(`File ${green(`${file}:${line}`)}`, `${ESC}[0;32m----> ${line}${ESC}[0m ${code}`, "");
  }
  lines.push(`${red(excType)}: ${message}`);
  return lines.join("\n");
}

function failedTask(
  excType: string,
  message: string,
  frames: Array<[string, number, string]> = [[SCRIPT, 12, "main()"]],
  logs = "",
): DiagnoseTask {
  return {
    taskKey: "main",
    resultState: "FAILED",
    stateMessage: "Workload failed, see run output for details",
    error: `${excType}: ${message}\n${TRACE_ID}`,
    errorTrace: ipythonTrace(frames, excType, message),
    logs,
  };
}

/**
 * The failure roll-up that Databricks reports for a run whose only task failed
 * (docs/databricks-behaviour.md §4.2).
 */
function failedRun(...tasks: DiagnoseTask[]): DiagnoseInput {
  return {
    lifeCycleState: "INTERNAL_ERROR",
    resultState: "FAILED",
    stateMessage: "Task main failed with message: Workload failed, see run output for details.",
    terminationCode: "RUN_EXECUTION_ERROR",
    tasks,
  };
}

function only(ds: Diagnosis[], id: string): Diagnosis {
  assertEquals(ds.map((d) => d.id), [id], JSON.stringify(ds, null, 2));
  return ds[0];
}

// ---- the seed's troubleshooting table, row by row ----

Deno.test("diagnose: NameError __file__ → --wrap or a path constant", () => {
  const d = only(
    diagnose(
      failedRun(
        failedTask("NameError", "name '__file__' is not defined", [[
          SCRIPT,
          9,
          "HERE = Path(__file__).parent",
        ]]),
      ),
    ),
    "file-not-defined",
  );
  assertEquals(d.task_key, "main");
  assertEquals(d.source, "seed");
  assertEquals(d.matched, "NameError: name '__file__' is not defined");
  assertEquals(d.command, "dbxr job run FILE --wrap");
  assertStringIncludes(d.fix, "path constant");
});

Deno.test("diagnose: No module named 'tools' (a folder of the project) → copytree to /tmp or --wrap", () => {
  const task = failedTask("ModuleNotFoundError", "No module named 'tools'", [
    [SCRIPT, 14, "import agent"],
    ["/Workspace/Users/me@example.com/.dbxr/agent/agent.py", 6, "from tools.search import search_docs"],
  ]);
  const d = only(diagnose({ ...failedRun(task), file: "log_model.py" }), "workspace-not-importable");
  assertEquals(d.source, "seed");
  assertEquals(d.matched, "ModuleNotFoundError: No module named 'tools'");
  assertEquals(d.command, "dbxr job run log_model.py --wrap");
  assertStringIncludes(d.fix, "shutil.copytree");
  // A name that is not a usual folder name is local when the caller says the uploaded tree has it.
  const mine = failedTask("ModuleNotFoundError", "No module named 'retrieval.index'");
  assertEquals(
    diagnose({ ...failedRun(mine), localModules: ["retrieval"] })[0].id,
    "workspace-not-importable",
  );
});

Deno.test("diagnose: No module named 'databricks_langchain' (a pip package) → --libraries", () => {
  const task = failedTask("ModuleNotFoundError", "No module named 'databricks_langchain'", [
    [SCRIPT, 40, "mlflow.pyfunc.log_model(python_model=agent_file, artifact_path='agent')"],
    [
      "/databricks/python/lib/python3.12/site-packages/mlflow/pyfunc/model.py",
      1021,
      "_load_context_model_and_signature(...)",
    ],
    ["/tmp/agent/agent.py", 3, "from databricks_langchain import ChatDatabricks"],
  ]);
  const d = only(diagnose({ ...failedRun(task), file: "log_model.py" }), "missing-pip-package");
  assertEquals(d.command, "dbxr job run log_model.py --libraries databricks-langchain");
  assertStringIncludes(d.fix, "%pip install databricks-langchain");
  // databricks.* subpackages have their own distribution names.
  const agents = failedTask("ModuleNotFoundError", "No module named 'databricks.agents'");
  assertEquals(diagnose(failedRun(agents))[0].command, "dbxr job run FILE --libraries databricks-agents");
  // With the tree's module list, a name outside it is a pip package.
  const other = failedTask("ModuleNotFoundError", "No module named 'faiss_cpu'");
  assertEquals(diagnose({ ...failedRun(other), localModules: ["tools"] })[0].id, "missing-pip-package");
});

Deno.test("diagnose: pydantic model_validator on 15.4 → the 16.4 ML template", () => {
  const task = failedTask(
    "ImportError",
    "cannot import name 'model_validator' from 'pydantic' (/databricks/python/lib/python3.11/site-packages/pydantic/__init__.cpython-311-x86_64-linux-gnu.so)",
    [
      [
        "/local_disk0/.ephemeral_nfs/envs/pythonEnv-1/lib/python3.11/site-packages/databricks_langchain/__init__.py",
        1,
        "from databricks_langchain.chat_models import ChatDatabricks",
      ],
    ],
  );
  const d = only(
    diagnose({ ...failedRun(task), sparkVersion: "15.4.x-cpu-ml-scala2.12" }),
    "pydantic-v1-runtime",
  );
  assertStringIncludes(d.cause, "15.4.x-cpu-ml-scala2.12");
  assertEquals(d.command, "dbxr job run FILE --new-cluster --template ml-single-node");
  // On 16.4 (v2 shipped) the same error means a library pinned v1.
  const pinned = diagnose({ ...failedRun(task), sparkVersion: "16.4.x-cpu-ml-scala2.12" })[0];
  assertEquals(pinned.id, "pydantic-v1-runtime");
  assertStringIncludes(pinned.fix, "pydantic<2");
  assertEquals(pinned.command, undefined);
});

Deno.test("diagnose: No module named 'langchain.schema' → mlflow.pyfunc.log_model", () => {
  const task = failedTask("ModuleNotFoundError", "No module named 'langchain.schema'", [
    [SCRIPT, 31, "mlflow.langchain.log_model(lc_model=agent_file, artifact_path='agent')"],
    [
      "/databricks/python/lib/python3.12/site-packages/mlflow/langchain/utils/__init__.py",
      221,
      "from langchain.schema import BaseRetriever",
    ],
  ]);
  const d = only(diagnose(failedRun(task)), "langchain-schema-import");
  assertStringIncludes(d.fix, "mlflow.pyfunc.log_model");
  assertEquals(d.command, undefined);
});

Deno.test("diagnose: PERMISSION_DENIED on clusters without Unity Catalog → SINGLE_USER (the default template)", () => {
  const task = failedTask(
    "RestException",
    "PERMISSION_DENIED: Access denied to clusters that don't have Unity Catalog enabled",
    [[SCRIPT, 50, "mlflow.register_model(model_info.model_uri, 'main.agents.bot')"]],
  );
  const d = only(diagnose(failedRun(task)), "uc-access-mode");
  assertStringIncludes(d.cause, "SINGLE_USER");
  assertEquals(d.command, "dbxr job run FILE --new-cluster --template ml-single-node");
  // The newer wording of the same problem.
  const newer = failedTask(
    "AnalysisException",
    "[UC_NOT_ENABLED] Unity Catalog is not enabled on this cluster. SQLSTATE: 56038",
  );
  assertEquals(diagnose(failedRun(newer))[0].id, "uc-access-mode");
});

Deno.test("diagnose: Model did not contain any signature metadata → infer_signature", () => {
  const task = failedTask(
    "MlflowException",
    "Model passed for registration did not contain any signature metadata. All models in the Unity Catalog must be logged with a model signature containing both input and output type specifications. See https://mlflow.org/docs/latest/models.html#set-signature-on-logged-model for details on how to log a model with a signature",
  );
  const d = only(diagnose(failedRun(task)), "uc-signature-missing");
  assertStringIncludes(d.fix, "infer_signature");
  assert(d.matched.length <= 300);
  assertMatch(d.matched, /^MlflowException: Model passed for registration did not contain/);
});

Deno.test("diagnose: RESOURCE_DOES_NOT_EXIST: catalog.schema → dbxr uc ensure-schema with the name", () => {
  const task = failedTask("RestException", "RESOURCE_DOES_NOT_EXIST: Schema 'main.agents' does not exist.");
  const d = only(diagnose(failedRun(task)), "uc-schema-missing");
  assertEquals(d.command, "dbxr uc ensure-schema main.agents");
  assertStringIncludes(d.fix, "--ensure-schema");
  // The seed's short form.
  const short = failedTask("RestException", "RESOURCE_DOES_NOT_EXIST: ml_catalog.agent_schema");
  assertEquals(diagnose(failedRun(short))[0].command, "dbxr uc ensure-schema ml_catalog.agent_schema");
  // A missing model is not a missing schema; a missing catalog is its own case.
  const model = failedTask(
    "RestException",
    "RESOURCE_DOES_NOT_EXIST: Registered model 'main.agents.bot' does not exist.",
  );
  assertEquals(diagnose(failedRun(model))[0].id, "unknown");
  const catalog = failedTask("RestException", "RESOURCE_DOES_NOT_EXIST: Catalog 'ml' does not exist.");
  const c = only(diagnose(failedRun(catalog)), "uc-catalog-missing");
  assertEquals(c.command, "dbxr uc catalogs");
});

Deno.test("diagnose: Agent endpoint cannot serve non-agent models → delete the endpoint and redeploy", () => {
  const task = failedTask(
    "ValueError",
    "Agent endpoint cannot be updated to serve non-agent models or vice-versa. Please delete the endpoint agents_main-agents-bot and try again.",
    [[SCRIPT, 60, "agents.deploy(UC_MODEL, version)"]],
  );
  const d = only(diagnose(failedRun(task)), "agent-endpoint-type-locked");
  assertStringIncludes(d.fix, "Delete the endpoint");
  assertStringIncludes(d.fix, "agents.deploy()");
});

Deno.test("diagnose: Invalid spark version 15.4.x-ml-scala2.12 → -cpu-, and the spark-versions command", () => {
  const run: DiagnoseInput = {
    lifeCycleState: "INTERNAL_ERROR",
    resultState: "FAILED",
    stateMessage:
      "Unexpected failure while waiting for the cluster (0101-120000-abcd1234) to be ready: Cluster 0101-120000-abcd1234 is in unexpected state Terminated: INVALID_ARGUMENT(CLIENT_ERROR): databricks_error_message:Invalid spark version 15.4.x-ml-scala2.12.",
    terminationCode: "INVALID_CLUSTER_REQUEST",
    tasks: [{ taskKey: "main", resultState: "FAILED", stateMessage: "Cluster validation failed" }],
  };
  const d = only(diagnose(run), "invalid-spark-version");
  assertEquals(d.task_key, undefined);
  assertEquals(d.command, "dbxr cluster spark-versions --filter cpu-ml");
  assertStringIncludes(d.fix, "16.4.x-cpu-ml-scala2.12");
  assertStringIncludes(d.fix, "15.4.x-cpu-ml-scala2.12");
});

Deno.test("diagnose: log_model() got an unexpected keyword argument 'name' → artifact_path", () => {
  const task = failedTask("TypeError", "log_model() got an unexpected keyword argument 'name'", [
    [SCRIPT, 33, "mlflow.langchain.log_model(lc_model=agent_file, name='agent')"],
  ]);
  const d = only(diagnose(failedRun(task)), "log-model-name-kwarg");
  assertStringIncludes(d.fix, 'artifact_path="agent"');
});

Deno.test("diagnose: an endpoint answering null on tool use → handle_tool_errors=True (also in a run that succeeded)", () => {
  const logs = [
    "Querying endpoint agents_main-agents-bot ...",
    'Response: {"predictions": null}',
    "",
  ].join("\n");
  const ok: DiagnoseInput = {
    lifeCycleState: "TERMINATED",
    resultState: "SUCCESS",
    tasks: [{ taskKey: "smoke_test", resultState: "SUCCESS", logs }],
  };
  const d = only(diagnose(ok), "tool-error-null-response");
  assertEquals(d.task_key, "smoke_test");
  assertEquals(d.matched, 'Response: {"predictions": null}');
  assertStringIncludes(d.fix, "handle_tool_errors=True");
  // The crash itself, when the graph runs inside the job.
  const crash = failedTask("ToolException", "Error executing tool search_docs: index not found", [
    [SCRIPT, 20, "GRAPH.invoke(request)"],
    [
      "/local_disk0/.ephemeral_nfs/envs/pythonEnv-1/lib/python3.12/site-packages/langgraph/prebuilt/tool_node.py",
      230,
      "raise e",
    ],
  ]);
  assertEquals(diagnose(failedRun(crash))[0].id, "tool-error-null-response");
});

Deno.test("diagnose: Cannot read the python file → it is a notebook: upload it as a file", () => {
  const run: DiagnoseInput = {
    ...failedRun({
      taskKey: "main",
      resultState: "FAILED",
      stateMessage:
        "Cannot read the python file /Workspace/Users/me@example.com/agent/log_model.py. Please check driver logs for more details.",
    }),
    file: "agent/log_model.py",
  };
  const d = only(diagnose(run), "notebook-not-file");
  assertStringIncludes(d.cause, "NOTEBOOK");
  assertEquals(d.command, "dbxr job run agent/log_model.py");
});

Deno.test("diagnose: MAX_CONCURRENT_RUNS_REACHED → cancel the previous run", () => {
  const run: DiagnoseInput = {
    lifeCycleState: "SKIPPED",
    resultState: "MAXIMUM_CONCURRENT_RUNS_REACHED",
    stateMessage: "The maximum number of concurrent runs for this job has been reached. Skipping this run.",
    terminationCode: "MAX_CONCURRENT_RUNS_EXCEEDED",
    tasks: [],
  };
  const d = only(diagnose(run), "max-concurrent-runs");
  assertEquals(d.source, "seed");
  assertEquals(d.matched, "result_state: MAXIMUM_CONCURRENT_RUNS_REACHED");
  assertEquals(d.command, "dbxr job list --active");
  assertStringIncludes(d.fix, "dbxr job cancel RUN_ID");
  // The seed's spelling, in a message.
  const text = diagnose({
    tasks: [{ taskKey: "main", error: "INVALID_STATE: MAX_CONCURRENT_RUNS_REACHED" }],
  });
  assertEquals(text[0].id, "max-concurrent-runs");
});

// ---- failures dbxr adds ----

Deno.test("diagnose: WORKSPACE_RUN_LIMIT_EXCEEDED", () => {
  const d = only(
    diagnose({
      lifeCycleState: "INTERNAL_ERROR",
      resultState: "FAILED",
      stateMessage: "The workspace has reached the limit of concurrently running jobs.",
      terminationCode: "WORKSPACE_RUN_LIMIT_EXCEEDED",
      tasks: [],
    }),
    "workspace-run-limit",
  );
  assertEquals(d.source, "dbxr");
  assertEquals(d.matched, "termination_code: WORKSPACE_RUN_LIMIT_EXCEEDED");
  assertEquals(d.command, "dbxr job list --active");
});

Deno.test("diagnose: MAX_SPARK_CONTEXTS_EXCEEDED → dbxr destroy unused sessions", () => {
  const d = only(
    diagnose({
      lifeCycleState: "INTERNAL_ERROR",
      resultState: "FAILED",
      stateMessage: "Too many execution contexts are open right now.",
      terminationCode: "MAX_SPARK_CONTEXTS_EXCEEDED",
      tasks: [{ taskKey: "main", resultState: "FAILED" }],
    }),
    "max-spark-contexts",
  );
  assertEquals(d.command, "dbxr destroy");
  assertStringIncludes(d.cause, "execution contexts");
});

Deno.test("diagnose: TIMEDOUT → more time", () => {
  const d = only(
    diagnose({
      lifeCycleState: "TERMINATED",
      resultState: "TIMEDOUT",
      stateMessage: "Run timed out after 3600 seconds.",
      terminationCode: "RUN_EXECUTION_ERROR",
      tasks: [{ taskKey: "main", resultState: "TIMEDOUT", logs: "epoch 1/10\nepoch 2/10\n" }],
      runId: 771,
      file: "train.py",
    }),
    "timed-out",
  );
  assertEquals(d.task_key, "main");
  assertEquals(d.command, "dbxr job run train.py --timeout 0");
  assertStringIncludes(d.fix, "job_outputs/771/");
});

Deno.test("diagnose: CANCELED and USER_CANCELED", () => {
  const d = only(
    diagnose({
      lifeCycleState: "TERMINATED",
      resultState: "CANCELED",
      terminationCode: "USER_CANCELED",
      tasks: [{ taskKey: "main", resultState: "CANCELED" }],
    }),
    "canceled",
  );
  assertEquals(d.matched, "result_state: CANCELED");
  const byCode = diagnose({ terminationCode: "USER_CANCELED", tasks: [] });
  assertEquals(byCode[0].matched, "termination_code: USER_CANCELED");
});

Deno.test("diagnose: CLUSTER_ERROR (capacity) and DRIVER_ERROR (out of memory)", () => {
  const cluster = only(
    diagnose({
      lifeCycleState: "INTERNAL_ERROR",
      resultState: "FAILED",
      stateMessage:
        "Cluster '0101-120000-abcd1234' was terminated. Reason: AWS_INSUFFICIENT_INSTANCE_CAPACITY_FAILURE (CLOUD_FAILURE).",
      terminationCode: "CLUSTER_ERROR",
      tasks: [{ taskKey: "main", resultState: "FAILED" }],
    }),
    "cluster-error",
  );
  assertStringIncludes(cluster.cause, "AWS_INSUFFICIENT_INSTANCE_CAPACITY_FAILURE");
  assertStringIncludes(cluster.fix, "--instance-pool");

  const driver = only(
    diagnose({
      lifeCycleState: "INTERNAL_ERROR",
      resultState: "FAILED",
      terminationCode: "DRIVER_ERROR",
      tasks: [{
        taskKey: "main",
        resultState: "FAILED",
        error:
          "The spark driver has stopped unexpectedly and is restarting. Your notebook will be automatically reattached.",
      }],
    }),
    "driver-error",
  );
  assertEquals(driver.task_key, "main");
  assertEquals(driver.command, "dbxr cluster node-types");
});

Deno.test("diagnose: LIBRARY_INSTALLATION_ERROR names the package", () => {
  const d = only(
    diagnose({
      lifeCycleState: "INTERNAL_ERROR",
      resultState: "FAILED",
      stateMessage:
        "Run result unavailable: job failed with error message\n Library installation failed for library due to user error for pypi {\n package: \"databricks-langchian\"\n}\n Error messages:\nLibrary installation attempted on the driver node of cluster 0101-120000-abcd1234 and failed. Please refer to the following error message to fix the library or contact Databricks support. Error code: ERROR_NO_MATCHING_DISTRIBUTION, error message: org.apache.spark.SparkException: Process List(/bin/su, libraries, -c, bash /local_disk0/.ephemeral_nfs/cluster_libraries/python/python_start_clusterwide.sh /local_disk0/.ephemeral_nfs/cluster_libraries/python/bin/pip install 'databricks-langchian' --disable-pip-version-check) exited with code 1. ERROR: Could not find a version that satisfies the requirement databricks-langchian (from versions: none)",
      terminationCode: "LIBRARY_INSTALLATION_ERROR",
      tasks: [],
    }),
    "library-installation",
  );
  assertStringIncludes(d.cause, "(databricks-langchian)");
});

Deno.test("diagnose: a SyntaxError (and a %pip magic in a script)", () => {
  const task: DiagnoseTask = {
    taskKey: "main",
    resultState: "FAILED",
    error: "SyntaxError: '(' was never closed (train.py, line 3)\n" + TRACE_ID,
    errorTrace:
      `${ESC}[0;36m  File ${ESC}[0;32m${SCRIPT}:3${ESC}[0;36m\n    print("a"\n         ^\n${ESC}[0;31mSyntaxError${ESC}[0m${ESC}[0;31m:${ESC}[0m '(' was never closed`,
  };
  const d = only(diagnose({ ...failedRun(task), file: "train.py" }), "syntax-error");
  assertEquals(d.matched, "SyntaxError: '(' was never closed (train.py, line 3)");
  assertEquals(d.command, "dbxr job check train.py");

  const magic: DiagnoseTask = {
    taskKey: "main",
    resultState: "FAILED",
    error: "SyntaxError: invalid syntax\n" + TRACE_ID,
    errorTrace:
      `  File ${SCRIPT}:1\n    %pip install databricks-langchain\n    ^\nSyntaxError: invalid syntax`,
  };
  const m = only(diagnose(failedRun(magic)), "syntax-error");
  assertStringIncludes(m.cause, "notebook magic");
  assertStringIncludes(m.fix, "--libraries");
});

Deno.test("diagnose: a ModuleNotFoundError that could be either kind says both", () => {
  const task = failedTask("ModuleNotFoundError", "No module named 'ranker'");
  const d = only(diagnose(failedRun(task)), "module-not-found");
  assertStringIncludes(d.fix, "--wrap");
  assertStringIncludes(d.fix, "--libraries ranker");
  assertEquals(d.command, undefined);
});

Deno.test("diagnose: FileNotFoundError on a /Workspace path, and on a relative one", () => {
  const ws = failedTask(
    "FileNotFoundError",
    "[Errno 2] No such file or directory: '/Workspace/Users/me@example.com/agent/prompts/system.txt'",
  );
  const d = only(diagnose(failedRun(ws)), "workspace-file-not-found");
  assertEquals(d.command, "dbxr workspace ls /Workspace/Users/me@example.com/agent/prompts");
  const rel = failedTask("FileNotFoundError", "[Errno 2] No such file or directory: 'data/train.csv'");
  const r = only(diagnose(failedRun(rel)), "file-not-found");
  assertEquals(r.command, "dbxr job run FILE --wrap");
  assertStringIncludes(r.cause, "working directory");
});

// ---- behaviour ----

Deno.test("diagnose: no known cause → read the task's log, named by run id and task key", () => {
  const task = failedTask("ZeroDivisionError", "division by zero");
  const d = only(diagnose({ ...failedRun({ ...task, taskKey: "train model" }), runId: 4242 }), "unknown");
  assertEquals(d.task_key, "train model");
  assertEquals(d.matched, "ZeroDivisionError: division by zero");
  assertStringIncludes(d.fix, "job_outputs/4242/train_model.log");
  assertEquals(d.command, "dbxr job output 4242");
  // Without tasks or a run id: placeholders, and the run's own message.
  const bare = only(
    diagnose({ resultState: "FAILED", stateMessage: "Something broke", tasks: [] }),
    "unknown",
  );
  assertEquals(bare.task_key, undefined);
  assertEquals(bare.matched, "Something broke");
  assertStringIncludes(bare.fix, "job_outputs/RUN_ID/TASK.log");
  // The trace's dashes are not the error line.
  const traceOnly = diagnose({ tasks: [{ taskKey: "t", errorTrace: ipythonTrace([], "KeyError", "'lr'") }] });
  assertEquals(traceOnly[0].matched, "KeyError: 'lr'");
});

Deno.test("diagnose: a run that succeeded, or has not finished, has nothing to diagnose", () => {
  assertEquals(
    diagnose({
      lifeCycleState: "TERMINATED",
      resultState: "SUCCESS",
      tasks: [{
        taskKey: "main",
        resultState: "SUCCESS",
        logs: "warning: No module named 'tools' (optional)\n",
      }],
    }),
    [],
  );
  assertEquals(diagnose({ lifeCycleState: "RUNNING", tasks: [{ taskKey: "main" }] }), []);
});

Deno.test("diagnose: ANSI is stripped; one diagnosis per rule and task, though error, trace and logs all match", () => {
  const task = failedTask(
    "NameError",
    "name '__file__' is not defined",
    [[SCRIPT, 9, "HERE = Path(__file__).parent"]],
    `${ESC}[0;31mNameError${ESC}[0m: name '__file__' is not defined\n`,
  );
  const ds = diagnose(failedRun(task));
  assertEquals(ds.length, 1);
  assertEquals(ds[0].matched, "NameError: name '__file__' is not defined");
  assert(!ds.some((d) => d.matched.includes(ESC)));
});

Deno.test("diagnose: most specific first; generic causes give way to specific ones", () => {
  // Two tasks: a seed row in the second one, a generic one in the first.
  const a: DiagnoseTask = { ...failedTask("ModuleNotFoundError", "No module named 'ranker'"), taskKey: "a" };
  const b: DiagnoseTask = { ...failedTask("NameError", "name '__file__' is not defined"), taskKey: "b" };
  const ds = diagnose(failedRun(a, b));
  assertEquals(ds.map((d) => [d.id, d.task_key]), [["file-not-defined", "b"], ["module-not-found", "a"]]);
  // The roll-up on the run repeats the task's cause: reported once, on the task.
  const timedOut = diagnose({
    resultState: "TIMEDOUT",
    tasks: [{ taskKey: "main", resultState: "TIMEDOUT" }],
  });
  assertEquals(timedOut.map((d) => d.task_key), ["main"]);
  // A cluster that failed because of a bad spark version: the specific cause only.
  const bad = diagnose({
    resultState: "FAILED",
    terminationCode: "INVALID_CLUSTER_REQUEST",
    stateMessage: "INVALID_PARAMETER_VALUE: Invalid spark version 16.4.x-ml-scala2.12.",
    tasks: [],
  });
  assertEquals(bad.map((d) => d.id), ["invalid-spark-version"]);
});

Deno.test("diagnose: the list of ids covers every rule once", () => {
  assertEquals(new Set(DIAGNOSIS_IDS).size, DIAGNOSIS_IDS.length);
  for (
    const id of [
      "file-not-defined",
      "workspace-not-importable",
      "missing-pip-package",
      "pydantic-v1-runtime",
      "langchain-schema-import",
      "uc-access-mode",
      "uc-signature-missing",
      "uc-schema-missing",
      "agent-endpoint-type-locked",
      "invalid-spark-version",
      "log-model-name-kwarg",
      "tool-error-null-response",
      "notebook-not-file",
      "max-concurrent-runs",
      "workspace-run-limit",
      "max-spark-contexts",
      "timed-out",
      "canceled",
      "cluster-error",
      "driver-error",
      "library-installation",
      "syntax-error",
      "module-not-found",
      "workspace-file-not-found",
      "unknown",
    ]
  ) assert(DIAGNOSIS_IDS.includes(id), id);
});

// ---- issue 11: diagnoses that agree with the guide and with each other ----

Deno.test("diagnose: PERMISSION_DENIED never calls Standard (shared) access mode acceptable", () => {
  const task = failedTask(
    "RestException",
    "PERMISSION_DENIED: Access denied to clusters that don't have Unity Catalog enabled",
  );
  const d = only(diagnose(failedRun(task)), "uc-access-mode");
  assertStringIncludes(d.fix, "SINGLE_USER");
  assertMatch(d.fix, /Standard \(shared\) and no-isolation clusters do not qualify/);
  assert(!/or Standard access mode/.test(d.fix + d.cause));
});

Deno.test("diagnose: langchain.schema has the guide's one cause, however the logs phrase it", () => {
  const logs = "Traceback (most recent call last):\n" +
    "mlflow.exceptions.MlflowException: Failed to load the model: No module named 'langchain.schema'\n" +
    "E   ModuleNotFoundError: No module named 'langchain.schema.document'\n";
  const task = failedTask("ModuleNotFoundError", "No module named 'langchain.schema'", undefined, logs);
  const ds = diagnose(failedRun(task));
  assertEquals(ds.map((d) => d.id), ["langchain-schema-import"]);
  assert(!JSON.stringify(ds).includes("--libraries"), JSON.stringify(ds));
  // With the tree's module list too (the case that made langchain a pip package to install).
  assertEquals(diagnose({ ...failedRun(task), localModules: ["tools"] }).map((d) => d.id), [
    "langchain-schema-import",
  ]);
});

Deno.test("diagnose: model_validator names the 15.4 pydantic cause only on 15.4", () => {
  const task = failedTask(
    "ImportError",
    "cannot import name 'model_validator' from 'pydantic' (/x/pydantic.so)",
  );
  const on154 = diagnose({ ...failedRun(task), sparkVersion: "15.4.x-cpu-ml-scala2.12" })[0];
  assertStringIncludes(on154.cause, "15.4 LTS ML");
  for (const sparkVersion of [undefined, "14.3.x-cpu-ml-scala2.12", "13.3.x-cpu-ml-scala2.12"]) {
    const d = diagnose({ ...failedRun(task), ...(sparkVersion ? { sparkVersion } : {}) })[0];
    assertEquals(d.id, "pydantic-v1-runtime");
    assert(!d.cause.includes("15.4"), `${sparkVersion}: ${d.cause}`);
    assertStringIncludes(d.cause, "pydantic v1");
  }
  const on164 = diagnose({ ...failedRun(task), sparkVersion: "16.4.x-cpu-ml-scala2.12" })[0];
  assert(!on164.cause.includes("15.4"));
});

Deno.test("diagnose: missing arguments (sys.argv IndexError, argparse exit 2) → job run FILE -- ARGS", () => {
  const argv = failedTask("IndexError", "list index out of range", [[SCRIPT, 3, "catalog = sys.argv[1]"]]);
  const a = only(diagnose({ ...failedRun(argv), file: "etl.py" }), "missing-arguments");
  assertStringIncludes(a.cause, "sys.argv");
  assertEquals(a.command, "dbxr job run etl.py -- ARGS");
  // argparse prints usage on stderr (the task's logs) and exits 2.
  const usage = "usage: etl.py [-h] --catalog CATALOG input_path\n" +
    "etl.py: error: the following arguments are required: --catalog, input_path\n";
  const parsed = failedTask("SystemExit", "2", [
    [SCRIPT, 9, "args = parser.parse_args()"],
    // argparse's own source line in the trace is not the message.
    ["/usr/lib/python3.12/argparse.py", 2142, "self.error(_('the following arguments are required: %s') %"],
  ], usage);
  const p = only(diagnose({ ...failedRun(parsed), file: "etl.py" }), "missing-arguments");
  assertStringIncludes(p.cause, "--catalog, input_path");
  assertEquals(p.command, "dbxr job run etl.py -- --catalog VALUE INPUT_PATH");
  // An IndexError that has nothing to do with argv is not this.
  const other = failedTask("IndexError", "list index out of range", [[SCRIPT, 3, "first = rows[0]"]]);
  assert(!diagnose(failedRun(other)).some((d) => d.id === "missing-arguments"));
});
