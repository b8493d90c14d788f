// Built-in job cluster templates (the seed's "Standard Job Cluster Configuration") and the pure function
// that turns one into a `new_cluster` for runs/submit: a node type picked from the workspace's own list,
// an optional instance pool, and the user's --cluster-spec merged on top.

import type { NodeType } from "../api/clusters.ts";
import { DbxrError } from "../errors.ts";

/**
 * A `new_cluster` body (docs/databricks-behaviour.md §3); fields dbxr does not set pass through untouched.
 */
export interface NewClusterSpec {
  spark_version: string;
  num_workers?: number;
  node_type_id?: string;
  instance_pool_id?: string;
  data_security_mode?: string;
  spark_conf?: Record<string, string>;
  custom_tags?: Record<string, string>;
  [key: string]: unknown;
}

export interface ClusterTemplate {
  description: string;
  /** Without node_type_id: that depends on the workspace's cloud and is chosen by buildClusterSpec. */
  spec: Readonly<NewClusterSpec>;
  /** Pick a node type with at least one GPU. */
  gpu: boolean;
}

// The classic single-node form: the server accepts it on every API version, unlike kind/is_single_node.
const singleNode = (sparkVersion: string): NewClusterSpec => ({
  spark_version: sparkVersion,
  num_workers: 0,
  // Unity Catalog refuses other access modes ("PERMISSION_DENIED: Access denied to clusters that don't
  // have Unity Catalog enabled"), and model registration is what these jobs usually do.
  data_security_mode: "SINGLE_USER",
  spark_conf: { "spark.master": "local[*]", "spark.databricks.cluster.profile": "singleNode" },
  custom_tags: { ResourceClass: "SingleNode" },
});

export const DEFAULT_TEMPLATE = "ml-single-node";

export const TEMPLATES: Readonly<Record<string, ClusterTemplate>> = {
  "ml-single-node": {
    description:
      "16.4 LTS ML (CPU), single node, SINGLE_USER access: MLflow logging and UC registration (default)",
    spec: singleNode("16.4.x-cpu-ml-scala2.12"),
    gpu: false,
  },
  "cpu-single-node": {
    description: "16.4 LTS (no ML libraries), single node, SINGLE_USER access: plain Python and Spark",
    spec: singleNode("16.4.x-scala2.12"),
    gpu: false,
  },
  "ml-gpu-single-node": {
    description: "16.4 LTS ML (GPU), single node, SINGLE_USER access, on a node type with a GPU",
    spec: singleNode("16.4.x-gpu-ml-scala2.12"),
    gpu: true,
  },
};

/** The seed's node type for each cloud, used when the workspace lists it. */
export const PREFERRED_NODE_TYPES: readonly string[] = ["i3.xlarge", "Standard_DS3_v2", "n2-highmem-4"];

const MIN_CORES = 4;
const MIN_MEMORY_MB = 16 * 1024;

export interface BuildClusterSpecOptions {
  /** A key of TEMPLATES; default DEFAULT_TEMPLATE. */
  template?: string;
  /** The --cluster-spec file's object: deep-merged over the template, and it wins. null deletes a key. */
  override?: Record<string, unknown>;
  /** From clusters/list-node-types. */
  nodeTypes: readonly NodeType[];
  instancePoolId?: string;
  /** Keys from clusters/spark-versions; when given, a spark_version not among them is an error. */
  sparkVersions?: readonly string[];
}

