// Why a job run failed, and what to do about it: the troubleshooting table of the seed's job-runner guide
// plus the failures that Databricks reports through run states and termination codes. Pure: the caller
// fetches runs/get and every task's get-output and passes the texts in.

import { shellQuote } from "../shell.ts";
import { stripAnsi } from "../session/outputs.ts";

export interface DiagnoseTask {
  taskKey: string;
  resultState?: string;
  stateMessage?: string;
  /** get-output `error`: the exception line and a `[Trace ID: …]` line. */
  error?: string;
  /** get-output `error_trace`: the IPython traceback, with ANSI colours. */
  errorTrace?: string;
  logs?: string;
}

export interface DiagnoseInput {
  lifeCycleState?: string;
  resultState?: string;
  stateMessage?: string;
  /** status.termination_details.code of the run. */
  terminationCode?: string;
  tasks: DiagnoseTask[];
  sparkVersion?: string;
  /** Fills RUN_ID in commands and paths. */
  runId?: number | string;
  /** The local script that was run; fills FILE in commands. */
  file?: string;
  /**
   * Top-level module and package names of the uploaded tree (`tools` for tools/, `helper` for helper.py):
   * tells a local package that /Workspace could not import from a pip package that is not installed.
   */
  localModules?: readonly string[];
}

export interface Diagnosis {
  id: string;
  task_key?: string;
  /** The line (or the state) that matched, ANSI stripped. */
  matched: string;
  cause: string;
  fix: string;
  /** A dbxr command that applies the fix; placeholders (FILE, RUN_ID) only when the input lacks them. */
  command?: string;
  source: "seed" | "dbxr";
}

interface Advice {
  cause: string;
  fix: string;
  command?: string;
}

/** What a rule sees: one task, or the run itself (taskKey undefined). */
interface Scope {
  taskKey?: string;
  /** ANSI stripped, most precise first: error, error_trace, logs, state message. */
  texts: string[];
  resultState?: string;
  terminationCode?: string;
  stateMessage?: string;
  succeeded: boolean;
}

interface Env {
  input: DiagnoseInput;
  file: string;
  runId: string;
}

interface Rule {
  id: string;
  source: "seed" | "dbxr";
  /** Searched line by line in the scope's texts. */
  pattern?: RegExp;
  /** Narrows a pattern match (the module rules split one message three ways). */
  when?: (m: RegExpExecArray, env: Env, scope: Scope) => boolean;
  /** A match on the scope's states; returns the text to report as matched. */
  state?: (s: Scope) => string | undefined;
  /** Dropped for a task when a more specific rule explained it (and for the run when any did). */
  generic?: boolean;
  /** Also looked for in tasks that succeeded (the failure is in what the script printed). */
  onSuccess?: boolean;
  advise: (m: RegExpExecArray | undefined, env: Env, scope: Scope) => Advice;
}

const wrapCommand = (env: Env) => `dbxr job run ${env.file} --wrap`;

// Pip distributions whose name is not the module name with `_` → `-`.
const PIP_NAMES: Readonly<Record<string, string>> = {
  yaml: "pyyaml",
  sklearn: "scikit-learn",
  cv2: "opencv-python",
  PIL: "pillow",
  bs4: "beautifulsoup4",
  dotenv: "python-dotenv",
  dateutil: "python-dateutil",
  databricks: "databricks-sdk",
};
// Modules that are pip packages for sure (the seed's agent stack first); databricks.* counts too.
const KNOWN_PIP = new Set([
  "databricks_langchain",
  "langgraph",
  "langchain",
  "langchain_core",
  "langchain_community",
  "langchain_openai",
  "databricks_ai_bridge",
  "unitycatalog",
  "mlflow",
  "openai",
  "pydantic",
  "tiktoken",
  "transformers",
  "torch",
  "xgboost",
  "lightgbm",
  "requests",
  "httpx",
  ...Object.keys(PIP_NAMES),
]);
const DATABRICKS_SUBPACKAGES: Readonly<Record<string, string>> = {
  agents: "databricks-agents",
  sdk: "databricks-sdk",
  vector_search: "databricks-vectorsearch",
};
// Folder names that projects use for their own code; with no list of the uploaded tree, these are local.
const COMMON_LOCAL = new Set([
  "tools",
  "utils",
  "util",
  "helpers",
  "common",
  "lib",
  "src",
  "agent",
  "config",
  "core",
  "app",
  "pipelines",
  "prompts",
]);

