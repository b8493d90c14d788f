// Job runs on serverless compute (docs/databricks-behaviour.md §4.5): the task names no cluster, only an
// environment of the request's `environments` (a version and pip requirement lines). Pure: the request
// pieces, the flags that conflict with it, and dbxr's answer when a workspace refuses serverless.

import type { JobEnvironment, SubmitTask } from "../api/jobs.ts";
import { DbxrError } from "../errors.ts";
import { shellQuote } from "../shell.ts";
import type { Diagnosis } from "./diagnose.ts";

export const ENVIRONMENT_KEY = "default";
/**
 * The environment version when --environment-version is not given. Databricks requires one (or a base
 * environment) and supports each for three years; "4" is the example value of the SDKs' docstring, and
 * version 5+ is what the newest features (environment variables) ask for.
 */
export const DEFAULT_ENVIRONMENT_VERSION = "4";

/** The `job run` flags that choose or shape a cluster; a serverless run has none. */
export interface ClusterFlags {
  clusterId?: string;
  newCluster?: boolean;
  template?: string;
  clusterSpecFile?: string;
  instancePool?: string;
  env?: string[];
}

/** InvalidArgument when --serverless comes with a flag that only means something for a cluster. */
export function checkServerlessFlags(file: string, o: ClusterFlags): void {
  const given = [
    o.clusterId !== undefined && "--cluster-id",
    o.newCluster && "--new-cluster",
    o.template !== undefined && "--template",
    o.clusterSpecFile !== undefined && "--cluster-spec",
    o.instancePool !== undefined && "--instance-pool",
  ].filter((x): x is string => typeof x === "string");
  if (given.length) {
    throw new DbxrError(
      "InvalidArgument",
      `--serverless runs without a cluster; ${given.join(", ")} ${
        given.length > 1 ? "choose" : "chooses"
      } one. ` +
        "Use one or the other.",
      {
        hint: `dbxr job run ${shellQuote(file)} --serverless`,
        details: { conflicting: given },
      },
    );
  }
  if (o.env?.length) {
    throw new DbxrError(
      "InvalidArgument",
      "--env sets a new cluster's spark_env_vars, which serverless compute does not have; pass the values " +
        "to the script as arguments after -- instead",
      { hint: `dbxr job run ${shellQuote(file)} --serverless -- ARGS`, details: { conflicting: ["--env"] } },
    );
  }
}

/** The environment version: a whole number (Databricks: "a string, consisting of an integer"). */
export function environmentVersion(value: string | undefined): string {
  if (value === undefined) return DEFAULT_ENVIRONMENT_VERSION;
  const v = value.trim();
  if (!/^[1-9]\d{0,2}$/.test(v)) {
    throw new DbxrError(
      "InvalidArgument",
      `--environment-version takes a whole number such as 4, got "${value}"`,
      {
        hint: "dbxr job run FILE --serverless --environment-version 4",
      },
    );
  }
  return v;
}

/**
 * The environment's pip requirement lines: --dependency specs as given, then --libraries (what a cluster
 * would install as PyPI libraries), without repeats. One line each: pip reads a requirements file.
 */
export function dependencySpecs(
  dependencies: readonly string[],
  libraries: readonly string[] = [],
): string[] {
  const out: string[] = [];
  for (const raw of [...dependencies, ...libraries]) {
    const spec = raw.trim();
    if (spec === "" || /[\r\n]/.test(spec)) {
      throw new DbxrError(
        "InvalidArgument",
        `--dependency takes one pip requirement per flag (e.g. "pandas>=2.2"), got ${JSON.stringify(raw)}`,
        { hint: "dbxr job run FILE --serverless --dependency 'pandas>=2.2' --dependency mlflow" },
      );
    }
    if (!out.includes(spec)) out.push(spec);
  }
  return out;
}

export function jobEnvironment(dependencies: string[], version: string): JobEnvironment {
  return {
    environment_key: ENVIRONMENT_KEY,
    spec: { environment_version: version, ...(dependencies.length ? { dependencies } : {}) },
  };
}

/** The one task of a serverless run: no existing_cluster_id, no new_cluster, no libraries. */
export function serverlessTask(pythonFile: string, parameters: string[]): SubmitTask {
  return {
    task_key: "main",
    spark_python_task: { python_file: pythonFile, parameters, source: "WORKSPACE" },
    environment_key: ENVIRONMENT_KEY,
  };
}

const REFUSAL = /serverless/i;

/**
 * dbxr's answer when the workspace refuses a serverless run (serverless switched off, not offered in the
 * region, no Unity Catalog): the server's words, and the two ways on. Undefined for any other error.
 */
export function serverlessRefusal(e: unknown, file: string): DbxrError | undefined {
  if (!(e instanceof DbxrError) || !["ApiError", "PermissionDenied"].includes(e.code)) return undefined;
  if (!REFUSAL.test(e.message)) return undefined;
  const f = shellQuote(file);
  return new DbxrError(
    e.code,
    `This workspace refused a serverless run: ${e.message.replace(/\.?$/, ".")} Run it on a cluster ` +
      "instead, or ask a workspace admin to enable serverless compute for jobs (it needs Unity Catalog).",
    {
      hint: `dbxr job run ${f} --cluster-id CLUSTER_ID`,
      details: {
        ...e.details,
        next_steps: [
          `dbxr job run ${f} --cluster-id CLUSTER_ID`,
          `dbxr job run ${f} --new-cluster`,
          "ask a workspace admin to enable serverless compute for jobs",
        ],
      },
      cause: e,
    },
  );
}

/** Is this run (runs/get) on serverless compute: its tasks name an environment and no cluster. */
export function isServerlessRun(tasks: ReadonlyArray<{ environment_key?: string }> | undefined): boolean {
  return (tasks ?? []).some((t) => typeof t.environment_key === "string" && t.environment_key !== "");
}

/** The cluster words of a diagnosis said the serverless way: dependencies go into the environment. */
export function serverlessDiagnoses(diagnoses: Diagnosis[]): Diagnosis[] {
  return diagnoses.map((d) =>
    d.id !== "library-installation" ? d : {
      ...d,
      cause: d.cause.replace(/ on the cluster\b/, " into the serverless environment"),
      fix: "Check the requirement's name and version pin (--dependency) against PyPI and the environment " +
        "version's Python (--environment-version); drop pins that conflict with the packages the " +
        "environment ships.",
    }
  );
}
