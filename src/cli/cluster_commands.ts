// `find-cluster` (a seed command) and `cluster list` as data and one dispatcher, without commander, like the
// REPL commands in repl_commands.ts: cluster.ts builds their commander commands from CLUSTER_COMMANDS,
// src/cli/fast.ts reads their usual command lines directly (the first thing an agent runs, and a start-up
// target of its own in BENCHMARKS.md), and both hand the same ClusterInvocation to runCluster.

import type { Ctx } from "../ctx.ts";
import { DbxrError } from "../errors.ts";
import type { GlobalFlags, OptionSpec } from "./options.ts";

export interface ClusterCommandSpec {
  /** The command's words: ["find-cluster"], ["cluster", "list"]. */
  path: readonly ["find-cluster"] | readonly ["cluster", "list"];
  description: string;
  options: readonly OptionSpec[];
  examples: readonly string[];
}

export const CLUSTER_COMMANDS: readonly ClusterCommandSpec[] = [
  {
    path: ["find-cluster"],
    description:
      "Find classic all-purpose clusters by name (case-insensitive substring), running ones first. " +
      "One match prints one object {cluster_id, cluster_name, state}; several print an array; " +
      "none is the error ClusterNotFound. Stopped clusters carry a `hint` that starts them.",
    options: [{ flags: "--name <substr>", description: "part of the cluster name", required: true }],
    examples: ["dbxr find-cluster --name analytics", "dbxr find-cluster --name ml --profile prod"],
  },
  {
    path: ["cluster", "list"],
    description: "List the workspace's clusters (all kinds), running first",
    options: [{
      flags: "--state <state>",
      description: "only clusters in this state (e.g. RUNNING, TERMINATED)",
    }],
    examples: ["dbxr cluster list", "dbxr cluster list --state RUNNING --json"],
  },
];

export type ClusterInvocation =
  | { command: "find-cluster"; name: string }
  | { command: "cluster list"; state?: string };

export function clusterInvocationFrom(
  path: ClusterCommandSpec["path"],
  v: Record<string, unknown>,
): ClusterInvocation {
  return path[0] === "find-cluster"
    ? { command: "find-cluster", name: v.name as string }
    : { command: "cluster list", ...(v.state !== undefined ? { state: v.state as string } : {}) };
}

/** Runs one of them and prints its answer through ctx.out. */
export async function runCluster(ctx: Ctx, inv: ClusterInvocation, g: GlobalFlags): Promise<void> {
  const [{ connect }, { findClusters, listClusters }, render] = await Promise.all([
    import("../api/connect.ts"),
    import("../clusters/list.ts"),
    import("../clusters/render.ts"),
  ]);
  if (inv.command === "cluster list") {
    const { client } = await connect(ctx, g, "cluster_list");
    return ctx.out.result(await listClusters(client, inv.state), { text: render.clusterListText });
  }
  const { client } = await connect(ctx, g, "find-cluster");
  const found = await findClusters(client, inv.name);
  if (found.length === 0) {
    throw new DbxrError("ClusterNotFound", `No all-purpose cluster name contains "${inv.name}".`, {
      hint: "dbxr cluster find",
      details: { name: inv.name },
    });
  }
  ctx.out.result(found.length === 1 ? found[0] : found, {
    alwaysJson: true,
    text: (f, style) => render.foundClustersText(Array.isArray(f) ? f : [f], style),
  });
}