type ModuleKind = "local" | "pip" | "unknown";

// The guide's one cause for it is MLflow's stale import (langchain-schema-import), never a missing package.
const isLangchainSchema = (module: string) => /^langchain\.schema(\.|$)/.test(module);

function moduleKind(module: string, env: Env): ModuleKind | "explained" {
  if (isLangchainSchema(module)) return "explained";
  const top = module.split(".")[0];
  const local = env.input.localModules;
  if (local?.includes(top)) return "local";
  if (KNOWN_PIP.has(top)) return "pip";
  if (local && local.length > 0) return "pip";
  return COMMON_LOCAL.has(top) ? "local" : "unknown";
}

function pipName(module: string): string {
  const [top, sub] = module.split(".");
  if (top === "databricks" && sub) {
    return DATABRICKS_SUBPACKAGES[sub] ?? `databricks-${sub.replace(/_/g, "-")}`;
  }
  return PIP_NAMES[top] ?? top.replace(/_/g, "-").toLowerCase();
}

const PYDANTIC_V2_ONLY = new Set([
  "model_validator",
  "field_validator",
  "field_serializer",
  "model_serializer",
  "ConfigDict",
  "computed_field",
  "TypeAdapter",
  "RootModel",
  "ValidationInfo",
]);

const MODULE_NOT_FOUND = /No module named '([\w.]+)'/;
const FILE_NOT_FOUND = /(?:FileNotFoundError|No such file or directory)\b[^\n]*?'([^'\n]+)'/;
const resultIs = (...states: string[]) => (s: Scope) =>
  s.resultState && states.includes(s.resultState) ? `result_state: ${s.resultState}` : undefined;
const codeIs = (...codes: string[]) => (s: Scope) =>
  s.terminationCode && codes.includes(s.terminationCode)
    ? `termination_code: ${s.terminationCode}`
    : undefined;
const either = (...fs: Array<(s: Scope) => string | undefined>) => (s: Scope) =>
  fs.map((f) => f(s)).find((x) => x !== undefined);
const saying = (s: Scope) => s.stateMessage ? ` Databricks says: "${s.stateMessage}"` : "";

