// cluster list and cluster find as services (the CLI and `dbxr mcp` share them).

import * as clusters from "../api/clusters.ts";
import type { ApiClient } from "../api/http.ts";
import { foundClusterJson, matchClusters } from "./find.ts";
import { clusterSummaryJson } from "./render.ts";

/** Every cluster (optionally in one state), running first, then by name. */
export async function listClusters(client: ApiClient, state?: string) {
  const all = await clusters.list(client, state ? { states: [state.toUpperCase()] } : {});
  return all.map(clusterSummaryJson).sort((a, b) =>
    Number(b.state === "RUNNING") - Number(a.state === "RUNNING") ||
    a.cluster_name.localeCompare(b.cluster_name)
  );
}

/** All-purpose clusters whose name contains `name` (all of them without one), running first. */
export async function findClusters(client: ApiClient, name?: string) {
  return matchClusters(await clusters.list(client), name).map(foundClusterJson);
}
