// The thin shell around the preflight rules: reads the scripts (and a cluster spec file) through ctx and
// runs them. Shared by `job check` and `job run`, which passes the cluster spec it built as an object.

import type { Ctx } from "../ctx.ts";
import { DbxrError } from "../errors.ts";
import { type ClusterSpec, packageName, parseClusterSpec } from "./cluster_spec.ts";
import { type PreflightReport, runPreflight } from "./preflight.ts";

export type { Finding, PreflightReport } from "./preflight.ts";

export interface CheckOptions {
  /** A cluster spec file to read (`--cluster-spec FILE`). */
  clusterSpecFile?: string;
  /** A cluster spec already in memory (job run's merged template); used when no file is given. */
  clusterSpec?: Record<string, unknown>;
  uc?: boolean;
  strict?: boolean;
  /** "16.4", "16.4 LTS ML" or a spark_version key. */
  runtime?: string;
  /** The job runs on serverless compute (no cluster). */
  serverless?: boolean;
  /** pip requirements of the serverless environment (--dependency): installed packages for the rules. */
  dependencies?: string[];
  /** job run's --include trees with their module names (see PreflightInput.uploaded). */
  uploaded?: Array<{ include: string; modules: string[] }>;
}

export async function checkFiles(
  ctx: Ctx,
  paths: string[],
  opts: CheckOptions = {},
): Promise<PreflightReport> {
  const files: Array<{ path: string; source: string }> = [];
  for (const path of paths) files.push({ path, source: await readOrThrow(ctx, path, "Script") });
  let spec: ClusterSpec | undefined;
  if (opts.clusterSpecFile) {
    spec = parseClusterSpec(
      opts.clusterSpecFile,
      await readOrThrow(ctx, opts.clusterSpecFile, "Cluster spec"),
    );
  } else if (opts.clusterSpec) {
    spec = parseClusterSpec("(cluster spec)", JSON.stringify(opts.clusterSpec, null, 2));
  }
  if (opts.dependencies?.length) {
    if (spec) spec.libraries = [...new Set([...spec.libraries, ...opts.dependencies.map(packageName)])];
    else {
      const environments = [{ environment_key: "default", spec: { dependencies: opts.dependencies } }];
      spec = parseClusterSpec("(environment)", JSON.stringify({ environments }, null, 2));
    }
  }
  return runPreflight({
    files,
    ...(spec ? { clusterSpec: spec } : {}),
    uc: opts.uc,
    strict: opts.strict,
    runtime: opts.runtime || undefined,
    serverless: opts.serverless,
    ...(opts.uploaded ? { uploaded: opts.uploaded } : {}),
  });
}

async function readOrThrow(ctx: Ctx, path: string, what: string): Promise<string> {
  let text: string | undefined;
  try {
    text = await ctx.readTextFile(path);
  } catch (e) {
    // A directory or an unreadable file is a usage error, not an internal one.
    throw new DbxrError("InvalidArgument", `${what} ${path} cannot be read: ${(e as Error).message}`, {
      hint: `ls -l ${path}`,
      details: { path },
      cause: e,
    });
  }
  if (text === undefined) {
    throw new DbxrError("FileNotFound", `${what} not found: ${path}`, {
      hint: `ls ${path}`,
      details: { path },
    });
  }
  return text;
}