/** In order of specificity: the first rules name one exact mistake, the last ones only a kind of failure. */
const RULES: readonly Rule[] = [
  {
    id: "file-not-defined",
    source: "seed",
    pattern: /NameError: name '__file__' is not defined/,
    advise: (_m, env) => ({
      cause: "spark_python_task exec()s the script's source, so __file__ is not defined.",
      fix:
        "Run it through dbxr's runner (--wrap: runpy sets __file__ to a local copy of the tree), or replace " +
        '__file__ with a path constant such as WORKSPACE_BASE = "/Workspace/Users/<you>/<project>".',
      command: wrapCommand(env),
    }),
  },
  {
    id: "langchain-schema-import",
    source: "seed",
    pattern: /No module named '(langchain\.schema[\w.]*)'/,
    advise: () => ({
      cause:
        "MLflow on the 16.4 ML runtime still imports langchain.schema, which current langchain no longer " +
        "has, when mlflow.langchain.log_model() loads the model.",
      fix: 'Log the agent with mlflow.pyfunc.log_model(python_model="agent.py", ...) instead of ' +
        "mlflow.langchain.log_model(); keep the langchain packages in pip_requirements.",
    }),
  },
  {
    id: "pydantic-v1-runtime",
    source: "seed",
    pattern: /cannot import name '(\w+)' from 'pydantic[\w.]*'/,
    when: (m) => PYDANTIC_V2_ONLY.has(m[1]),
    advise: (m, env) => {
      const version = env.input.sparkVersion;
      const rt = /^(\d+)\.(\d+)/.exec(version ?? "");
      const [major, minor] = rt ? [Number(rt[1]), Number(rt[2])] : [0, 0];
      if (major >= 16) {
        // 16.4 ships v2, so something the job installed took it back to v1.
        return {
          cause: `${m![1]} is pydantic v2 API, and ${version} ships v2: a library of the run installed ` +
            "pydantic v1 over it (a pin such as pydantic<2).",
          fix:
            "Remove the pydantic<2 pin (or the package that requires it) from --libraries and requirements.",
        };
      }
      if (major === 15 && minor === 4) {
        return {
          cause: `${m![1]} is pydantic v2 API; the runtime ${version} (15.4 LTS ML) ships pydantic v1 ` +
            "compiled in, and pip installing v2 over it (databricks-langchain does) breaks it.",
          fix: "Use the 16.4 LTS ML runtime (pydantic v2): the ml-single-node template " +
            "(16.4.x-cpu-ml-scala2.12), or an existing cluster on 16.4 ML.",
          command: `dbxr job run ${env.file} --new-cluster --template ml-single-node`,
        };
      }
      const known = version ? `the runtime ${version}` : "the task's Python";
      return {
        cause: `${m![1]} is pydantic v2 API, and ${known} has pydantic v1: the runtime ships v1 or a ` +
          "library of the run pinned it (pydantic<2)." +
          (version ? "" : " The run does not say which runtime it used."),
        fix: "Run on the 16.4 LTS ML runtime (pydantic v2; the ml-single-node template) and drop any " +
          "pydantic<2 pin from --libraries and requirements.",
        command: `dbxr job run ${env.file} --new-cluster --template ml-single-node`,
      };
    },
  },
  {
    id: "log-model-name-kwarg",
    source: "seed",
    pattern: /log_model\(\) got an unexpected keyword argument 'name'/,
    advise: () => ({
      cause: "The MLflow on this runtime (2.x) takes artifact_path, not name (name came with MLflow 3).",
      fix: 'Call log_model(..., artifact_path="agent") instead of name="agent".',
    }),
  },
  {
    id: "uc-access-mode",
    source: "seed",
    pattern:
      /PERMISSION_DENIED\b.*\bclusters?\b.*(?:Unity Catalog|\bUC\b)|PERMISSION_DENIED\b.*(?:Unity Catalog|\bUC\b).*\bclusters?\b|UC_NOT_ENABLED|Unity Catalog is not enabled on this cluster/i,
    advise: (_m, env) => ({
      cause:
        "The cluster's access mode has no Unity Catalog: registering a model (or reading UC tables) needs " +
        'data_security_mode "SINGLE_USER" (Dedicated).',
      fix: "Use a job cluster with data_security_mode SINGLE_USER: every built-in template has it, so drop " +
        "data_security_mode from --cluster-spec; an existing cluster must be in Dedicated (single user, " +
        "SINGLE_USER) access mode: Standard (shared) and no-isolation clusters do not qualify.",
      command: `dbxr job run ${env.file} --new-cluster --template ml-single-node`,
    }),
  },
  {
    id: "uc-signature-missing",
    source: "seed",
    pattern: /did not contain any signature metadata/,
    advise: () => ({
      cause: "Unity Catalog registers only models with a signature that has both inputs and outputs; an " +
        "input_example alone did not give MLflow a complete one.",
      fix:
        "Pass signature=mlflow.models.infer_signature(model_input=<example request>, model_output=<example " +
        "response>) to log_model(), or log with mlflow.pyfunc.log_model(), which infers it more reliably.",
    }),
  },
  {
    id: "uc-schema-missing",
    source: "seed",
    pattern: /RESOURCE_DOES_NOT_EXIST\b.*/,
    when: (m) => schemaName(m[0]) !== undefined,
    advise: (m) => {
      const name = schemaName(m![0])!;
      return {
        cause:
          `The Unity Catalog schema ${name} does not exist, so nothing can be registered or written into it.`,
        fix:
          `Create it (dbxr uc ensure-schema ${name}), or let dbxr job run create it with --ensure-schema; ` +
          `or register into a schema you can use (dbxr uc schemas ${name.split(".")[0]}).`,
        command: `dbxr uc ensure-schema ${shellQuote(name)}`,
      };
    },
  },
  {
    id: "uc-catalog-missing",
    source: "dbxr",
    pattern: /RESOURCE_DOES_NOT_EXIST\b.*\bCatalog '([\w-]+)' does not exist/i,
    advise: (m) => ({
      cause: `The Unity Catalog catalog ${m![1]} does not exist, or you cannot see it.`,
      fix:
        "Register into a catalog you have access to (dbxr uc catalogs lists them), or ask an admin to create " +
        `${m![1]} and grant you USE CATALOG and CREATE SCHEMA on it.`,
      command: "dbxr uc catalogs",
    }),
  },
  {
    id: "agent-endpoint-type-locked",
    source: "seed",
    pattern: /Agent endpoint cannot (?:be updated to )?serve non-agent models/i,
    advise: () => ({
      cause:
        "The serving endpoint's type was fixed by its first deployment (langchain vs pyfunc); a model of " +
        "the other flavour cannot be deployed to it.",
      fix:
        "Delete the endpoint (WorkspaceClient().serving_endpoints.delete(name), or in the Serving UI), then " +
        "call agents.deploy() again to create it fresh for the new model type.",
    }),
  },
  {
    id: "invalid-spark-version",
    source: "seed",
    pattern: /Invalid spark version:? ['"]?([\w.-]*\w)/i,
    advise: (m) => {
      const bad = m![1];
      const fixed = /-ml-/.test(bad) && !/-(cpu|gpu)-ml-/.test(bad)
        ? bad.replace("-ml-", "-cpu-ml-")
        : undefined;
      return {
        cause: fixed
          ? `${bad} is not a runtime key: ML runtimes are named -cpu-ml- or -gpu-ml-.`
          : `${bad} is not a runtime this workspace offers.`,
        fix: fixed
          ? `Use ${
            fixed.replace(/^\d+\.\d+/, "16.4")
          } (the ml-single-node template) or ${fixed}; check the keys first.`
          : "Pick a key from the workspace's list (16.4.x-cpu-ml-scala2.12 for ML work) in --cluster-spec, or use " +
            "the default template.",
        command: "dbxr cluster spark-versions --filter cpu-ml",
      };
    },
  },
  {
    id: "notebook-not-file",
    source: "seed",
    pattern: /Cannot read the python file/i,
    advise: (_m, env) => ({
      cause: "The python_file is a workspace NOTEBOOK, not a file: `workspace import --language PYTHON` " +
        "creates notebooks, and a spark_python_task can only run files.",
      fix:
        "Upload it as a file: dbxr job run uploads the script as a workspace file (or dbxr workspace upload " +
        "LOCAL REMOTE --overwrite; databricks workspace import-dir also makes files).",
      command: `dbxr job run ${env.file}`,
    }),
  },
  {
    id: "tool-error-null-response",
    source: "seed",
    pattern:
      /"(?:predictions|choices|output|messages)"\s*:\s*null|langgraph[/.]prebuilt[/.]tool_node|\bToolException\b/,
    onSuccess: true,
    advise: () => ({
      cause:
        "A tool raised inside LangGraph's ToolNode: without handle_tool_errors the whole graph fails and " +
        "the MLflow serving handler answers null.",
      fix:
        "Build the node as ToolNode(tools, handle_tool_errors=True) so the error goes back to the LLM as a " +
        "ToolMessage, and wrap the agent node's LLM call in try/except.",
    }),
  },
  {
    id: "workspace-not-importable",
    source: "seed",
    pattern: MODULE_NOT_FOUND,
    when: (m, env) => moduleKind(m[1], env) === "local",
    advise: (m, env) => ({
      cause: `${m![1]} is part of your project, but Python cannot import packages from the /Workspace FUSE ` +
        "mount, even with the folder on sys.path.",
      fix:
        `Run with --wrap (dbxr copies the uploaded tree to local disk and puts it on sys.path; upload ${
          m![1].split(".")[0]
        }/ with --include when it is not beside the script), or copy the tree yourself: ` +
        'shutil.copytree(WORKSPACE_SRC, "/tmp/<project>") then sys.path.insert(0, "/tmp/<project>") before ' +
        "importing or calling log_model().",
      command: wrapCommand(env),
    }),
  },
  {
    id: "missing-pip-package",
    source: "seed",
    pattern: MODULE_NOT_FOUND,
    when: (m, env) => moduleKind(m[1], env) === "pip",
    advise: (m, env) => {
      const pkg = pipName(m![1]);
      return {
        cause: `${pkg} is not installed on the cluster (the ML runtimes do not ship databricks-langchain, ` +
          "langgraph or databricks-agents), and log_model() imports the model's code while logging.",
        fix:
          `Install it for the run with --libraries ${pkg} (what %pip install ${pkg} does in a notebook), and ` +
          "list it in log_model(pip_requirements=[...]) for serving.",
        command: `dbxr job run ${env.file} --libraries ${shellQuote(pkg)}`,
      };
    },
  },
  {
    id: "max-concurrent-runs",
    source: "seed",
    pattern: /MAX(?:IMUM)?_CONCURRENT_RUNS_(?:REACHED|EXCEEDED)/,
    state: either(resultIs("MAXIMUM_CONCURRENT_RUNS_REACHED"), codeIs("MAX_CONCURRENT_RUNS_EXCEEDED")),
    advise: () => ({
      cause:
        "A previous run of this job is still active and the job allows no more concurrent runs, so this " +
        "one was skipped.",
      fix:
        "Cancel the previous run first (dbxr job list --active shows it; then dbxr job cancel RUN_ID), or " +
        "wait for it to finish.",
      command: "dbxr job list --active",
    }),
  },
  {
    id: "workspace-run-limit",
    source: "dbxr",
    pattern: /WORKSPACE_RUN_LIMIT_EXCEEDED/,
    state: codeIs("WORKSPACE_RUN_LIMIT_EXCEEDED"),
    advise: (_m, _env, s) => ({
      cause: `The workspace has as many active runs as it allows, so Databricks did not start this one.${
        saying(s)
      }`,
      fix:
        "Wait for runs to finish or cancel the ones you no longer need (dbxr job cancel RUN_ID), then run " +
        "again.",
      command: "dbxr job list --active",
    }),
  },
  {
    id: "max-spark-contexts",
    source: "dbxr",
    pattern: /MAX_SPARK_CONTEXTS_EXCEEDED|Too many execution contexts are open/,
    state: codeIs("MAX_SPARK_CONTEXTS_EXCEEDED"),
    advise: () => ({
      cause: "The cluster already holds as many execution contexts as it allows (about 145): every REPL " +
        "session (dbxr create) and every job task on an all-purpose cluster holds one.",
      fix:
        "Destroy the sessions you no longer use (dbxr destroy, with each one's --project-dir), or run the " +
        "job on a new job cluster instead of the shared one.",
      command: "dbxr destroy",
    }),
  },
  {
    id: "library-installation",
    source: "dbxr",
    pattern:
      /Library installation failed|LIBRARY_INSTALLATION_ERROR|Could not find a version that satisfies/i,
    state: codeIs("LIBRARY_INSTALLATION_ERROR"),
    advise: (m, _env, s) => {
      const pkg = libraryName([m?.input ?? "", ...s.texts, s.stateMessage ?? ""].join("\n"));
      return {
        cause: `A library of the task${pkg ? ` (${pkg})` : ""} failed to install on the cluster, so the ` +
          `script never started.${saying(s)}`,
        fix:
          "Check the name and version pin in --libraries against PyPI and the runtime's Python; drop pins " +
          "that conflict with packages the runtime ships.",
      };
    },
  },
  {
    id: "driver-error",
    source: "dbxr",
    pattern:
      /The spark driver has stopped unexpectedly|Driver (?:is|was) (?:temporarily )?unresponsive|The Python kernel is unresponsive|java\.lang\.OutOfMemoryError|DRIVER_ERROR/i,
    state: codeIs("DRIVER_ERROR"),
    advise: (_m, _env, s) => ({
      cause: `The driver crashed or stopped answering, most often because it ran out of memory.${saying(s)}`,
      fix:
        "Use a node type with more memory (node_type_id in --cluster-spec; dbxr cluster node-types lists " +
        "them), or keep less data on the driver (no toPandas()/collect() of large tables).",
      command: "dbxr cluster node-types",
    }),
  },
  {
    id: "workspace-file-not-found",
    source: "dbxr",
    pattern: FILE_NOT_FOUND,
    when: (m) => /^\/Workspace\//.test(m[1]),
    advise: (m) => {
      const path = m![1];
      return {
        cause:
          `The script opened ${path}, which does not exist on the cluster: it was not uploaded, or the ` +
          "path names another user's folder or an old location.",
        fix:
          "Upload what the script reads (dbxr job run --include DIR, or dbxr workspace upload LOCAL REMOTE), " +
          "or build the path from __file__ and run with --wrap so it points into the uploaded tree.",
        command: `dbxr workspace ls ${shellQuote(path.replace(/\/[^/]*$/, "") || "/")}`,
      };
    },
  },
  {
    id: "missing-arguments",
    source: "dbxr",
    pattern:
      /the following arguments are required: ((?:-{0,2}[\w-]+)(?:, -{0,2}[\w-]+)*)\s*$|^\s*(?:IndexError: list index out of range)\s*$|error: argument [^:]+: expected (?:one|\d+) arguments?/,
    // An IndexError is about argv only when the trace shows sys.argv being indexed.
    when: (m, _env, scope) =>
      m[0].includes("IndexError") ? scope.texts.some((t) => /sys\.argv\[/.test(t)) : true,
    advise: (m, env) => {
      const names = m?.[1]?.split(/,\s*/).map((n) => n.trim()).filter(Boolean) ?? [];
      const args = names.length > 0
        ? names.map((n) => n.startsWith("-") ? `${n} VALUE` : n.toUpperCase().replace(/[^A-Z0-9_]/g, "_"))
          .join(" ")
        : "ARGS";
      return {
        cause: names.length > 0
          ? `The script requires arguments that the run did not pass (argparse: ${
            names.join(", ")
          }), so it ` +
            "exited with status 2 before doing anything."
          : "The script reads its arguments from sys.argv, and the run passed fewer than it reads " +
            "(IndexError on sys.argv[…]).",
        fix:
          "Pass the arguments after -- (they become the spark_python_task's parameters, i.e. sys.argv[1:]).",
        command: `dbxr job run ${env.file} -- ${args}`,
      };
    },
  },
  {
    id: "syntax-error",
    source: "dbxr",
    generic: true,
    pattern: /^\s*SyntaxError: .*/,
    advise: (_m, env, s) => {
      const magic = s.texts.some((t) => /^\s*(?:%pip|%sh|%run|!pip)\b/m.test(t));
      return {
        cause: magic
          ? "The script contains a notebook magic (%pip, %sh, !cmd): a spark_python_task runs plain Python."
          : "The script, or a module it imports, is not valid Python for the cluster's Python version " +
            "(16.4 runs 3.12, 15.4 3.11, 13.3 3.10).",
        fix: magic
          ? "Remove the magic lines; install packages with --libraries instead of %pip."
          : "Fix the line the traceback points at; dbxr job check finds syntax errors before anything is submitted.",
        command: magic ? undefined : `dbxr job check ${env.file}`,
      };
    },
  },
  {
    id: "module-not-found",
    source: "dbxr",
    generic: true,
    pattern: MODULE_NOT_FOUND,
    when: (m, env) => moduleKind(m[1], env) === "unknown",
    advise: (m, env) => ({
      cause: `Python could not import ${m![1]}.`,
      fix:
        `If ${m![1].split(".")[0]} is part of your project: upload it (--include DIR) and run with --wrap, ` +
        `because /Workspace is not importable (${wrapCommand(env)}). If it is a PyPI package: install it ` +
        `with --libraries ${pipName(m![1])}.`,
    }),
  },
  {
    id: "file-not-found",
    source: "dbxr",
    generic: true,
    pattern: FILE_NOT_FOUND,
    when: (m) => !/^\/Workspace\//.test(m[1]),
    advise: (m, env) => ({
      cause: `The script could not find ${m![1]}` +
        (m![1].startsWith("/")
          ? "."
          : ": relative paths resolve against the working directory, which on Databricks is not your " +
            "project folder (it is the script's /Workspace folder on DBR 14+, and /databricks/driver before)."),
      fix:
        "Upload the data with the script (--include DIR) and run with --wrap, which runs the script from " +
        "its own directory in a local copy of the tree; or use absolute /Workspace or /Volumes paths.",
      command: wrapCommand(env),
    }),
  },
  {
    id: "timed-out",
    source: "dbxr",
    state: resultIs("TIMEDOUT"),
    advise: (_m, env) => ({
      cause: "The run went past its timeout_seconds and Databricks stopped it.",
      fix: `Give it more time (--timeout SECONDS, 0 for none) or make it faster; job_outputs/${env.runId}/ ` +
        "shows how far it got.",
      command: `dbxr job run ${env.file} --timeout 0`,
    }),
  },
  {
    id: "canceled",
    source: "dbxr",
    state: either(resultIs("CANCELED"), codeIs("USER_CANCELED", "CANCELED", "CLUSTER_TERMINATED_BY_USER")),
    advise: (_m, _env, s) => ({
      cause: s.terminationCode === "CLUSTER_TERMINATED_BY_USER"
        ? "Someone terminated the cluster while the run was on it."
        : "The run was cancelled: dbxr job cancel, Ctrl-C during dbxr job run, or the Jobs UI.",
      fix:
        "Nothing is wrong with the script as far as this run shows: run it again. dbxr job run cancels the " +
        "run on Ctrl-C unless given --no-cancel-on-interrupt.",
    }),
  },
  {
    id: "cluster-error",
    source: "dbxr",
    generic: true,
    state: codeIs(
      "CLUSTER_ERROR",
      "CLOUD_FAILURE",
      "INVALID_CLUSTER_REQUEST",
      "CLUSTER_REQUEST_LIMIT_EXCEEDED",
    ),
    advise: (_m, _env, s) => ({
      cause: `The job cluster could not be created or was lost (${s.terminationCode}).${saying(s)}`,
      fix: s.terminationCode === "INVALID_CLUSTER_REQUEST"
        ? "Fix the cluster spec the message names (spark_version, node_type_id, access mode) in --cluster-spec, " +
          "or use a built-in --template."
        : "Out of cloud capacity or quota: try another node type (node_type_id in --cluster-spec) or an " +
          "--instance-pool, or run on an existing cluster with --cluster-id; then run again.",
      command: "dbxr cluster node-types",
    }),
  },
];

export const DIAGNOSIS_IDS: readonly string[] = [...RULES.map((r) => r.id), "unknown"];

const TRAIL_ID = /^\[Trace ID: [^\]]*\]$/;
const EXCEPTION_LINE = /^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)\b(?::|$)/;
const MAX_MATCHED = 300;
// Tasks in these states did not fail on their own: their upstream did, or they never ran.
const NOT_A_CAUSE = new Set([
  "SUCCESS",
  "UPSTREAM_FAILED",
  "UPSTREAM_CANCELED",
  "EXCLUDED",
  "SKIPPED",
  "DISABLED",
]);
const NOT_FINISHED = new Set(["QUEUED", "PENDING", "RUNNING", "TERMINATING", "BLOCKED", "WAITING_FOR_RETRY"]);

