// Reading a cluster spec file for `job check --cluster-spec` and `job run`: the seed's cluster template
// (a bare new_cluster object), `{"new_cluster": …}`, or a whole job spec with tasks and job_clusters.
// Pure: the caller reads the file; an unparsable spec is InvalidArgument.

import { DbxrError } from "../errors.ts";

export interface SpecCluster {
  /** Where the cluster sits in the file: "(root)", "new_cluster", "job_clusters[0].new_cluster", … */
  where: string;
  spark_version?: string;
  data_security_mode?: string;
  num_workers?: number;
  /** autoscale is set: the cluster has workers even with num_workers absent. */
  autoscale?: boolean;
  /** The newer single-node form (`kind: CLASSIC_PREVIEW`): the server sets the conf and tag itself. */
  is_single_node?: boolean;
  spark_conf?: Record<string, unknown>;
  custom_tags?: Record<string, unknown>;
}

export interface ClusterSpec {
  path: string;
  text: string;
  clusters: SpecCluster[];
  /** PyPI package names from libraries / environment dependencies, normalised (lower case, `-`). */
  libraries: string[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const asArray = (v: unknown): unknown[] => Array.isArray(v) ? v : [];

export function parseClusterSpec(path: string, text: string): ClusterSpec {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    throw new DbxrError(
      "InvalidArgument",
      `Cluster spec ${path} is not valid JSON: ${(e as Error).message}`,
      {
        hint: `dbxr job check --help`,
        details: { path },
      },
    );
  }
  if (!isObject(root)) {
    throw new DbxrError("InvalidArgument", `Cluster spec ${path} must be a JSON object`, {
      hint: `dbxr job check --help`,
      details: { path },
    });
  }
  const clusters: SpecCluster[] = [];
  const libraries: string[] = [];
  const addCluster = (where: string, c: unknown) => {
    if (!isObject(c)) return;
    clusters.push({
      where,
      ...(typeof c.spark_version === "string" ? { spark_version: c.spark_version } : {}),
      ...(typeof c.data_security_mode === "string" ? { data_security_mode: c.data_security_mode } : {}),
      ...(typeof c.num_workers === "number" ? { num_workers: c.num_workers } : {}),
      ...(c.autoscale !== undefined && c.autoscale !== null ? { autoscale: true } : {}),
      ...(c.is_single_node === true ? { is_single_node: true } : {}),
      ...(isObject(c.spark_conf) ? { spark_conf: c.spark_conf } : {}),
      ...(isObject(c.custom_tags) ? { custom_tags: c.custom_tags } : {}),
    });
  };
  const addLibraries = (libs: unknown) => {
    for (const l of asArray(libs)) {
      const pkg = isObject(l) && isObject(l.pypi) ? l.pypi.package : undefined;
      if (typeof pkg === "string") libraries.push(packageName(pkg));
    }
  };

  if (
    ["spark_version", "node_type_id", "data_security_mode", "instance_pool_id", "num_workers"].some((k) =>
      k in root
    )
  ) {
    addCluster("(root)", root);
  }
  addCluster("new_cluster", root.new_cluster);
  addLibraries(root.libraries);
  asArray(root.job_clusters).forEach((jc, i) => {
    if (isObject(jc)) addCluster(`job_clusters[${i}].new_cluster`, jc.new_cluster);
  });
  asArray(root.tasks).forEach((t, i) => {
    if (!isObject(t)) return;
    addCluster(`tasks[${i}].new_cluster`, t.new_cluster);
    addLibraries(t.libraries);
  });
  for (const env of asArray(root.environments)) {
    const deps = isObject(env) && isObject(env.spec) ? asArray(env.spec.dependencies) : [];
    for (const d of deps) if (typeof d === "string") libraries.push(packageName(d));
  }
  return { path, text, clusters, libraries: [...new Set(libraries)] };
}

/** `databricks_langchain[extra]>=0.4` → `databricks-langchain` (PEP 503 normalisation). */
export function packageName(requirement: string): string {
  return requirement.trim().split(/[\s<>=!~;\[@]/)[0].toLowerCase().replace(/[._]+/g, "-");
}

/** 1-based line and column of the first occurrence of `needle` in the spec text (1:1 when absent). */
export function positionIn(text: string, needle: string): { line: number; column: number } {
  const at = text.indexOf(needle);
  if (at < 0) return { line: 1, column: 1 };
  const before = text.slice(0, at);
  const line = before.split("\n").length;
  return { line, column: at - before.lastIndexOf("\n") };
}

export interface Runtime {
  major: number;
  minor: number;
  /** An ML runtime (`-ml-` in the key, or "ML" in a label such as "16.4 LTS ML"); undefined when unknown. */
  ml?: boolean;
  /** "16.4" */
  label: string;
}

/** Reads "16.4", "16.4 LTS ML" or a spark_version key such as "16.4.x-cpu-ml-scala2.12". */
export function parseRuntime(v: string | undefined): Runtime | undefined {
  const m = v?.match(/^\s*(\d+)(?:\.(\d+|x))?/);
  if (!v || !m) return undefined;
  const minor = m[2] === undefined || m[2] === "x" ? 0 : Number(m[2]);
  const ml = /(^|[-\s])ml([-\s]|$)/i.test(v) ? true : /-scala/.test(v) ? false : undefined;
  return { major: Number(m[1]), minor, ...(ml === undefined ? {} : { ml }), label: `${m[1]}.${minor}` };
}

/** MLflow's major version on an ML runtime (16.4 LTS ML ships 2.21.3, 17.3 LTS ML ships 3.0.1). */
export function mlflowMajor(r: Runtime): 2 | 3 {
  return r.major >= 17 ? 3 : 2;
}
