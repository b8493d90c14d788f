// The facts that the preflight rules share, computed once per `job check`: for each script its calls
// with resolved names, the mlflow log/register calls, the sys.path edits, the UC targets; and across
// scripts the cluster spec, the runtime and the packages the scripts need.

import { type ClusterSpec, packageName, parseRuntime, type Runtime } from "./cluster_spec.ts";
import {
  isWorkspacePath,
  magicLines,
  parseModule,
  type PyArg,
  type PyCall,
  type PyModule,
} from "./pycalls.ts";
import { constString, qualifiedCallee, type Scope, scopeOf, stringsOf } from "./pyscope.ts";
import type { Token } from "./pytokens.ts";
import { blocksOf, type PyBlocks } from "./pyblocks.ts";

export interface QCall extends PyCall {
  /** The callee resolved through the file's imports (`mlflow.pyfunc.log_model`). */
  qualified: string;
}

export interface LogModelCall {
  call: QCall;
  /** `langchain`, `pyfunc`, … */
  flavor: string;
  /** The model is a code file (`lc_model="agent.py"`) or code_paths are logged: MLflow imports it now. */
  codeBased: boolean;
  /** Strings of the model argument and of code_paths (to spot /Workspace/ paths). */
  modelStrings: string[];
}

export interface SysPathAdd {
  call: QCall;
  /** Every string that the added path may be built from. */
  strings: string[];
  workspace: boolean;
}

export interface UcTarget {
  /** `catalog.schema.model` */
  name: string;
  catalog: string;
  schema: string;
  model: string;
  line: number;
  column: number;
}

/** Something in Unity Catalog that the script uses: a table, a volume path, a schema, a registered model. */
export interface UcObject {
  kind: "table" | "volume" | "schema" | "model";
  /** As resolved (`main.sales.daily`, `/Volumes/main/raw/files/x.csv`), or as written when it is not. */
  name: string;
  /** `catalog.schema`, when both parts are known. */
  schema?: string;
  /** The call it goes through (`saveAsTable`, `spark.sql`, `open`, …), or "string" for a bare path. */
  via: string;
  line: number;
  column: number;
}

export interface ScriptFacts {
  path: string;
  module: PyModule;
  scope: Scope;
  calls: QCall[];
  logModels: LogModelCall[];
  /** `mlflow.register_model(…)` calls. */
  registers: QCall[];
  sysPathAdds: SysPathAdd[];
  /** `shutil.copytree(SRC, …)` and friends whose source is under /Workspace/. */
  workspaceCopies: QCall[];
  /** Registered model names that resolved to three parts. */
  ucTargets: UcTarget[];
  /** The file registers a model that goes to Unity Catalog (a three-part or unresolved name, or a UC registry). */
  registersToUc: boolean;
  /** Unity Catalog objects the script uses (tables, volumes, schemas, and the models it registers to UC). */
  ucObjects: UcObject[];
  /** Functions and try bodies, for the rules that ask where code sits and when it runs. */
  blocks: PyBlocks;
  magics: Token[];
}

export interface Facts {
  scripts: ScriptFacts[];
  /** The script that the job runs: the first FILE (the others are what it imports or logs). */
  entry: string;
  spec?: ClusterSpec;
  runtime?: Runtime;
  runtimeSource?: "--runtime" | "cluster spec";
  /** The --runtime value as given (a spark_version key or a label such as "16.4 LTS ML"). */
  runtimeFlag?: string;
  /** --uc was given. */
  ucFlag: boolean;
  /** The job runs on serverless compute (--serverless): no cluster. */
  serverless?: boolean;
  /** Trees job run uploads to /Workspace (--include), with their top-level module names. */
  uploaded: Array<{ include: string; modules: string[] }>;
}

export interface FactsInput {
  files: Array<{ path: string; source: string }>;
  clusterSpec?: ClusterSpec;
  uc?: boolean;
  runtime?: string;
  serverless?: boolean;
  uploaded?: Array<{ include: string; modules: string[] }>;
}

const LOG_MODEL_RE = /^mlflow\.([A-Za-z_][\w]*)\.log_model$/;
const SYS_PATH_ADDERS: Record<string, number> = {
  "sys.path.insert": 1,
  "sys.path.append": 0,
  "sys.path.extend": 0,
  "site.addsitedir": 0,
};
export const COPIERS: ReadonlySet<string> = new Set([
  "shutil.copytree",
  "shutil.copy",
  "shutil.copy2",
  "shutil.copyfile",
  "distutils.dir_util.copy_tree",
]);

