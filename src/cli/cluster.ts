// find-cluster and the `cluster` group: thin commands over src/clusters and src/api/clusters.

import { Command, Option } from "@commander-js/extra-typings";
import * as clusters from "../api/clusters.ts";
import { connect } from "../api/connect.ts";
import { findClusters, listClusters } from "../clusters/list.ts";
import {
  clusterDetailJson,
  clusterDetailText,
  clusterListText,
  foundClustersText,
  nodeTypeJson,
  sparkVersionJson,
} from "../clusters/render.ts";
import { table } from "../table.ts";
import { getClusterOrThrow, startCluster, type StartResult } from "../clusters/start.ts";
import type { Ctx } from "../ctx.ts";
import { DbxrError } from "../errors.ts";
import { examples, globals } from "./root.ts";
import { positiveNumber } from "./parse.ts";

export function findClusterCommand(ctx: Ctx) {
  const cmd = new Command("find-cluster")
    .description(
      "Find classic all-purpose clusters by name (case-insensitive substring), running ones first. " +
        "One match prints one object {cluster_id, cluster_name, state}; several print an array; " +
        "none is the error ClusterNotFound. Stopped clusters carry a `hint` that starts them.",
    )
    .requiredOption("--name <substr>", "part of the cluster name")
    .action(async (o, c) => {
      const { client } = await connect(ctx, globals(c), "find-cluster");
      const found = await findClusters(client, o.name);
      if (found.length === 0) {
        throw new DbxrError("ClusterNotFound", `No all-purpose cluster name contains "${o.name}".`, {
          hint: "dbxr cluster find",
          details: { name: o.name },
        });
      }
      ctx.out.result(found.length === 1 ? found[0] : found, {
        alwaysJson: true,
        text: (f, style) => foundClustersText(Array.isArray(f) ? f : [f], style),
      });
    });
  return examples(cmd, ["dbxr find-cluster --name analytics", "dbxr find-cluster --name ml --profile prod"]);
}

export function clusterCommands(ctx: Ctx) {
  const group = new Command("cluster").description("List, inspect, find and start clusters");
  examples(group, ["dbxr cluster list", "dbxr cluster start 0123-456789-abcdefgh --wait"]);

  group.addCommand(examples(
    new Command("list")
      .description("List the workspace's clusters (all kinds), running first")
      .addOption(new Option("--state <state>", "only clusters in this state (e.g. RUNNING, TERMINATED)"))
      .action(async (o, c) => {
        const { client } = await connect(ctx, globals(c), "cluster_list");
        ctx.out.result(await listClusters(client, o.state), { text: clusterListText });
      }),
    ["dbxr cluster list", "dbxr cluster list --state RUNNING --json"],
  ));

  group.addCommand(examples(
    new Command("get")
      .description("Show one cluster")
      .argument("<cluster-id>")
      .action(async (id, _o, c) => {
        const { client } = await connect(ctx, globals(c), "cluster_get");
        ctx.out.result(clusterDetailJson(await getClusterOrThrow(client, id)), { text: clusterDetailText });
      }),
    ["dbxr cluster get 0123-456789-abcdefgh"],
  ));

  group.addCommand(examples(
    new Command("find")
      .description("Find all-purpose clusters by name; always an array ([] when none)")
      .option("--name <substr>", "part of the cluster name (default: all)")
      .action(async (o, c) => {
        const { client } = await connect(ctx, globals(c), "cluster_find");
        ctx.out.result(await findClusters(client, o.name), { text: foundClustersText });
      }),
    ["dbxr cluster find --name shared", "dbxr cluster find"],
  ));

  group.addCommand(examples(
    new Command("start")
      .description(
        "Start a terminated all-purpose cluster (or wait out TERMINATING first). With --wait, return when it " +
          "is RUNNING (RESIZING counts); fail with the cluster's state message on ERROR/TERMINATED.",
      )
      .argument("<cluster-id>")
      .option("--wait", "wait until the cluster is running")
      .option("--timeout <seconds>", "give up waiting after this many seconds", positiveNumber, 1200)
      .action(async (id, o, c) => {
        const { client } = await connect(ctx, globals(c), "cluster_start");
        const r = await startCluster(ctx, client, id, { wait: Boolean(o.wait), timeoutSeconds: o.timeout });
        ctx.out.result(r, { text: startText });
      }),
    [
      "dbxr cluster start 0123-456789-abcdefgh --wait",
      "dbxr cluster start 0123-456789-abcdefgh --wait --timeout 900",
    ],
  ));

  group.addCommand(examples(
    new Command("spark-versions")
      .description("List the runtime versions the workspace offers (the `key` goes into spark_version)")
      .option("--filter <substr>", "only keys containing this text, e.g. cpu-ml")
      .action(async (o, c) => {
        const { client } = await connect(ctx, globals(c), "cluster_spark-versions");
        const versions = (await clusters.sparkVersions(client))
          .filter((v) => !o.filter || v.key.includes(o.filter))
          .map(sparkVersionJson)
          .sort((a, b) => b.key.localeCompare(a.key, undefined, { numeric: true }));
        ctx.out.result(versions, { text: (vs) => table(["KEY", "NAME"], vs.map((v) => [v.key, v.name])) });
      }),
    ["dbxr cluster spark-versions --filter cpu-ml"],
  ));

  group.addCommand(examples(
    new Command("node-types")
      .description("List the node types of the workspace's cloud")
      .action(async (_o, c) => {
        const { client } = await connect(ctx, globals(c), "cluster_node-types");
        const types = (await clusters.listNodeTypes(client)).map(nodeTypeJson);
        ctx.out.result(types, {
          text: (ts) =>
            table(
              ["NODE TYPE", "CORES", "MEMORY MB", "GPUS", "CATEGORY"],
              ts.map((t) => [t.node_type_id, t.num_cores, t.memory_mb, t.num_gpus, t.category]),
            ),
        });
      }),
    ["dbxr cluster node-types --json"],
  ));

  return group;
}

function startText(r: StartResult): string {
  const what = r.start_requested ? "started" : "found";
  return `cluster ${r.cluster_id} (${r.cluster_name}) ${what}: ${r.state}` +
    (r.waited_seconds >= 1 ? ` after ${r.waited_seconds}s` : "");
}
