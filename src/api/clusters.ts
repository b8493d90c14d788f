// Clusters API 2.1 (docs/databricks-behaviour.md §3): typed calls, no policy. Waiting for a state lives with
// the callers.

import { isDbxrError } from "../errors.ts";
import type { ApiClient, Query } from "./http.ts";

export type ClusterState =
  | "PENDING"
  | "RUNNING"
  | "RESTARTING"
  | "RESIZING"
  | "TERMINATING"
  | "TERMINATED"
  | "ERROR"
  | "UNKNOWN";

export type ClusterSource = "API" | "JOB" | "MODELS" | "PIPELINE" | "PIPELINE_MAINTENANCE" | "SQL" | "UI";

export interface TerminationReason {
  code?: string;
  type?: "SUCCESS" | "CLIENT_ERROR" | "SERVICE_FAULT" | "CLOUD_FAILURE" | string;
  parameters?: Record<string, string>;
}

export interface SparkNode {
  node_id?: string;
  instance_id?: string;
  private_ip?: string;
  public_dns?: string;
  start_timestamp?: number;
  [key: string]: unknown;
}

/** The fields of ClusterDetails that dbxr reads; the server sends more, kept as unknown. */
export interface ClusterDetails {
  cluster_id: string;
  cluster_name?: string;
  state?: ClusterState;
  /** Why the last transition happened. */
  state_message?: string;
  spark_version?: string;
  node_type_id?: string;
  driver_node_type_id?: string;
  num_workers?: number;
  autoscale?: { min_workers?: number; max_workers?: number };
  spark_conf?: Record<string, string>;
  custom_tags?: Record<string, string>;
  default_tags?: Record<string, string>;
  spark_env_vars?: Record<string, string>;
  data_security_mode?: string;
  single_user_name?: string;
  cluster_source?: ClusterSource;
  creator_user_name?: string;
  autotermination_minutes?: number;
  /** Epoch ms. */
  start_time?: number;
  terminated_time?: number;
  last_restarted_time?: number;
  termination_reason?: TerminationReason;
  /** Changes when the driver restarts (every execution context is lost then). */
  spark_context_id?: number;
  is_single_node?: boolean;
  kind?: string;
  runtime_engine?: "NULL" | "STANDARD" | "PHOTON";
  policy_id?: string;
  instance_pool_id?: string;
  driver?: SparkNode;
  executors?: SparkNode[];
  cluster_memory_mb?: number;
  cluster_cores?: number;
  jdbc_port?: number;
  [key: string]: unknown;
}

export interface ListClustersOptions {
  /** Server-side filter on state (ClusterState names; user input is passed through for the server to judge). */
  states?: readonly string[];
  /** Server-side filter on source (e.g. ["UI", "API"] for all-purpose clusters). */
  sources?: readonly string[];
  pageSize?: number;
  signal?: AbortSignal;
}

interface ListClustersResponse {
  clusters?: ClusterDetails[];
  next_page_token?: string;
}

export interface SparkVersion {
  key: string;
  name: string;
}

export interface NodeType {
  node_type_id: string;
  /** Required in the API schema, as num_cores. */
  memory_mb: number;
  num_cores: number;
  num_gpus?: number;
  category?: string;
  description?: string;
  is_deprecated?: boolean;
  photon_driver_capable?: boolean;
  photon_worker_capable?: boolean;
  node_instance_type?: Record<string, unknown>;
  node_info?: Record<string, unknown>;
  [key: string]: unknown;
}

const BASE = "/api/2.1/clusters";
/** A guard against a server that keeps handing out page tokens. */
const MAX_PAGES = 1000;

/** Every cluster the caller can see (pinned, active, and terminated within 30 days), all pages. */
export async function list(client: ApiClient, opts: ListClustersOptions = {}): Promise<ClusterDetails[]> {
  const all: ClusterDetails[] = [];
  const seen = new Set<string>();
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query: Query = {
      filter_by: { cluster_states: opts.states, cluster_sources: opts.sources },
      page_size: opts.pageSize,
      page_token: token,
    };
    const res = await client.get<ListClustersResponse>(`${BASE}/list`, query, { signal: opts.signal });
    all.push(...(res.clusters ?? []));
    token = res.next_page_token || undefined;
    // An empty token marks the last page; a repeated one would loop forever.
    if (!token || seen.has(token)) break;
    seen.add(token);
  }
  return all;
}

export function get(client: ApiClient, clusterId: string, signal?: AbortSignal): Promise<ClusterDetails> {
  return client.get<ClusterDetails>(`${BASE}/get`, { cluster_id: clusterId }, { signal });
}

/** The cluster, or undefined when it does not exist (the 400 "does not exist" answer included). */
export async function getOrUndefined(
  client: ApiClient,
  clusterId: string,
  signal?: AbortSignal,
): Promise<ClusterDetails | undefined> {
  try {
    return await get(client, clusterId, signal);
  } catch (e) {
    if (isDbxrError(e, "NotFound")) return undefined;
    throw e;
  }
}

/** Starts a TERMINATED cluster; any other state answers 400 INVALID_STATE. Does not wait. */
export async function start(client: ApiClient, clusterId: string): Promise<void> {
  await client.post(`${BASE}/start`, { cluster_id: clusterId });
}

/** Restarts a RUNNING cluster; every execution context is lost. Does not wait. */
export async function restart(client: ApiClient, clusterId: string): Promise<void> {
  await client.post(`${BASE}/restart`, { cluster_id: clusterId });
}

/** Terminates the cluster (it stays listed and can be started again). Repeating it is harmless. */
export async function terminate(client: ApiClient, clusterId: string): Promise<void> {
  await client.post(`${BASE}/delete`, { cluster_id: clusterId }, { idempotent: true });
}

/** The API's name for terminate. */
export { terminate as delete };

export async function sparkVersions(client: ApiClient): Promise<SparkVersion[]> {
  return (await client.get<{ versions?: SparkVersion[] }>(`${BASE}/spark-versions`)).versions ?? [];
}

export async function listNodeTypes(client: ApiClient): Promise<NodeType[]> {
  return (await client.get<{ node_types?: NodeType[] }>(`${BASE}/list-node-types`)).node_types ?? [];
}