export function gatherFacts(input: FactsInput): Facts {
  const scripts = input.files.map((f) => scriptFacts(f.path, f.source, Boolean(input.uc)));
  const fromFlag = parseRuntime(input.runtime);
  const specVersion = input.clusterSpec?.clusters.find((c) => c.spark_version)?.spark_version;
  const fromSpec = parseRuntime(specVersion);
  const runtime = fromFlag ?? fromSpec;
  const facts: Facts = {
    scripts,
    entry: input.files[0]?.path ?? "",
    ucFlag: Boolean(input.uc),
    uploaded: input.uploaded ?? [],
  };
  if (input.clusterSpec) facts.spec = input.clusterSpec;
  if (input.serverless) facts.serverless = true;
  if (runtime) {
    facts.runtime = runtime;
    facts.runtimeSource = fromFlag ? "--runtime" : "cluster spec";
  }
  if (fromFlag) facts.runtimeFlag = input.runtime!.trim();
  return facts;
}

export function argNamed(call: PyCall, keyword: string, position?: number): PyArg | undefined {
  const kw = call.args.find((a) => a.keyword === keyword);
  if (kw || position === undefined) return kw;
  return call.args.filter((a) => !a.keyword && !a.star)[position];
}

function scriptFacts(path: string, source: string, ucFlag: boolean): ScriptFacts {
  const module = parseModule(source);
  const scope = scopeOf(module);
  const calls = module.calls.map((c) => ({ ...c, qualified: qualifiedCallee(scope, c) }));
  const strings = (a: PyArg | undefined) => a ? stringsOf(scope, a.tokens) : [];

  const logModels = calls.flatMap((call): LogModelCall[] => {
    const m = call.qualified.match(LOG_MODEL_RE);
    if (!m) return [];
    const model = call.args.find((a) => a.keyword && /^(lc_model|python_model|model)$/.test(a.keyword)) ??
      argNamed(call, "", 0);
    const modelStrings = [...strings(model), ...strings(argNamed(call, "code_paths"))];
    const codeBased = strings(model).some((s) => s.endsWith(".py")) || call.keywords.includes("code_paths");
    return [{ call, flavor: m[1], codeBased, modelStrings }];
  });
  const registers = calls.filter((c) => c.qualified === "mlflow.register_model");
  const sysPathAdds = calls.flatMap((call): SysPathAdd[] => {
    const at = SYS_PATH_ADDERS[call.qualified];
    if (at === undefined) return [];
    const s = strings(call.args.filter((a) => !a.keyword)[at]);
    return [{ call, strings: s, workspace: s.some(isWorkspacePath) }];
  });
  const workspaceCopies = calls.filter((c) =>
    COPIERS.has(c.qualified) && strings(argNamed(c, "src", 0)).some(isWorkspacePath)
  );

  // Registered names: log_model(registered_model_name=…) and register_model(model_uri, name).
  const nameArgs = [
    ...logModels.map((l) => argNamed(l.call, "registered_model_name")),
    ...registers.map((r) => argNamed(r, "name", 1)),
  ].filter((a): a is PyArg => a !== undefined);
  const ucTargets: UcTarget[] = [];
  let unresolved = false;
  for (const a of nameArgs) {
    const name = constString(scope, a.tokens);
    const parts = name?.split(".");
    if (parts?.length === 3 && parts.every((p) => p.length > 0 && !p.includes("{"))) {
      const [catalog, schema, model] = parts;
      ucTargets.push({ name: name!, catalog, schema, model, line: a.line, column: a.column });
    } else if (name === undefined) unresolved = true;
  }
  const ucRegistry = calls.some((c) =>
    c.qualified === "mlflow.set_registry_uri" && (c.firstArg ?? "").includes("databricks-uc")
  );
  // A one- or two-part name goes to the workspace registry, unless the script or --uc says UC.
  const registersToUc = nameArgs.length > 0 && (ucTargets.length > 0 || unresolved || ucRegistry || ucFlag);
  const models: UcObject[] = registersToUc
    ? nameArgs.map((a) => {
      const t = ucTargets.find((u) => u.line === a.line && u.column === a.column);
      return {
        kind: "model",
        name: t?.name ?? a.text,
        ...(t ? { schema: `${t.catalog}.${t.schema}` } : {}),
        via: "registered_model_name",
        line: a.line,
        column: a.column,
      };
    })
    : [];
  const ucObjects = [...models, ...ucUses(module, scope, calls)].sort((a, b) =>
    a.line - b.line || a.column - b.column
  );

  return {
    path,
    module,
    scope,
    calls,
    logModels,
    registers,
    sysPathAdds,
    workspaceCopies,
    ucTargets,
    registersToUc,
    ucObjects,
    blocks: blocksOf(module.tokens),
    magics: magicLines(module.tokens),
  };
}