/** Every known cause the run's states and texts show, most specific first, one per rule and task. */
export function diagnose(input: DiagnoseInput): Diagnosis[] {
  const env: Env = {
    input,
    file: input.file ? shellQuote(input.file) : "FILE",
    runId: input.runId !== undefined ? String(input.runId) : "RUN_ID",
  };
  const scopes: Scope[] = input.tasks.map((t) => ({
    taskKey: t.taskKey,
    texts: [t.error, t.errorTrace, t.logs, t.stateMessage].filter((x): x is string => !!x).map(clean),
    resultState: t.resultState,
    stateMessage: t.stateMessage,
    succeeded: t.resultState === "SUCCESS",
  }));
  const runScope: Scope = {
    texts: input.stateMessage ? [clean(input.stateMessage)] : [],
    resultState: input.resultState,
    terminationCode: input.terminationCode,
    stateMessage: input.stateMessage,
    succeeded: input.resultState === "SUCCESS",
  };

  const found: Array<{ rank: number; order: number; d: Diagnosis }> = [];
  [...scopes, runScope].forEach((scope, order) => {
    const hits: Array<{ rank: number; d: Diagnosis; generic: boolean }> = [];
    // A line explained by one rule is not explained again by a later, vaguer one.
    const claimed = new Set<string>();
    RULES.forEach((rule, rank) => {
      if (scope.succeeded && !rule.onSuccess) return;
      const d = apply(rule, scope, env, claimed);
      if (d) hits.push({ rank, d, generic: !!rule.generic });
    });
    const specific = hits.some((h) => !h.generic);
    for (const h of hits) if (!h.generic || !specific) found.push({ rank: h.rank, order, d: h.d });
  });

  // The run repeats what its tasks said (the failure roll-up): keep the task's copy, which names the task.
  const onTasks = new Set(found.filter((f) => f.d.task_key !== undefined).map((f) => f.d.id));
  const anySpecific = found.some((f) => !RULES[f.rank].generic);
  const kept = found.filter((f) => {
    if (f.d.task_key !== undefined) return true;
    return !onTasks.has(f.d.id) && !(RULES[f.rank].generic && anySpecific);
  });
  kept.sort((a, b) => a.rank - b.rank || a.order - b.order);
  const out = kept.map((f) => f.d);
  return out.length > 0 ? out : fallback(input, scopes, env);
}

