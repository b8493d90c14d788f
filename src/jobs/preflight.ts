// `dbxr job check`: the databricks-job-runner guide's pitfalls (seed 002) as rules. Each rule is data
// (id, severity, the seed's explanation, the fix, the dbxr command that applies it) plus a pure check
// over the facts of preflight_facts.ts. Static and local: nothing here reads files or calls the API.

import { type ClusterSpec, mlflowMajor, positionIn, type SpecCluster } from "./cluster_spec.ts";
import {
  argNamed,
  COPIERS,
  declaredPackages,
  type Facts,
  gatherFacts,
  type LogModelCall,
  neededPackages,
  pipPackages,
  type QCall,
  type ScriptFacts,
  type UcObject,
} from "./preflight_facts.ts";
import { codeTokens, isWorkspacePath, nameUsages } from "./pycalls.ts";
import type { Token } from "./pytokens.ts";
import { compareTimes, enclosingDef, execTime, outermostDef } from "./pyblocks.ts";
import { shellQuote } from "../shell.ts";
import { CLUSTER_ONLY_RULES, SERVERLESS_RULES, serverlessFinding } from "./preflight_serverless.ts";

export type Severity = "error" | "warning" | "info";

export type RuleId =
  | "file-dunder"
  | "workspace-import"
  | "syspath-after-log-model"
  | "uc-signature"
  | "langchain-name-kwarg"
  | "toolnode-errors"
  | "agent-node-try"
  | "pip-requirements"
  | "pip-magic"
  | "magic-line"
  | "notebook-source"
  | "uc-access-mode"
  | "spark-version-cpu"
  | "spark-version-unlisted"
  | "single-node-conf"
  | "uc-schema-missing"
  | "active-run"
  | "runtime-15-4-pydantic"
  | "langchain-schema"
  | "databricks-agents-deps"
  | "uc-three-part-name"
  | "serverless-cluster-spec"
  | "serverless-unity-catalog";

export interface Finding {
  rule: RuleId;
  severity: Severity;
  /** The script or cluster spec the finding is about, as given on the command line. */
  file: string;
  /** 1-based. */
  line: number;
  column: number;
  /** What is wrong here, in this file. */
  message: string;
  /** Why it fails on Databricks, quoting the seed. */
  explanation: string;
  /** How to fix it by hand. */
  fix: string;
  /** A dbxr command that applies or checks the fix. */
  command?: string;
  /** Machine-readable extras (uc-three-part-name: {catalog, schema, model, name}). */
  data?: Record<string, unknown>;
}

/** What a check returns; the rule fills in severity, explanation, fix and command unless overridden. */
export type Draft = Pick<Finding, "file" | "line" | "column" | "message"> & Partial<Finding>;

export interface Rule {
  id: RuleId;
  severity: Severity;
  /** Where in seed 002 it comes from. */
  seed: string;
  explanation: string;
  fix: string;
  /** FILE stands for the job's script. */
  command?: string;
  /** Online rules are checked by `job run` with workspace data (see checkSparkVersionListed). */
  online?: boolean;
  check(facts: Facts): Draft[];
}

// ---------------------------------------------------------------------------------------------------------
// The rules

const WRAP = "dbxr job run FILE --wrap";
const SPARK_VERSIONS = "dbxr cluster spark-versions --filter cpu-ml";
const UC_OK_MODES = new Set(["SINGLE_USER", "DATA_SECURITY_MODE_DEDICATED"]);