/** Packages that `%pip install …` installs: the words after `install` that are not options. */
export function pipPackages(magic: string): string[] {
  const words = magic.replace(/\\\s*\n/g, " ").split(/\s+/).filter(Boolean);
  const at = words.findIndex((w) => w === "install");
  if (at < 0) return [];
  const out: string[] = [];
  for (let k = at + 1; k < words.length; k++) {
    const w = words[k].replace(/^["']|["']$/g, "");
    if (w.startsWith("-")) {
      // Options that take a value: skip it too (`-r requirements.txt`, `--index-url URL`).
      if (
        /^(-r|-c|-e|-i|--requirement|--constraint|--index-url|--extra-index-url|-f|--find-links)$/.test(w)
      ) k++;
      continue;
    }
    out.push(w);
  }
  return out;
}

/** The PyPI name of a top-level import, for the packages that ML runtimes do not ship. */
export const NOT_PREINSTALLED: Record<string, string> = {
  databricks_langchain: "databricks-langchain",
  langgraph: "langgraph",
  "databricks.agents": "databricks-agents",
};

/** The not-preinstalled packages that a script imports, with the first import of each. */
export function neededPackages(s: ScriptFacts): Array<{ pkg: string; line: number; column: number }> {
  const out = new Map<string, { pkg: string; line: number; column: number }>();
  for (const imp of s.module.imports) {
    if (imp.level > 0) continue;
    const mods = imp.kind === "from" ? [imp.module, ...imp.names.map((n) => `${imp.module}.${n.name}`)] : [
      imp.module,
    ];
    for (const m of mods) {
      for (const [prefix, pkg] of Object.entries(NOT_PREINSTALLED)) {
        if ((m === prefix || m.startsWith(prefix + ".")) && !out.has(pkg)) {
          out.set(pkg, { pkg, line: imp.line, column: imp.column });
        }
      }
    }
  }
  return [...out.values()];
}

/** Every package a script mentions installing: pip_requirements, %pip lines (not the spec's libraries). */
export function declaredPackages(s: ScriptFacts): Set<string> {
  const out = new Set<string>();
  for (const l of s.logModels) {
    for (const kw of ["pip_requirements", "extra_pip_requirements"]) {
      const a = argNamed(l.call, kw);
      if (a) { for (const v of stringsOf(s.scope, a.tokens)) out.add(packageName(v)); }
    }
  }
  for (const m of s.magics) for (const p of pipPackages(m.text)) out.add(packageName(p));
  return out;
}

// Methods whose (first, or for DeltaTable.forName second) argument is a table name.
const TABLE_METHODS: Readonly<Record<string, number>> = {
  saveAsTable: 0,
  table: 0,
  insertInto: 0,
  toTable: 0,
  writeTo: 0,
  tableExists: 0,
  getTable: 0,
  createTable: 0,
  forName: 1,
};
const SQL_METHODS = new Set(["sql"]);
// Three-part names in these catalogs are not Unity Catalog.
const NOT_UC_CATALOGS = new Set(["hive_metastore", "spark_catalog"]);
const PART = "(?:`[^`]+`|[\\w{}$-]+)";
const SQL_THREE_PART = new RegExp(
  `\\b(?:FROM|JOIN|INTO|TABLE|UPDATE|VIEW|VOLUME|USING|DESCRIBE|OPTIMIZE|VACUUM)\\s+` +
    `(?:IF\\s+(?:NOT\\s+)?EXISTS\\s+)?(${PART}\\.${PART}\\.${PART})(?![\\w.])`,
  "gi",
);
const SQL_SCHEMA = new RegExp(
  `\\b(?:SCHEMA|DATABASE)\\s+(?:IF\\s+(?:NOT\\s+)?EXISTS\\s+)?(${PART}\\.${PART})(?![\\w.])`,
  "gi",
);
const VOLUME_PATH = /^(?:dbfs:)?\/Volumes\/([^/\s]+)\/([^/\s]+)/;

/** The strings an argument may be: its one constant value, else each literal or f-string it names. */
function argStrings(scope: Scope, tokens: Token[]): string[] {
  const v = constString(scope, tokens);
  if (v !== undefined) return [v];
  if (tokens.length !== 1) return [];
  // An f-string whose fields are not known keeps them as `{…}`: the shape still tells.
  return stringsOf(scope, tokens);
}

function threePart(name: string): { parts: string[]; known: boolean } | undefined {
  const parts = name.trim().split(".").map((p) => p.replace(/^`|`$/g, ""));
  if (parts.length !== 3 || parts.some((p) => p.length === 0 || /\s/.test(p))) return undefined;
  if (NOT_UC_CATALOGS.has(parts[0].toLowerCase())) return undefined;
  return { parts, known: parts.every((p) => !/[{}]/.test(p)) };
}

/**
 * Unity Catalog as the code shows it: three-part table names given to saveAsTable/table/insertInto/…,
 * three-part names and `CATALOG.SCHEMA` schemas in spark.sql text, and /Volumes/ paths in any string.
 */
function ucUses(module: PyModule, scope: Scope, calls: QCall[]): UcObject[] {
  const out: UcObject[] = [];
  const add = (o: UcObject) => {
    if (!out.some((x) => x.line === o.line && x.column === o.column && x.name === o.name)) out.push(o);
  };
  for (const c of calls) {
    const method = c.callee.split(".").pop()!;
    const positional = c.args.filter((a) => !a.keyword && !a.star);
    if (method in TABLE_METHODS) {
      const a = c.args.find((x) => x.keyword === "name" || x.keyword === "tableName") ??
        positional[TABLE_METHODS[method]];
      for (const v of a ? argStrings(scope, a.tokens) : []) {
        const t = threePart(v);
        if (!t) continue;
        const name = t.parts.join(".");
        add({
          kind: "table",
          name,
          ...(t.known ? { schema: `${t.parts[0]}.${t.parts[1]}` } : {}),
          via: method,
          line: a!.line,
          column: a!.column,
        });
      }
    }
    if (SQL_METHODS.has(method) && positional[0]) {
      const a = positional[0];
      for (const sql of argStrings(scope, a.tokens)) {
        for (const m of sql.matchAll(SQL_THREE_PART)) {
          const t = threePart(m[1]);
          if (!t) continue;
          add({
            kind: /\bVOLUME\s/i.test(m[0]) ? "volume" : "table",
            name: t.parts.join("."),
            ...(t.known ? { schema: `${t.parts[0]}.${t.parts[1]}` } : {}),
            via: c.callee,
            line: a.line,
            column: a.column,
          });
        }
        for (const m of sql.matchAll(SQL_SCHEMA)) {
          const parts = m[1].split(".").map((p) => p.replace(/^`|`$/g, ""));
          if (NOT_UC_CATALOGS.has(parts[0].toLowerCase())) continue;
          const known = parts.every((p) => !/[{}]/.test(p));
          add({
            kind: "schema",
            name: parts.join("."),
            ...(known ? { schema: parts.join(".") } : {}),
            via: c.callee,
            line: a.line,
            column: a.column,
          });
        }
      }
    }
  }
  for (const t of module.tokens) {
    if (t.kind !== "string" || t.value === undefined) continue;
    const value = constString(scope, [t]) ?? t.value;
    const m = value.match(VOLUME_PATH) ?? (/^(?:dbfs:)?\/Volumes\/?$/.test(value) ? ["", "{}", "{}"] : null);
    if (!m) continue;
    const known = !/[{}]/.test(m[1] + m[2]);
    add({
      kind: "volume",
      name: value,
      ...(known ? { schema: `${m[1]}.${m[2]}` } : {}),
      via: "string",
      line: t.line,
      column: t.column,
    });
  }
  return out;
}
