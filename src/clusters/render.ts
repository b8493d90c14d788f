// Stable JSON shapes and text renderers for cluster results. Never print an API object as-is.

import type { ClusterDetails, NodeType, SparkVersion } from "../api/clusters.ts";
import type { FoundCluster } from "./find.ts";
import { plainStyle, type Style, table } from "../table.ts";

export function clusterSummaryJson(c: ClusterDetails) {
  return {
    cluster_id: c.cluster_id,
    cluster_name: c.cluster_name ?? "",
    state: c.state ?? "UNKNOWN",
    state_message: c.state_message ?? "",
    cluster_source: c.cluster_source ?? "",
    spark_version: c.spark_version ?? "",
    node_type_id: c.node_type_id ?? "",
    num_workers: c.num_workers ?? 0,
    autoscale: c.autoscale ?? null,
    data_security_mode: c.data_security_mode ?? "",
    single_user_name: c.single_user_name ?? null,
    creator_user_name: c.creator_user_name ?? "",
  };
}

export type ClusterSummary = ReturnType<typeof clusterSummaryJson>;

export function clusterDetailJson(c: ClusterDetails) {
  return {
    ...clusterSummaryJson(c),
    driver_node_type_id: c.driver_node_type_id ?? c.node_type_id ?? "",
    autotermination_minutes: c.autotermination_minutes ?? 0,
    spark_conf: c.spark_conf ?? {},
    custom_tags: c.custom_tags ?? {},
    start_time: c.start_time ?? null,
    terminated_time: c.terminated_time ?? null,
    termination_reason: c.termination_reason ?? null,
  };
}

export function sparkVersionJson(v: SparkVersion) {
  return { key: v.key, name: v.name };
}

export function nodeTypeJson(n: NodeType) {
  return {
    node_type_id: n.node_type_id,
    memory_mb: n.memory_mb,
    num_cores: n.num_cores,
    num_gpus: n.num_gpus ?? 0,
    category: n.category ?? "",
    is_deprecated: n.is_deprecated ?? false,
  };
}

export const clusterListText = (cs: ClusterSummary[], style?: Style) =>
  table(
    ["CLUSTER ID", "NAME", "STATE", "SOURCE", "SPARK VERSION"],
    cs.map((c) => [c.cluster_id, c.cluster_name, c.state, c.cluster_source, c.spark_version]),
    { style, stateColumns: [2] },
  );

export const foundClustersText = (cs: FoundCluster[], style?: Style) =>
  table(
    ["CLUSTER ID", "NAME", "STATE", "NEXT"],
    cs.map((c) => [c.cluster_id, c.cluster_name, c.state, c.hint ?? ""]),
    { style, stateColumns: [2] },
  );

export function clusterDetailText(
  c: ReturnType<typeof clusterDetailJson>,
  style: Style = plainStyle,
): string {
  const lines = [
    ["cluster_id", c.cluster_id],
    ["name", c.cluster_name],
    ["state", style.state(c.state) + (c.state_message ? ` (${c.state_message})` : "")],
    ["source", c.cluster_source],
    ["spark_version", c.spark_version],
    ["node_type", c.node_type_id],
    [
      "workers",
      c.autoscale
        ? `${c.autoscale.min_workers}-${c.autoscale.max_workers} (autoscale)`
        : String(c.num_workers),
    ],
    ["access_mode", c.data_security_mode],
    ["creator", c.creator_user_name],
  ];
  return lines.map(([k, v]) => `${k.padEnd(14)} ${v}`).join("\n");
}
