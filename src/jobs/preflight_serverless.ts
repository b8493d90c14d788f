// What changes in `job check` when the job runs on serverless compute (`--serverless`,
// docs/databricks-behaviour.md §4.5): there is no cluster, so the access-mode and spark-version rules do not
// apply; a cluster spec or spark_env_vars have no place; libraries are the environment's dependencies; and
// the workspace needs Unity Catalog. Kept apart from preflight.ts, which only filters and appends these.

import { positionIn } from "./cluster_spec.ts";
import type { Draft, Finding, Rule, RuleId } from "./preflight.ts";
import { shellQuote } from "../shell.ts";

/** Rules about a cluster (its access mode, its spark version, its runtime's quirks): not for serverless. */
export const CLUSTER_ONLY_RULES: ReadonlySet<RuleId> = new Set<RuleId>([
  "uc-access-mode",
  "spark-version-cpu",
  "spark-version-unlisted",
  "single-node-conf",
  "runtime-15-4-pydantic",
]);

const SEED = "dbxr: serverless compute for jobs (docs/databricks-behaviour.md §4.5)";

export const SERVERLESS_RULES: readonly Rule[] = [
  {
    id: "serverless-cluster-spec",
    severity: "error",
    seed: SEED,
    explanation:
      "A serverless task names no cluster: it has an environment_key instead of existing_cluster_id " +
      "or new_cluster, and serverless compute has no spark_env_vars, init scripts, node types or spark " +
      "versions. A cluster in the spec would make it a classic task, or the request is refused.",
    fix:
      "Drop the cluster from the spec (keep its libraries as --dependency), or run without --serverless. " +
      "Pass what spark_env_vars carried to the script as arguments (-- ARGS).",
    check: (f) => {
      const spec = f.spec;
      if (!f.serverless || !spec) return [];
      const out: Draft[] = spec.clusters.map((c) => ({
        file: spec.path,
        ...positionIn(spec.text, c.spark_version ? `"${c.spark_version}"` : "{"),
        message: `${c.where} defines a cluster; a serverless task runs on none`,
      }));
      for (const key of ["spark_env_vars", "init_scripts"]) {
        if (!spec.text.includes(`"${key}"`)) continue;
        out.push({
          file: spec.path,
          ...positionIn(spec.text, `"${key}"`),
          message: `${key} is not supported on serverless compute`,
        });
      }
      return out;
    },
  },
  {
    id: "serverless-unity-catalog",
    severity: "info",
    seed: SEED,
    explanation:
      "Serverless compute for jobs needs a workspace with Unity Catalog enabled, in a region that " +
      "offers it, and runs in standard access mode: code that needs a single-user (dedicated) cluster, RDD " +
      "APIs or sparkContext does not run there.",
    fix: "If the workspace refuses the run, run it on a cluster (--cluster-id or --new-cluster), or ask a " +
      "workspace admin to enable serverless compute for jobs.",
    check: (f) =>
      f.serverless
        ? [{
          file: f.entry,
          line: 1,
          column: 1,
          message: "serverless compute for jobs requires Unity Catalog (standard access mode)",
        }]
        : [],
  },
];

/**
 * A finding said the serverless way: packages go into the environment (`--dependency`), not onto a
 * cluster (`--libraries`). Keyed on each finding's data, not on its wording.
 */
export function serverlessFinding(f: Finding, entry: string): Finding {
  const pkgs = Array.isArray(f.data?.packages) ? (f.data!.packages as string[]) : [];
  const command = pkgs.length
    ? `dbxr job run ${shellQuote(entry)} --serverless ${
      pkgs.map((p) => `--dependency ${shellQuote(p)}`).join(" ")
    }`
    : undefined;
  if (f.rule === "pip-magic") {
    return {
      ...f,
      fix: "Remove the %pip line and install the packages as dependencies of the serverless environment.",
      ...(command ? { command } : {}),
    };
  }
  if (f.rule === "databricks-agents-deps" && pkgs.length) {
    return {
      ...f,
      message: `imports ${pkgs.join(", ")}, not among the serverless environment's dependencies`,
      fix: "Add the packages as dependencies of the job's environment (--dependency).",
      ...(command ? { command } : {}),
    };
  }
  return f;
}