export const RULES: readonly Rule[] = [
  {
    id: "file-dunder",
    severity: "error",
    seed: "Critical Runtime Constraints 1; checklist; troubleshooting `NameError: __file__ is not defined`",
    explanation:
      "Databricks runs spark_python_task scripts via `exec(compile(f.read(), filename, 'exec'))`. " +
      "In this context, `__file__` is **undefined**, and the script crashes with NameError.",
    fix: 'Use a path constant (WORKSPACE_BASE = "/Workspace/Users/you@company.com/agents/my_agent") or an ' +
      "environment variable instead of __file__; or run with --wrap, which defines __file__ for the script.",
    command: WRAP,
    check: (f) =>
      f.scripts.flatMap((s) => {
        // F-strings are opaque tokens, but `f"{__file__}"` evaluates the name all the same (not `x.__file__`).
        const inFStrings = s.module.tokens.filter((t) =>
          t.kind === "string" && /[ft]/.test(t.prefix ?? "") &&
          /\{[^{}]*(?<![\w.])__file__\b/.test((t.value ?? "").replace(/\{\{|\}\}/g, ""))
        );
        const uses = [...nameUsages(s.module.tokens, "__file__"), ...inFStrings]
          .sort((a, b) => a.start - b.start);
        const direct = uses.map((t): Draft => {
          const guarded = dunderFileGuarded(s, t.line);
          return {
            file: s.path,
            line: t.line,
            column: t.column,
            message: guarded
              ? "`__file__` is used behind a NameError guard; the fallback path is what runs as a job"
              : "`__file__` is not defined in a spark_python_task (NameError)",
            ...(guarded ? { severity: "warning" } : {}),
          };
        });
        return [...direct, ...indirectFileUses(s)];
      }),
  },
  {
    id: "workspace-import",
    severity: "error",
    seed: "Critical Runtime Constraints 2; checklist; troubleshooting `No module named 'tools'`",
    explanation:
      "The /Workspace/ filesystem supports os.path.exists(), os.listdir() and shutil.copytree(), " +
      "but Python's importlib **CANNOT discover packages** from /Workspace/ paths, even after adding them " +
      "to sys.path (`No module named 'tools'`).",
    fix: "Copy the workspace files to a local POSIX path before importing or logging: " +
      "shutil.copytree(WORKSPACE_SRC, LOCAL_DIR) with LOCAL_DIR under /tmp, then sys.path.insert(0, LOCAL_DIR) " +
      "and import or log from LOCAL_DIR; or run with --wrap, which copies them for you.",
    command: WRAP,
    check: (f) => f.scripts.flatMap((s) => workspaceImportFindings(f, s)),
  },
  {
    id: "syspath-after-log-model",
    severity: "error",
    seed: "Critical Runtime Constraints 3; checklist `sys.path.insert(0, LOCAL_DIR)` before log_model",
    explanation: "MLflow internally calls importlib.util.spec_from_file_location() to load and validate " +
      "agent.py **before** bundling code_paths, so all imports in agent.py must resolve at log time, " +
      "not just at serving time.",
    fix: "Call sys.path.insert(0, LOCAL_DIR) with the agent's (local) directory BEFORE any " +
      "mlflow.*.log_model() call. Judged by the order the code runs in (a function runs where the script " +
      "calls it); where that cannot be told, it is a warning.",
    check: (f) => f.scripts.flatMap((s) => s.logModels.flatMap((l) => syspathOrder(s, l))),
  },
  {
    id: "uc-signature",
    severity: "error",
    seed: "Critical Runtime Constraints 5; checklist `signature`; troubleshooting " +
      "`Model did not contain any signature metadata`",
    explanation:
      "All models registered to Unity Catalog MUST have a signature with **both input AND output " +
      "types**. Providing input_example alone is NOT sufficient: MLflow may fail to infer a complete " +
      "signature, especially with mlflow.langchain.log_model().",
    fix: "Pass signature=mlflow.models.infer_signature(model_input=…, model_output=…) to log_model().",
    check: (f) => {
      if (!f.scripts.some((s) => s.registersToUc) && !f.ucFlag) return [];
      const registered = f.scripts.some((s) => s.registersToUc && s.registers.length > 0);
      return f.scripts.flatMap((s) =>
        s.logModels.flatMap((l): Draft[] => {
          const goesToUc = l.call.keywords.includes("registered_model_name") && (s.registersToUc || f.ucFlag);
          if (!goesToUc && !registered) return [];
          if (l.call.hasKwargsSpread) return [];
          const sig = argNamed(l.call, "signature");
          if (sig && sig.text !== "None") return [];
          return [{
            file: s.path,
            line: l.call.line,
            column: l.call.column,
            message: `${l.call.callee}() registers to Unity Catalog without an explicit signature=`,
          }];
        })
      );
    },
  },
  {
    id: "langchain-name-kwarg",
    severity: "warning",
    seed: "Troubleshooting `log_model() got unexpected keyword 'name'`",
    explanation: "`log_model() got unexpected keyword 'name'`: on MLflow 2 (16.4 LTS ML ships 2.21.3) " +
      "mlflow.langchain.log_model takes artifact_path, not name. MLflow 3 (17.3 LTS ML ships 3.0.1) renamed " +
      "artifact_path to name.",
    fix: 'MLflow 2 runtimes: artifact_path="agent". MLflow 3 runtimes: name="agent". Pass --runtime (or ' +
      "a cluster spec) so that the check knows which.",
    check: (f) =>
      f.scripts.flatMap((s) =>
        s.logModels.flatMap((l): Draft[] => {
          const at = { file: s.path, line: l.call.line, column: l.call.column };
          const mlflow = f.runtime ? mlflowMajor(f.runtime) : undefined;
          const rt = f.runtime ? `${f.runtime.label} (MLflow ${mlflow}, from ${f.runtimeSource})` : "";
          if (l.call.keywords.includes("name") && mlflow !== 3) {
            return [{
              ...at,
              message: mlflow === 2
                ? `${l.call.callee}(name=…) fails on runtime ${rt}: use artifact_path=`
                : `${l.call.callee}(name=…) works only on MLflow 3 (17.3 LTS ML+); 16.4 LTS ML needs artifact_path=`,
            }];
          }
          if (l.call.keywords.includes("artifact_path") && mlflow === 3) {
            return [{
              ...at,
              severity: "info",
              message: `${l.call.callee}(artifact_path=…) is deprecated on runtime ${rt}: use name=`,
            }];
          }
          return [];
        })
      ),
  },
  {
    id: "toolnode-errors",
    severity: "warning",
    seed:
      "`handle_tool_errors=True` is REQUIRED; troubleshooting `Endpoint returns null on tool-use queries`",
    explanation:
      "Without handle_tool_errors=True, if ANY tool raises an exception, the entire graph crashes " +
      "and MLflow's handler returns null to the caller. With it, ToolNode returns a ToolMessage with the " +
      "error text, so the LLM can report it gracefully.",
    fix: "tool_node = ToolNode(ALL_TOOLS, handle_tool_errors=True)",
    check: (f) =>
      f.scripts.flatMap((s) =>
        s.calls.flatMap((c): Draft[] => {
          if (c.qualified.split(".").pop() !== "ToolNode" || c.hasKwargsSpread) return [];
          const h = argNamed(c, "handle_tool_errors");
          if (h && !/^(False|None|0)$/.test(h.text)) return [];
          return [{
            file: s.path,
            line: c.line,
            column: c.column,
            message: h
              ? `ToolNode(handle_tool_errors=${h.text}): a failing tool crashes the graph`
              : "ToolNode(…) without handle_tool_errors=True: a failing tool crashes the graph",
          }];
        })
      ),
  },
  {
    id: "agent-node-try",
    severity: "warning",
    seed: '`handle_tool_errors=True` is REQUIRED: "Also wrap the agent node in try-except"',
    explanation: "The guide's agent pattern wraps the agent node's LLM call in try-except: an exception " +
      "from the model (rate limit, timeout, a bad tool call) otherwise crashes the whole graph, and MLflow's " +
      "handler returns null to the caller, as with a failing tool.",
    fix: 'def agent_node(state: MessagesState):\n    try:\n        return {"messages": ' +
      '[llm_with_tools.invoke(messages)]}\n    except Exception as exc:\n        return {"messages": ' +
      '[AIMessage(content=f"Error: {exc}")]}',
    check: (f) => f.scripts.flatMap(agentNodeFindings),
  },
  {
    id: "pip-requirements",
    severity: "warning",
    seed: "Checklist `pip_requirements in log_model() include all runtime dependencies`; Cell 3 template",
    explanation: "The serving environment installs what the logged model declares. The seed's checklist: " +
      "`pip_requirements` in log_model() include all runtime dependencies (databricks-langchain, langgraph, " +
      "databricks-agents, …).",
    fix: 'Pass pip_requirements=["mlflow[databricks]>=2.10.0", "databricks-langchain", "langgraph>=0.3.4", ' +
      '"langchain-core", "databricks-agents", "databricks-sdk"] (the packages your agent imports).',
    check: (f) => {
      const needed = f.scripts.flatMap(neededPackages).map((n) => n.pkg);
      return f.scripts.flatMap((s) =>
        s.logModels.flatMap((l): Draft[] => {
          const at = { file: s.path, line: l.call.line, column: l.call.column };
          if (l.call.hasKwargsSpread) return [];
          const declared = ["pip_requirements", "extra_pip_requirements", "conda_env"].some((k) =>
            l.call.keywords.includes(k)
          );
          if (!declared) {
            return [{ ...at, message: `${l.call.callee}() without pip_requirements=` }];
          }
          const pr = argNamed(l.call, "pip_requirements");
          if (!pr) return [];
          const listed = declaredPackages(s);
          const missing = [...new Set(needed)].filter((p) => !listed.has(p));
          // Only a list literal (directly or through one name) can be checked; a computed one is trusted.
          const one = pr.tokens.length === 1 && pr.tokens[0].kind === "name"
            ? s.scope.values.get(pr.tokens[0].text)?.at(-1)
            : pr.tokens;
          if (missing.length === 0 || !(one?.[0]?.text === "[" || one?.[0]?.text === "(")) return [];
          return [{
            ...at,
            message: `pip_requirements lacks ${missing.join(", ")}, which the checked scripts import`,
            data: { missing },
          }];
        })
      );
    },
  },
  {
    id: "pip-magic",
    severity: "error",
    seed: "Notebook template Cell 1 (`%pip install …` is notebook syntax); troubleshooting " +
      "`No module named 'databricks_langchain'`",
    explanation: "`%pip install` (and `%%pip`) only works in a notebook cell. A spark_python_task runs the " +
      "file through `exec(compile(f.read(), filename, 'exec'))`, where the line is a SyntaxError, so " +
      "nothing runs, let alone installs.",
    fix: "Remove the %pip line and install the packages as job libraries.",
    command: "dbxr job run FILE --libraries PACKAGES",
    check: (f) =>
      f.scripts.flatMap((s) => {
        const out: Draft[] = s.magics.filter((m) => isPipMagic(m.text)).map((m) => {
          const pkgs = pipPackages(m.text);
          return {
            file: s.path,
            line: m.line,
            column: m.column,
            message: `\`${firstLine(m.text)}\` is a SyntaxError in a Python file task`,
            ...(pkgs.length ? { command: librariesCommand(f.entry, pkgs), data: { packages: pkgs } } : {}),
          };
        });
        // `# MAGIC %pip …` in a notebook source file is a comment when the file runs as a Python file task.
        for (const t of s.module.tokens) {
          const m = t.kind === "comment" ? t.text.match(/^#\s*MAGIC\s+(%%?pip\b.*)$/) : null;
          if (!m) continue;
          const pkgs = pipPackages(m[1]);
          out.push({
            file: s.path,
            line: t.line,
            column: t.column,
            severity: "warning",
            message:
              `\`${m[1].trim()}\` runs only when the file is a notebook; as a Python file task it is ` +
              "a comment and installs nothing",
            ...(pkgs.length ? { command: librariesCommand(f.entry, pkgs), data: { packages: pkgs } } : {}),
          });
        }
        return out;
      }),
  },
  {
    id: "magic-line",
    severity: "error",
    seed: "spark_python_task runs the file with exec(compile(…)) (Critical Runtime Constraints 1)",
    explanation:
      "Notebook magics (%sh, %run, %sql, !cmd) are not Python: spark_python_task compiles the file " +
      "with `exec(compile(f.read(), filename, 'exec'))`, so the whole script fails with SyntaxError.",
    fix: "Use Python instead (subprocess.run([...]) for shell commands, import for %run), or run the " +
      "notebook as a notebook task.",
    check: (f) =>
      f.scripts.flatMap((s) =>
        s.magics.filter((m) => !isPipMagic(m.text)).map((m) => ({
          file: s.path,
          line: m.line,
          column: m.column,
          message: `\`${firstLine(m.text)}\` is notebook syntax: a SyntaxError in a Python file task`,
        }))
      ),
  },
  {
    id: "notebook-source",
    severity: "warning",
    seed: "Troubleshooting `Cannot read the python file`",
    explanation: "`Cannot read the python file`: `workspace import --language PYTHON` creates a notebook, " +
      "not a file, and a file that starts with `# Databricks notebook source` is imported as a notebook " +
      "too, which a spark_python_task cannot run.",
    fix:
      "Drop the `# Databricks notebook source` header (and the `# COMMAND ----------` / `# MAGIC` lines) " +
      "so the script is uploaded as a workspace file (`workspace import-dir`), or run it as a notebook task.",
    check: (f) =>
      f.scripts.flatMap((s) =>
        /^\s*#\s*Databricks notebook source\b/.test(s.module.source)
          ? [{
            file: s.path,
            line: 1,
            column: 1,
            message: "the file is a Databricks notebook source export, imported as a notebook, not a file",
          }]
          : []
      ),
  },
  {
    id: "uc-access-mode",
    severity: "error",
    seed: "Critical Runtime Constraints 4; checklist `data_security_mode`; troubleshooting " +
      "`PERMISSION_DENIED: clusters without UC`",
    explanation: 'Any job cluster that registers models to Unity Catalog must have "data_security_mode": ' +
      '"SINGLE_USER". Without it, register_model() fails with `PERMISSION_DENIED: Access denied to ' +
      "clusters that don't have Unity Catalog enabled`. The checklist asks the same of any job touching " +
      "Unity Catalog (three-part table names, /Volumes/ paths).",
    fix: 'Add "data_security_mode": "SINGLE_USER" to the cluster spec (DATA_SECURITY_MODE_DEDICATED is ' +
      "the same mode under its new name).",
    check: (f) => {
      const reason = ucReason(f);
      if (!f.spec || !reason) return [];
      const spec = f.spec;
      return spec.clusters.flatMap((c): Draft[] => {
        const mode = c.data_security_mode;
        if (mode && UC_OK_MODES.has(mode)) return [];
        return [{
          ...specPosition(spec, c, mode ? `"${mode}"` : undefined),
          message: mode
            ? `${c.where} has data_security_mode "${mode}", not SINGLE_USER (${reason})`
            : `${c.where} has no data_security_mode; Unity Catalog needs SINGLE_USER (${reason})`,
        }];
      });
    },
  },
  {
    id: "spark-version-cpu",
    severity: "error",
    seed: "Standard Job Cluster Configuration; troubleshooting `Invalid spark version 15.4.x-ml-scala2.12`",
    explanation: "Note the -cpu- in the spark version: `16.4.x-ml-scala2.12` (without -cpu-) is INVALID " +
      "(`Invalid spark version`). ML runtime keys read `16.4.x-cpu-ml-scala2.12` or `16.4.x-gpu-ml-…`.",
    fix: "Use the key the workspace lists, e.g. 16.4.x-cpu-ml-scala2.12.",
    command: SPARK_VERSIONS,
    check: (f) => {
      const spec = f.spec;
      const fromSpec = (spec?.clusters ?? []).flatMap((c): Draft[] => {
        const v = c.spark_version;
        if (!v || !missingCpu(v)) return [];
        const suggested = v.replace("-ml-", "-cpu-ml-");
        return [{
          ...specPosition(spec!, c, `"${v}"`),
          message: `spark_version "${v}" is invalid: ML keys carry -cpu- or -gpu- (e.g. "${suggested}")`,
          data: { spark_version: v, suggested },
        }];
      });
      // --runtime names the same key: the same mistake, unless the spec already reported it.
      const v = f.runtimeFlag;
      if (!v || !missingCpu(v) || spec?.clusters.some((c) => c.spark_version === v)) return fromSpec;
      const suggested = v.replace(/-ml-/, "-cpu-ml-");
      return [...fromSpec, {
        file: "--runtime",
        line: 1,
        column: 1,
        message: `--runtime "${v}" is invalid: ML keys carry -cpu- or -gpu- (e.g. "${suggested}")`,
        data: { spark_version: v, suggested },
      }];
    },
  },
  {
    id: "spark-version-unlisted",
    severity: "error",
    seed: "Standard Job Cluster Configuration (`databricks clusters spark-versions | grep cpu-ml`)",
    explanation: "Always validate the spark version first: the workspace rejects a key it does not list " +
      "(`Invalid spark version …`), after the job was submitted.",
    fix: "Pick a key from the workspace's list.",
    command: SPARK_VERSIONS,
    online: true,
    check: () => [],
  },
  {
    id: "uc-schema-missing",
    severity: "error",
    seed: "Critical Runtime Constraints 6 (verify catalog and schema exist); troubleshooting " +
      "`RESOURCE_DOES_NOT_EXIST: catalog.schema`",
    explanation: "Verify the target catalog and schema exist before running: a registration or a table " +
      "write into a missing schema fails with `RESOURCE_DOES_NOT_EXIST`, after the cluster has started.",
    fix: "Create the schema (dbxr uc ensure-schema CATALOG.SCHEMA), or let job run create it with " +
      "--ensure-schema.",
    command: "dbxr job run FILE --ensure-schema",
    online: true,
    check: () => [],
  },
  {
    id: "active-run",
    severity: "warning",
    seed: "Troubleshooting `MAX_CONCURRENT_RUNS_REACHED` (previous run still active: cancel it first)",
    explanation: "A previous run of the same script is still active: `MAX_CONCURRENT_RUNS_REACHED` when " +
      "the job allows one run at a time, and two runs writing the same model or tables otherwise.",
    fix: "Cancel the previous run first (dbxr job cancel RUN_ID), or wait for it to end.",
    online: true,
    check: () => [],
  },
  {
    id: "single-node-conf",
    severity: "warning",
    seed:
      "Standard Job Cluster Configuration (`num_workers: 0` with `spark.master`, the singleNode profile " +
      "and the `ResourceClass` tag)",
    explanation: 'The guide\'s template pairs "num_workers": 0 with "spark.master": "local[*]", ' +
      '"spark.databricks.cluster.profile": "singleNode" and custom_tags "ResourceClass": "SingleNode". ' +
      "Without them Databricks rejects the cluster or builds a standard cluster with no workers, where " +
      "Spark work waits for executors that never come.",
    fix: 'Add "spark_conf": {"spark.master": "local[*]", "spark.databricks.cluster.profile": "singleNode"} ' +
      'and "custom_tags": {"ResourceClass": "SingleNode"}, or drop num_workers and use dbxr\'s template ' +
      "(job run --template ml-single-node has all of them).",
    command: "dbxr job run FILE --new-cluster --template ml-single-node",
    check: (f) => {
      const spec = f.spec;
      if (!spec) return [];
      return spec.clusters.flatMap((c): Draft[] => {
        if (c.num_workers !== 0 || c.autoscale || c.is_single_node) return [];
        const conf = c.spark_conf ?? {};
        const missing = [
          ...(String(conf["spark.master"] ?? "").startsWith("local") ? [] : ['spark.master "local[*]"']),
          ...(conf["spark.databricks.cluster.profile"] === "singleNode"
            ? []
            : ['spark.databricks.cluster.profile "singleNode"']),
          ...(c.custom_tags?.ResourceClass === "SingleNode"
            ? []
            : ['custom_tags.ResourceClass "SingleNode"']),
        ];
        if (missing.length === 0) return [];
        return [{
          ...specPosition(spec, c, '"num_workers"'),
          message: `${c.where} has num_workers 0 but lacks ${missing.join(", ")}: not a single-node cluster`,
          data: { missing },
        }];
      });
    },
  },
  {
    id: "runtime-15-4-pydantic",
    severity: "warning",
    seed: "Runtime Compatibility Matrix (15.4 LTS ML); troubleshooting " +
      "`cannot import name 'model_validator' from 'pydantic'`",
    explanation: "15.4 LTS ML ships pydantic v1 (compiled .so): `pip install databricks-langchain` BREAKS, " +
      "it upgrades pydantic to v2 and conflicts with the v1 .so (`cannot import name 'model_validator' " +
      "from 'pydantic'`).",
    fix: "Use the 16.4 LTS ML runtime (16.4.x-cpu-ml-scala2.12) instead.",
    command: SPARK_VERSIONS,
    check: (f) => {
      if (f.runtime?.major !== 15) return [];
      const evidence = findDatabricksLangchain(f);
      if (!evidence) return [];
      const at = f.runtimeSource === "cluster spec" && f.spec
        ? specPosition(f.spec, f.spec.clusters.find((c) => c.spark_version))
        : evidence;
      return [{
        ...at,
        message: `databricks-langchain (${evidence.what}) on runtime ${f.runtime.label} ` +
          `(from ${f.runtimeSource}) breaks pydantic`,
      }];
    },
  },
  {
    id: "langchain-schema",
    severity: "warning",
    seed: "Runtime Compatibility Matrix (16.4 LTS ML); troubleshooting `No module named 'langchain.schema'`",
    explanation: "On 16.4 LTS ML, mlflow.langchain.log_model() fails: `No module named 'langchain.schema'` " +
      "(stale langchain.schema import in that MLflow); on 15.4 LTS ML it is broken too.",
    fix: 'Use mlflow.pyfunc.log_model(python_model="agent.py", …) instead of mlflow.langchain.log_model().',
    check: (f) => {
      const mlflow = f.runtime ? mlflowMajor(f.runtime) : undefined;
      if (mlflow === 3) return [];
      return f.scripts.flatMap((s) =>
        s.logModels.filter((l) => l.flavor === "langchain").map((l): Draft => ({
          file: s.path,
          line: l.call.line,
          column: l.call.column,
          message: f.runtime
            ? `mlflow.langchain.log_model() fails on runtime ${f.runtime.label} (No module named 'langchain.schema')`
            : "mlflow.langchain.log_model() fails on 15.4 and 16.4 LTS ML (No module named 'langchain.schema')",
          ...(f.runtime ? {} : { severity: "info" }),
        }))
      );
    },
  },
  {
    id: "databricks-agents-deps",
    severity: "warning",
    seed: "Both pyfunc and langchain log_model() import code; troubleshooting " +
      "`No module named 'databricks_langchain'`",
    explanation:
      "On Databricks ML runtimes, databricks-langchain, langgraph, etc. are **NOT pre-installed**, " +
      "and both mlflow.pyfunc.log_model() and mlflow.langchain.log_model() import the agent file during " +
      "logging, so its dependencies must be installed on the cluster first.",
    fix: "Install the packages on the job cluster as libraries (the cluster spec's `libraries`).",
    command: "dbxr job run FILE --libraries PACKAGES",
    check: (f) => {
      const installed = new Set(f.spec?.libraries ?? []);
      return f.scripts.flatMap((s): Draft[] => {
        const missing = neededPackages(s).filter((n) => !installed.has(n.pkg));
        if (missing.length === 0) return [];
        const pkgs = missing.map((m) => m.pkg);
        return [{
          file: s.path,
          line: missing[0].line,
          column: missing[0].column,
          message: `imports ${pkgs.join(", ")}, not pre-installed on ML runtimes` +
            (f.spec ? ` and not in ${f.spec.path}'s libraries` : ""),
          command: librariesCommand(f.entry, pkgs),
          data: { packages: pkgs },
        }];
      });
    },
  },
  {
    id: "uc-three-part-name",
    severity: "info",
    seed: "Critical Runtime Constraints 6 (verify catalog and schema exist); checklist; troubleshooting " +
      "`RESOURCE_DOES_NOT_EXIST: catalog.schema`",
    explanation: 'Before running a script that calls mlflow.register_model(name="catalog.schema.model"), ' +
      "verify the target catalog and schema exist, or registration fails with `RESOURCE_DOES_NOT_EXIST`.",
    fix: "Create the schema if it is missing.",
    command: "dbxr uc ensure-schema CATALOG.SCHEMA",
    check: (f) =>
      f.scripts.flatMap((s) =>
        s.ucTargets.map((t): Draft => ({
          file: s.path,
          line: t.line,
          column: t.column,
          message: `registers ${t.name} into ${t.catalog}.${t.schema}; the schema must exist`,
          command: `dbxr uc ensure-schema ${t.catalog}.${t.schema}`,
          data: { catalog: t.catalog, schema: t.schema, model: t.model, name: t.name },
        }))
      ),
  },
];

// ---------------------------------------------------------------------------------------------------------
// Running the rules

export interface PreflightInput {
  /** The scripts, the job's entry point first. */
  files: Array<{ path: string; source: string }>;
  /** From parseClusterSpec. */
  clusterSpec?: ClusterSpec;
  /** The job touches Unity Catalog even if the scripts do not show it. */
  uc?: boolean;
  /** Warnings fail the check too. */
  strict?: boolean;
  /** "16.4", "16.4 LTS ML" or a spark_version key; beats the cluster spec's version. */
  runtime?: string;
  /** The job runs on serverless compute: no cluster rules, the serverless ones (preflight_serverless.ts). */
  serverless?: boolean;
  /**
   * The trees that `job run --include` uploads to /Workspace beside the script: their top-level module
   * names, so that the script's imports of them are known to fail (without --wrap or a local copy).
   */
  uploaded?: Array<{ include: string; modules: string[] }>;
}

export interface PreflightReport {
  status: "ok" | "PreflightFailed";
  findings: Finding[];
  files: string[];
  /** `catalog.schema` pairs that the scripts register into or use (for `dbxr uc ensure-schema`). */
  uc_targets: string[];
  /** What in the scripts touches Unity Catalog (tables, volumes, schemas, registered models). */
  uc_objects: Array<UcObject & { file: string }>;
  counts: Record<Severity, number>;
  strict: boolean;
}

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export function runPreflight(input: PreflightInput): PreflightReport {
  const facts = gatherFacts(input);
  const rules = facts.serverless
    ? [...RULES.filter((r) => !CLUSTER_ONLY_RULES.has(r.id)), ...SERVERLESS_RULES]
    : RULES;
  const findings = rules.flatMap((r) => r.check(facts).map((d) => toFinding(r, d, facts.entry)))
    .map((f) => facts.serverless ? serverlessFinding(f, facts.entry) : f);
  const order = new Map(input.files.map((f, i) => [f.path, i]));
  findings.sort((a, b) =>
    (order.get(a.file) ?? order.size) - (order.get(b.file) ?? order.size) ||
    a.line - b.line || a.column - b.column || SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
    a.rule.localeCompare(b.rule)
  );
  const counts: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const f of findings) counts[f.severity]++;
  const strict = Boolean(input.strict);
  const failed = counts.error > 0 || (strict && counts.warning > 0);
  return {
    status: failed ? "PreflightFailed" : "ok",
    findings,
    files: input.files.map((f) => f.path),
    uc_targets: [
      ...new Set(facts.scripts.flatMap((s) => [
        ...s.ucTargets.map((t) => `${t.catalog}.${t.schema}`),
        ...s.ucObjects.flatMap((o) => o.schema ? [o.schema] : []),
      ])),
    ],
    uc_objects: facts.scripts.flatMap((s) => s.ucObjects.map((o) => ({ file: s.path, ...o }))),
    counts,
    strict,
  };
}

export function ruleById(id: RuleId): Rule {
  return [...RULES, ...SERVERLESS_RULES].find((r) => r.id === id)!;
}

function toFinding(rule: Rule, d: Draft, entry: string): Finding {
  const command = d.command ?? rule.command?.replace("FILE", shellQuote(entry));
  const f: Finding = {
    rule: rule.id,
    severity: d.severity ?? rule.severity,
    file: d.file,
    line: d.line,
    column: d.column,
    message: d.message,
    explanation: d.explanation ?? rule.explanation,
    fix: d.fix ?? rule.fix,
  };
  // A generic placeholder (PACKAGES, CATALOG.SCHEMA) is no runnable command: leave it out.
  if (command && !/\b(PACKAGES|CATALOG\.SCHEMA)\b/.test(command)) f.command = command;
  if (d.data) f.data = d.data;
  return f;
}

/** A finding of an online rule (job run's checks against the workspace), filled in like the static ones. */
export function onlineFinding(id: RuleId, d: Draft, entry: string): Finding {
  return toFinding(ruleById(id), d, entry);
}

/**
 * The online half of the spark version check, for `job run`: a key that the workspace does not list
 * (from `clusters/spark-versions`). Suggests the listed key of the same version and flavour.
 */
export function checkSparkVersionListed(
  version: string,
  keys: readonly string[],
  where: { file: string; line?: number; column?: number } = { file: "(cluster)" },
): Finding | undefined {
  if (keys.includes(version)) return undefined;
  const major = version.match(/^\d+\.\d+/)?.[0];
  const ml = /-ml-/.test(version);
  const suggested = keys.filter((k) => major && k.startsWith(major + ".") && /-ml-/.test(k) === ml)
    .sort((a, b) => Number(/-cpu-/.test(b)) - Number(/-cpu-/.test(a)))[0];
  const rule = ruleById("spark-version-unlisted");
  return toFinding(rule, {
    file: where.file,
    line: where.line ?? 1,
    column: where.column ?? 1,
    message: `the workspace does not list spark_version "${version}"` +
      (suggested ? ` (did you mean "${suggested}"?)` : ""),
    data: { spark_version: version, ...(suggested ? { suggested } : {}) },
  }, "");
}

// ---------------------------------------------------------------------------------------------------------
// Helpers of the rules

/**
 * A graph node (a function whose first parameter is the graph state: named `state`, or annotated with a
 * `…State` type) that calls `.invoke(`/`.ainvoke(` on a chat model outside a `try:` in its own body.
 */
function agentNodeFindings(s: ScriptFacts): Draft[] {
  const out: Draft[] = [];
  for (const def of s.blocks.defs) {
    const first = def.params.find((p) => p.name !== "self" && p.name !== "cls");
    if (!first || !(first.name === "state" || /State\b/.test(first.annotation))) continue;
    for (const c of s.calls) {
      if (c.line <= def.line || c.line > def.endLine || enclosingDef(s.blocks, c.line) !== def) continue;
      const parts = c.callee.split(".");
      if (!/^a?invoke$/.test(parts[parts.length - 1])) continue;
      const receiver = c.onExpression
        ? chainedReceiver(s, c)
        : parts.length > 1
        ? parts[parts.length - 2]
        : "";
      if (!receiver || !isChatModel(s, receiver)) continue;
      const guarded = s.blocks.tries.some((t) => t.line > def.line && t.line < c.line && c.line <= t.endLine);
      if (guarded) continue;
      out.push({
        file: s.path,
        line: c.line,
        column: c.column,
        message: `agent node ${def.name}(${first.name}) calls ${receiver}${c.onExpression ? "(…)" : ""}.` +
          `${parts[parts.length - 1]}() ` +
          "outside try/except: a model error crashes the graph and the endpoint answers null",
      });
    }
  }
  return out;
}

const CHAT_MODEL_NAME = /llm|model|chat/i;
const CHAT_MODEL_MAKER = /(^|\.)(Chat[A-Z]\w*|init_chat_model|bind_tools|with_structured_output|with_retry)$/;

/** The name a chat model is held in, or an expression that makes one (`ChatDatabricks(…)`, `.bind_tools`). */
function isChatModel(s: ScriptFacts, receiver: string): boolean {
  if (CHAT_MODEL_NAME.test(receiver) || CHAT_MODEL_MAKER.test(receiver)) return true;
  const defs = s.scope.values.get(receiver) ?? [];
  return defs.some((toks) => toks.some((t) => t.kind === "name" && CHAT_MODEL_MAKER.test(t.text)));
}

/** For `llm.bind_tools(tools).invoke(…)`: the callee of the call that the `.invoke` is chained on. */
function chainedReceiver(s: ScriptFacts, c: QCall): string {
  const before = s.calls.filter((x) => x.line === c.line && x.column < c.column && x.endLine >= c.line);
  const last = before[before.length - 1];
  return last ? last.callee : "";
}

/**
 * sys.path before log_model, judged by when each runs (execTime), not by line order: a function that the
 * `if __name__ == "__main__":` block calls after inserting into sys.path is fine. Only a known order makes
 * an error; where it cannot be told (functions the script never calls by name), a warning.
 */
function syspathOrder(s: ScriptFacts, l: LogModelCall): Draft[] {
  const at = { file: s.path, line: l.call.line, column: l.call.column };
  const time = (c: { line: number; column: number }) => execTime(s.blocks, s.calls, c.line, c.column);
  if (s.sysPathAdds.length === 0) {
    if (!l.codeBased) return [];
    return [{
      ...at,
      message: `${l.call.callee}() logs a code file but the script never puts its directory on sys.path`,
    }];
  }
  const lt = time(l.call);
  const adds = s.sysPathAdds.map((p) => ({ p, t: time(p.call) }));
  if (lt) {
    if (adds.some((a) => a.t && compareTimes(a.t, lt) < 0)) return [];
    const after = adds.find((a) => a.t);
    if (adds.every((a) => a.t) && after) {
      return [{
        ...at,
        message: `${l.call.callee}() runs before sys.path is set (line ${after.p.call.line}); ` +
          "MLflow imports the model file at log time",
      }];
    }
  } else {
    // Module-level code above the function's def has run before anything can call the function; an
    // insert earlier in the same function body runs first whoever calls it.
    const def = outermostDef(s.blocks, l.call.line);
    if (def && adds.some((a) => a.t && a.t.length === 1 && a.t[0][0] < def.line)) return [];
    const own = enclosingDef(s.blocks, l.call.line);
    if (
      own && adds.some((a) => a.p.call.line < l.call.line && enclosingDef(s.blocks, a.p.call.line) === own)
    ) {
      return [];
    }
  }
  const unknown = adds.find((a) => !a.t) ?? adds[0];
  return [{
    ...at,
    severity: "warning",
    message:
      `cannot tell whether ${l.call.callee}() runs after sys.path is set (line ${unknown.p.call.line}): ` +
      "the order depends on calls the check cannot follow; make sure sys.path.insert runs first",
  }];
}

function workspaceImportFindings(f: Facts, s: ScriptFacts): Draft[] {
  const out: Draft[] = s.path === f.entry ? uploadedImportFindings(f, s) : [];
  const localModules = new Set(f.scripts.map((x) => x.path.split("/").pop()!.replace(/\.py$/, "")));
  for (const add of s.sysPathAdds.filter((a) => a.workspace)) {
    const at = { file: s.path, line: add.call.line, column: add.call.column };
    const path = add.strings.find(isWorkspacePath)!;
    const copiedAndLocal = s.workspaceCopies.some((c) => c.line < add.call.line) &&
      s.sysPathAdds.some((a) => !a.workspace);
    const later = s.module.imports.filter((i) =>
      i.line > add.call.line && i.level === 0 &&
      (localModules.has(top(i.module)) || !KNOWN_MODULES.has(top(i.module)))
    );
    const laterLog = s.logModels.find((l) => l.call.line > add.call.line && l.codeBased);
    if (copiedAndLocal) {
      out.push({
        ...at,
        severity: "warning",
        message: `sys.path gets ${path}, which Python cannot import from; the local copy does the work, ` +
          "so drop this entry",
      });
    } else if (later.length > 0 || laterLog) {
      const what = later.length > 0
        ? `import of ${later.map((i) => `'${i.module}'`).join(", ")} (line ${later[0].line})`
        : `${laterLog!.call.callee}() (line ${laterLog!.call.line})`;
      out.push({
        ...at,
        message: `sys.path gets ${path}, but Python cannot import from /Workspace/: the ${what} will fail ` +
          `with No module named '${later.length > 0 ? top(later[0].module) : "…"}'`,
      });
    } else {
      out.push({
        ...at,
        severity: "warning",
        message: `sys.path gets ${path}, which Python cannot import from; the entry has no effect`,
      });
    }
  }
  for (const l of s.logModels) {
    const ws = l.modelStrings.find(isWorkspacePath);
    if (!ws) continue;
    out.push({
      file: s.path,
      line: l.call.line,
      column: l.call.column,
      message:
        `${l.call.callee}() logs ${ws} straight from /Workspace/; MLflow imports it at log time and fails`,
    });
  }
  return out;
}

/**
 * Imports, in the job's script, of a module that `job run --include` uploads to /Workspace: importlib
 * cannot find it there (`No module named …`) unless the script first copies the tree to a local path and
 * puts that on sys.path. `--wrap` makes that copy, so job run drops these findings under it.
 */
function uploadedImportFindings(f: Facts, s: ScriptFacts): Draft[] {
  const out: Draft[] = [];
  for (const imp of s.module.imports) {
    if (imp.level > 0) continue;
    const mod = top(imp.module);
    const tree = f.uploaded.find((u) => u.modules.includes(mod));
    if (!tree) continue;
    // The source of the copy may come from argv or the environment: any copy then a local sys.path entry.
    const copied = s.calls.some((c) => COPIERS.has(c.qualified) && c.line < imp.line) &&
      s.sysPathAdds.some((a) => !a.workspace && a.call.line < imp.line);
    if (copied) continue;
    out.push({
      file: s.path,
      line: imp.line,
      column: imp.column,
      message:
        `imports '${imp.module}' from --include ${tree.include}, which job run uploads to /Workspace/; ` +
        `Python cannot import from there (No module named '${mod}'): run with --wrap, or copy the tree to ` +
        "/tmp and put that on sys.path first",
      data: { module: imp.module, include: tree.include },
    });
  }
  return out;
}

const top = (m: string) => m.split(".")[0];

/** Modules that are not the user's own code: the standard library and what ML runtimes ship or add. */
const KNOWN_MODULES = new Set(
  ("os sys re json shutil pathlib typing time datetime logging subprocess importlib collections functools " +
    "itertools dataclasses uuid math random tempfile glob io textwrap inspect traceback warnings copy " +
    "argparse site abc enum contextlib hashlib base64 string pickle csv urllib http threading asyncio " +
    "concurrent operator types socket signal platform getpass pprint zipfile tarfile gzip secrets " +
    "mlflow pyspark pandas numpy sklearn scipy requests databricks langchain langchain_core " +
    "langchain_community langgraph databricks_langchain pydantic yaml openai delta torch transformers " +
    "tensorflow matplotlib").split(" "),
);

/**
 * Is the `__file__` on this line guarded: inside a `try:` whose `except NameError` (KeyError, Exception,
 * or a bare except) follows within a few lines, or next to a `"__file__" in globals()` / `.get("__file__")`
 * test (other than `self`, the use being judged)? Local, so that an unrelated `except` elsewhere in the
 * file does not excuse it.
 */
function dunderFileGuarded(s: ScriptFacts, line: number, self?: Token): boolean {
  const code = codeTokens(s.module.tokens);
  const near = (t: { line: number }, before: number, after: number) =>
    t.line >= line - before && t.line <= line + after;
  const tryBefore = code.some((t) => t.kind === "name" && t.text === "try" && t.line < line && near(t, 8, 0));
  const exceptAfter = code.some((t, i) =>
    t.kind === "name" && t.line > line && near(t, 0, 8) && (
      (GUARD_ERRORS.has(t.text) &&
        code.slice(Math.max(0, i - 6), i).some((p) => p.kind === "name" && p.text === "except")) ||
      (t.text === "except" && code[i + 1]?.text === ":")
    )
  );
  const tested = code.some((t, i) =>
    t !== self && t.kind === "string" && t.value === "__file__" && near(t, 2, 0) &&
    (code[i + 1]?.text === "in" || code[i - 2]?.text?.endsWith("get"))
  );
  return (tryBefore && exceptAfter) || tested;
}

const GUARD_ERRORS = new Set(["NameError", "KeyError", "Exception", "BaseException"]);

/**
 * `globals()["__file__"]`, `vars()['__file__']`, `locals()["__file__"]` (KeyError) and
 * `globals().get("__file__")` (None, then a TypeError where a path is built from it): the same missing
 * name reached through the namespace dict. A default, an `or` fallback or a guard makes it a warning.
 */
function indirectFileUses(s: ScriptFacts): Draft[] {
  const code = codeTokens(s.module.tokens);
  const out: Draft[] = [];
  const isFile = (t: Token | undefined) =>
    t?.kind === "string" && t.value === "__file__" && !/f/.test(t.prefix ?? "");
  for (let i = 0; i < code.length; i++) {
    const t = code[i];
    if (t.kind !== "name" || !NAMESPACES.has(t.text) || code[i - 1]?.text === ".") continue;
    if (code[i + 1]?.text !== "(" || code[i + 2]?.text !== ")") continue;
    const at = { file: s.path, line: t.line, column: t.column };
    const how = `${t.text}()`;
    if (code[i + 3]?.text === "[" && isFile(code[i + 4]) && code[i + 5]?.text === "]") {
      const guarded = dunderFileGuarded(s, t.line, code[i + 4]);
      out.push({
        ...at,
        message: guarded
          ? `\`${how}["__file__"]\` is behind a guard; the fallback path is what runs as a job`
          : `\`${how}["__file__"]\` raises KeyError in a spark_python_task: __file__ is not defined there`,
        ...(guarded ? { severity: "warning" } : {}),
      });
    } else if (
      code[i + 3]?.text === "." && code[i + 4]?.text === "get" && code[i + 5]?.text === "(" &&
      isFile(code[i + 6])
    ) {
      const hasDefault = code[i + 7]?.text === ",";
      const close = hasDefault ? undefined : code[i + 7]?.text === ")" ? i + 7 : undefined;
      const orFallback = close !== undefined && code[close + 1]?.text === "or";
      // Passed straight into a call (Path(…), os.path.dirname(…)): None fails there at once.
      const intoCall = code[i - 1]?.text === "(" || code[i - 1]?.text === ",";
      const fallback = hasDefault || orFallback;
      if (fallback || !intoCall) {
        out.push({
          ...at,
          severity: "warning",
          message: fallback
            ? `\`${how}.get("__file__", …)\` falls back: as a job __file__ is not defined, so the fallback is what runs`
            : `\`${how}.get("__file__")\` is None in a spark_python_task: check that the script handles it`,
        });
      } else {
        out.push({
          ...at,
          message: `\`${how}.get("__file__")\` is None in a spark_python_task (__file__ is not defined), ` +
            "so building a path from it fails (TypeError)",
        });
      }
    }
  }
  return out;
}

const NAMESPACES = new Set(["globals", "vars", "locals"]);

/** Why the job touches Unity Catalog ("with --uc", "job.py writes table main.sales.daily"), if it does. */
export function ucReason(f: Facts): string | undefined {
  if (f.ucFlag) return "with --uc";
  for (const s of f.scripts) {
    const o = s.ucObjects[0];
    if (s.registersToUc && (!o || o.kind === "model")) return `${s.path} registers to Unity Catalog`;
    if (o) return `${s.path} ${ucUseText(o)}`;
  }
  return undefined;
}

export function ucUseText(o: UcObject): string {
  const at = `line ${o.line}`;
  switch (o.kind) {
    case "model":
      return `registers model ${o.name} (${at})`;
    case "table":
      return `uses table ${o.name} via ${o.via} (${at})`;
    case "volume":
      return `uses volume ${o.name} (${at})`;
    case "schema":
      return `uses schema ${o.name} via ${o.via} (${at})`;
  }
}

/** An ML runtime key without its -cpu-/-gpu- part (`16.4.x-ml-scala2.12`). */
function missingCpu(v: string): boolean {
  return /-ml-/.test(v) && !/-(cpu|gpu)-ml-/.test(v);
}

function isPipMagic(text: string): boolean {
  return /^(%%?pip|!\s*pip3?|%%?conda)\b/.test(text.trim());
}

function firstLine(text: string): string {
  const l = text.split("\n")[0].trim();
  return l.length > 80 ? l.slice(0, 77) + "…" : l;
}

function librariesCommand(entry: string, pkgs: string[]): string {
  return `dbxr job run ${shellQuote(entry)} --libraries ${shellQuote(pkgs.join(","))}`;
}

function specPosition(spec: ClusterSpec, c: SpecCluster | undefined, needle?: string) {
  const key = needle ?? (c?.spark_version ? `"${c.spark_version}"` : "{");
  return { file: spec.path, ...positionIn(spec.text, key) };
}

function findDatabricksLangchain(
  f: Facts,
): { file: string; line: number; column: number; what: string } | undefined {
  const pkg = "databricks-langchain";
  if (f.spec?.libraries.includes(pkg)) {
    return { file: f.spec.path, ...positionIn(f.spec.text, pkg), what: `${f.spec.path} libraries` };
  }
  for (const s of f.scripts) {
    const imp = neededPackages(s).find((n) => n.pkg === pkg);
    if (imp) return { file: s.path, line: imp.line, column: imp.column, what: "imported" };
    if (declaredPackages(s).has(pkg)) {
      return { file: s.path, line: 1, column: 1, what: "in pip requirements" };
    }
  }
  return undefined;
}