export function buildClusterSpec(
  opts: BuildClusterSpecOptions,
): { spec: NewClusterSpec; warnings: string[] } {
  const name = opts.template ?? DEFAULT_TEMPLATE;
  const template = Object.hasOwn(TEMPLATES, name) ? TEMPLATES[name] : undefined;
  if (!template) {
    throw new DbxrError(
      "InvalidArgument",
      `Unknown cluster template "${name}". Templates: ${Object.keys(TEMPLATES).join(", ")}`,
      { hint: "dbxr job run --help", details: { template: name, templates: Object.keys(TEMPLATES) } },
    );
  }
  const warnings: string[] = [];
  const override = clusterOverride(opts.override ?? {});
  let spec = deepMerge(structuredClone(template.spec), override);
  if (opts.instancePoolId) spec.instance_pool_id = opts.instancePoolId;
  if (asksForWorkers(override)) dropSingleNode(spec, override, warnings);

  if (spec.instance_pool_id) {
    // A pool fixes the node type, and Databricks refuses a request that names one as well ("The field
    // 'node_type_id' cannot be supplied when an instance pool ID is provided"). The seed's own template has
    // one, so a copied spec plus a pool is common.
    if ("node_type_id" in spec) {
      warnings.push(
        `dropped node_type_id ${String(spec.node_type_id)}: the instance pool sets the node type`,
      );
      delete spec.node_type_id;
    }
  } else if (!spec.node_type_id) {
    const gpu = template.gpu || /-gpu-/.test(String(spec.spark_version ?? ""));
    const chosen = chooseNodeType(opts.nodeTypes, { gpu });
    warnings.push(...chosen.warnings);
    // Key order as in the seed's template: spark_version, node_type_id, the rest.
    if (chosen.nodeTypeId) {
      spec = { spark_version: spec.spark_version, node_type_id: chosen.nodeTypeId, ...spec };
    }
  }

  const sparkVersion = typeof spec.spark_version === "string" ? spec.spark_version : "";
  if (!sparkVersion) {
    throw new DbxrError("InvalidArgument", "The cluster spec has no spark_version", {
      hint: "dbxr cluster spark-versions --filter cpu-ml",
    });
  }
  checkSparkVersion(sparkVersion, opts.sparkVersions, warnings);
  return { spec: spec as NewClusterSpec, warnings };
}

/**
 * The node type for a job cluster: the seed's choice for the cloud when the workspace lists it, else the
 * smallest usable type with at least 4 cores and 16 GB (and a GPU when asked).
 */
export function chooseNodeType(
  nodeTypes: readonly NodeType[],
  opts: { gpu: boolean },
): { nodeTypeId?: string; warnings: string[] } {
  const usable = nodeTypes.filter((n) => !n.is_deprecated && !n.is_hidden && !unavailable(n));
  const fits = (n: NodeType) => !opts.gpu || (n.num_gpus ?? 0) >= 1;
  if (!opts.gpu) {
    for (const id of PREFERRED_NODE_TYPES) {
      if (usable.some((n) => n.node_type_id === id)) return { nodeTypeId: id, warnings: [] };
    }
  }
  const candidates = usable.filter((n) => fits(n) && n.num_cores >= MIN_CORES && n.memory_mb >= MIN_MEMORY_MB)
    .sort(bySize);
  if (candidates.length) return { nodeTypeId: candidates[0].node_type_id, warnings: [] };
  const what = `${opts.gpu ? "a GPU, " : ""}at least ${MIN_CORES} cores and ${MIN_MEMORY_MB / 1024} GB`;
  // Below the floor, the biggest one is the least likely to run out of memory while logging a model.
  const fallback = usable.filter(fits).sort(bySize).at(-1);
  if (fallback) {
    return {
      nodeTypeId: fallback.node_type_id,
      warnings: [
        `no node type with ${what} is available; using ${fallback.node_type_id} (${fallback.num_cores} cores, ${
          Math.round(fallback.memory_mb / 1024)
        } GB). Set node_type_id in --cluster-spec to choose another.`,
      ],
    };
  }
  return {
    warnings: [
      `no usable node type with ${what} in this workspace (dbxr cluster node-types); set node_type_id in ` +
      `--cluster-spec or use --instance-pool`,
    ],
  };
}

const bySize = (a: NodeType, b: NodeType) =>
  (a.num_gpus ?? 0) - (b.num_gpus ?? 0) || a.memory_mb - b.memory_mb || a.num_cores - b.num_cores ||
  a.node_type_id.localeCompare(b.node_type_id);