function apply(rule: Rule, scope: Scope, env: Env, claimed: Set<string>): Diagnosis | undefined {
  const base = { id: rule.id, ...(scope.taskKey !== undefined ? { task_key: scope.taskKey } : {}) };
  if (rule.pattern) {
    for (const text of scope.texts) {
      for (const line of text.split("\n")) {
        const key = line.trim();
        if (claimed.has(key)) continue;
        const m = rule.pattern.exec(line);
        if (!m || (rule.when && !rule.when(m, env, scope))) continue;
        claimed.add(key);
        return { ...base, matched: cut(key), ...rule.advise(m, env, scope), source: rule.source };
      }
    }
  }
  const state = rule.state?.(scope);
  if (state) return { ...base, matched: state, ...rule.advise(undefined, env, scope), source: rule.source };
  return undefined;
}

function fallback(input: DiagnoseInput, scopes: Scope[], env: Env): Diagnosis[] {
  if (input.resultState === "SUCCESS" && scopes.every((s) => s.succeeded)) return [];
  if (input.lifeCycleState && NOT_FINISHED.has(input.lifeCycleState) && !input.resultState) return [];
  const failed = scopes.filter((s) => !NOT_A_CAUSE.has(s.resultState ?? ""));
  const unknown = (scope: Scope | undefined): Diagnosis => {
    const task = scope?.taskKey;
    const log = `job_outputs/${env.runId}/${task ? task.replace(/[^A-Za-z0-9_.-]+/g, "_") : "TASK"}.log`;
    const resultState = scope?.resultState ?? input.resultState;
    const state = resultState
      ? `result_state: ${resultState}`
      : input.lifeCycleState
      ? `life_cycle_state: ${input.lifeCycleState}`
      : undefined;
    return {
      id: "unknown",
      ...(task !== undefined ? { task_key: task } : {}),
      matched: firstErrorLine(scope?.texts ?? []) ??
        (input.stateMessage ? cut(clean(input.stateMessage)) : undefined) ??
        state ?? "(no error text)",
      cause: "None of the known failures matched.",
      fix: `No known cause: read the task's log at ${log} (and its .error_trace.txt beside it) for the ` +
        "exception and what the script printed before it.",
      command: `dbxr job output ${env.runId}`,
      source: "dbxr",
    };
  };
  return failed.length > 0 ? failed.map(unknown) : [unknown(undefined)];
}

