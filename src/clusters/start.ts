// cluster start [--wait]: start a cluster, or wait out whatever it is doing, until it can run commands.
// The decision for each observed state is a pure function; the loop around it is the one poll().

import type { ApiClient } from "../api/http.ts";
import * as clusters from "../api/clusters.ts";
import type { ClusterDetails } from "../api/clusters.ts";
import type { Ctx } from "../ctx.ts";
import { DbxrError, isDbxrError } from "../errors.ts";
import { poll, slowSchedule } from "../poll.ts";
import { isAllPurpose } from "./find.ts";

export type StartAction = "done" | "start" | "wait" | "fail";

/**
 * What to do on seeing a state. `requested` is true once we (or someone) asked for a start, so that a
 * cluster falling back to TERMINATED after our request is a failure, not a reason to start again.
 */
export function nextStartAction(state: string | undefined, requested: boolean): StartAction {
  switch (state) {
    case "RUNNING":
    case "RESIZING":
      return "done";
    case "TERMINATED":
      return requested ? "fail" : "start";
    case "PENDING":
    case "RESTARTING":
    case "TERMINATING": // wait it out, then start
      return "wait";
    default: // ERROR, UNKNOWN
      return "fail";
  }
}

export interface StartResult {
  cluster_id: string;
  cluster_name: string;
  state: string;
  state_message: string;
  /** True when this call asked Databricks to start the cluster. */
  start_requested: boolean;
  waited_seconds: number;
}

export interface StartOptions {
  wait: boolean;
  timeoutSeconds: number;
}

export async function getClusterOrThrow(client: ApiClient, id: string): Promise<ClusterDetails> {
  try {
    return await clusters.get(client, id);
  } catch (e) {
    if (isDbxrError(e, "NotFound")) {
      throw new DbxrError("ClusterNotFound", `Cluster ${id} does not exist.`, {
        hint: "dbxr cluster find",
        details: e.details,
      });
    }
    throw e;
  }
}

export async function startCluster(
  ctx: Ctx,
  client: ApiClient,
  id: string,
  opts: StartOptions,
): Promise<StartResult> {
  const started = ctx.now();
  let cluster = await getClusterOrThrow(client, id);
  if (!isAllPurpose(cluster)) {
    throw new DbxrError(
      "InvalidArgument",
      `Cluster ${id} is a ${cluster.cluster_source} cluster; only all-purpose clusters can be started.`,
      { hint: "dbxr cluster find", details: { cluster_source: cluster.cluster_source } },
    );
  }
  let requested = false;
  // A start that we watched fail (PENDING, then TERMINATED) is a failure even if someone else asked.
  let startSeen = false;

  const result = (c: ClusterDetails): StartResult => ({
    cluster_id: c.cluster_id,
    cluster_name: c.cluster_name ?? "",
    state: c.state ?? "UNKNOWN",
    state_message: c.state_message ?? "",
    start_requested: requested,
    waited_seconds: Math.round((ctx.now() - started) / 100) / 10,
  });

  const requestStart = async () => {
    try {
      await clusters.start(client, id);
    } catch (e) {
      // Someone else started it between our read and our request: that is what we wanted.
      if (!(isDbxrError(e) && e.details.error_code === "INVALID_STATE")) throw e;
    }
    requested = true;
  };

  const failure = (c: ClusterDetails) =>
    new DbxrError(
      "ClusterNotRunning",
      `Cluster ${id} is ${c.state}${c.state_message ? `: ${c.state_message}` : ""}`,
      {
        hint: c.state === "ERROR" ? `dbxr cluster get ${id}` : `dbxr cluster start ${id} --wait`,
        details: { cluster_id: id, state: c.state, state_message: c.state_message ?? "" },
      },
    );

  const first = nextStartAction(cluster.state, false);
  if (first === "done") return result(cluster);
  if (first === "fail") throw failure(cluster);
  if (first === "start") await requestStart();
  if (!opts.wait) {
    if (requested) cluster = await getClusterOrThrow(client, id);
    return result(cluster);
  }

  const progress = ctx.out.wait(`cluster ${id}`);
  const outcome = await poll<ClusterDetails>(ctx, async () => {
    const c = await getClusterOrThrow(client, id);
    cluster = c;
    if (c.state === "PENDING" || c.state === "RESTARTING") startSeen = true;
    const action = nextStartAction(c.state, requested || startSeen);
    if (action === "done") return { done: true, value: c };
    if (action === "fail") throw failure(c);
    if (action === "start") await requestStart();
    return { done: false, progress: `${c.state}${c.state_message ? `: ${c.state_message}` : ""}` };
  }, {
    timeoutMs: opts.timeoutSeconds * 1000,
    schedule: slowSchedule,
    signal: ctx.signal,
    onPoll: progress.step,
  });
  progress.end(outcome.done ? outcome.value.state : `still ${cluster.state}`, outcome.elapsedMs);
  if (!outcome.done) {
    throw new DbxrError(
      "Timeout",
      `Cluster ${id} is still ${cluster.state} after ${opts.timeoutSeconds}s; it keeps starting on Databricks.`,
      {
        hint: `dbxr cluster start ${id} --wait --timeout ${Math.max(600, opts.timeoutSeconds * 2)}`,
        details: { cluster_id: id, state: cluster.state, state_message: cluster.state_message ?? "" },
      },
    );
  }
  return result(outcome.value);
}