// Azure and GCP list types the subscription or region cannot launch, with the reason in node_info.status.
function unavailable(n: NodeType): boolean {
  const status = (n.node_info as { status?: unknown } | undefined)?.status;
  return Array.isArray(status) && status.length > 0;
}

function checkSparkVersion(
  version: string,
  offered: readonly string[] | undefined,
  warnings: string[],
): void {
  // ML runtimes are named -cpu-ml- or -gpu-ml-; "16.4.x-ml-scala2.12" looks right and is refused.
  const mlWithoutKind = /-ml-/.test(version) && !/-(cpu|gpu)-ml-/.test(version);
  const suggestion = mlWithoutKind ? version.replace("-ml-", "-cpu-ml-") : undefined;
  if (offered && offered.length > 0 && !offered.includes(version)) {
    const similar = suggestion && offered.includes(suggestion) ? suggestion : undefined;
    throw new DbxrError(
      "InvalidArgument",
      `Spark version ${version} is not offered by this workspace${
        similar ? `; did you mean ${similar}?` : ""
      }`,
      {
        hint: "dbxr cluster spark-versions --filter cpu-ml",
        details: { spark_version: version, ...(similar ? { suggestion: similar } : {}) },
      },
    );
  }
  if (mlWithoutKind && !offered?.length) {
    warnings.push(
      `spark version ${version} has no -cpu-/-gpu- before -ml- and Databricks refuses such keys; ` +
        `use ${suggestion} (dbxr cluster spark-versions --filter cpu-ml)`,
    );
  }
}

const asksForWorkers = (o: Record<string, unknown>) =>
  (typeof o.num_workers === "number" && o.num_workers > 0) || isPlainObject(o.autoscale);

// The template's single-node settings on a cluster with workers would start a driver that ignores them,
// so a spec that asks for workers takes them out, unless it set them itself.
function dropSingleNode(
  spec: Record<string, unknown>,
  override: Record<string, unknown>,
  warnings: string[],
) {
  const own = (field: string, key: string) => isPlainObject(override[field]) && key in override[field];
  const dropped: string[] = [];
  for (const [field, key] of SINGLE_NODE_KEYS) {
    const obj = spec[field];
    if (isPlainObject(obj) && key in obj && !own(field, key)) {
      delete obj[key];
      dropped.push(`${field}.${key}`);
    }
  }
  if (isPlainObject(override.autoscale) && !("num_workers" in override)) delete spec.num_workers;
  if (dropped.length) warnings.push(`the cluster spec asks for workers: dropped ${dropped.join(", ")}`);
}

const SINGLE_NODE_KEYS: ReadonlyArray<[string, string]> = [
  ["spark_conf", "spark.master"],
  ["spark_conf", "spark.databricks.cluster.profile"],
  ["custom_tags", "ResourceClass"],
];

/**
 * The cluster part of a --cluster-spec file: a bare new_cluster object as in the seed, or the first
 * new_cluster of `{"new_cluster": …}`, a job spec's job_clusters[] or its tasks[].
 */
export function clusterOverride(file: Record<string, unknown>): Record<string, unknown> {
  if (isPlainObject(file.new_cluster)) return file.new_cluster;
  const nested = [...asArray(file.job_clusters), ...asArray(file.tasks)]
    .map((x) => isPlainObject(x) ? x.new_cluster : undefined)
    .find(isPlainObject);
  return nested ?? file;
}

const asArray = (v: unknown): unknown[] => Array.isArray(v) ? v : [];

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** `over` wins; objects merge key by key, arrays and scalars replace, null removes the key. */
export function deepMerge(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else if (isPlainObject(v) && isPlainObject(out[k])) {
      out[k] = deepMerge(out[k] as Record<string, unknown>, v);
    } else out[k] = structuredClone(v);
  }
  return out;
}