/** The schema named by a RESOURCE_DOES_NOT_EXIST message about a schema (not a model, table or catalog). */
function schemaName(line: string): string | undefined {
  const rest = line.replace(/^.*?RESOURCE_DOES_NOT_EXIST\b:?\s*/, "");
  if (/\b(?:registered model|model version|model|table|volume|function|catalog)\b/i.test(rest)) {
    if (!/\bschema\b/i.test(rest)) return undefined;
  }
  const name = /['"`]?([\w-]+)['"`]?\.['"`]?([\w-]+)['"`]?/.exec(rest);
  if (!name) return undefined;
  // `Schema 'c.s' does not exist` or the seed's bare `RESOURCE_DOES_NOT_EXIST: catalog.schema`; a
  // three-part name is a model or table inside the schema: its schema part is what is missing only when
  // the message says "schema".
  const threePart = new RegExp(`${escape(name[0])}\\.[\\w-]+`).test(rest);
  if (threePart && !/\bschema\b/i.test(rest)) return undefined;
  return `${name[1]}.${name[2]}`;
}

function libraryName(text: string): string | undefined {
  return /package:\s*"([^"]+)"/.exec(text)?.[1] ??
    /Could not find a version that satisfies the requirement ([^\s(]+)/.exec(text)?.[1] ??
    /No matching distribution found for ([^\s(]+)/.exec(text)?.[1];
}

// The exception line when there is one (an IPython trace starts with a rule of dashes), else the first line.
function firstErrorLine(texts: string[]): string | undefined {
  const lines = texts.flatMap((t) => t.split("\n")).map((l) => l.trim()).filter((l) =>
    l && !TRAIL_ID.test(l)
  );
  const line = lines.find((l) => EXCEPTION_LINE.test(l)) ?? lines.find((l) => !/^-+$/.test(l));
  return line === undefined ? undefined : cut(line);
}

const clean = (s: string) => stripAnsi(s).replace(/\r\n?/g, "\n");
const cut = (s: string) => s.length > MAX_MATCHED ? `${s.slice(0, MAX_MATCHED - 1)}…` : s;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
