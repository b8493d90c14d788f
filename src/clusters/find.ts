// find-cluster / cluster find: which clusters a name refers to. Pure: takes the listed clusters.

import type { ClusterDetails } from "../api/clusters.ts";

/** Only classic all-purpose clusters can host API 1.2 execution contexts (the seed's constraint). */
const ALL_PURPOSE_SOURCES = new Set(["UI", "API"]);

export function isAllPurpose(c: ClusterDetails): boolean {
  return c.cluster_source === undefined || ALL_PURPOSE_SOURCES.has(c.cluster_source);
}

export function isRunning(state: string | undefined): boolean {
  return state === "RUNNING" || state === "RESIZING";
}

const STATE_ORDER: Record<string, number> = {
  RUNNING: 0,
  RESIZING: 0,
  PENDING: 1,
  RESTARTING: 1,
  TERMINATING: 2,
  TERMINATED: 3,
  ERROR: 4,
  UNKNOWN: 4,
};

/** Case-insensitive substring match on the name; running clusters first, then by name. */
export function matchClusters(all: ClusterDetails[], name?: string): ClusterDetails[] {
  const needle = name?.toLowerCase() ?? "";
  return all
    .filter((c) => isAllPurpose(c) && (c.cluster_name ?? "").toLowerCase().includes(needle))
    .sort((a, b) =>
      (STATE_ORDER[a.state ?? "UNKNOWN"] ?? 4) - (STATE_ORDER[b.state ?? "UNKNOWN"] ?? 4) ||
      (a.cluster_name ?? "").localeCompare(b.cluster_name ?? "")
    );
}

export interface FoundCluster {
  cluster_id: string;
  cluster_name: string;
  state: string;
  /** Present when the cluster is not running: the command that starts it. */
  hint?: string;
}

export function foundClusterJson(c: ClusterDetails): FoundCluster {
  const o: FoundCluster = {
    cluster_id: c.cluster_id,
    cluster_name: c.cluster_name ?? "",
    state: c.state ?? "UNKNOWN",
  };
  if (!isRunning(c.state)) o.hint = `dbxr cluster start ${c.cluster_id} --wait`;
  return o;
}
