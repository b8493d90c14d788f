// find-cluster and the `cluster` group: thin commands over src/clusters and src/api/clusters. find-cluster and
// `cluster list` are declared in cluster_commands.ts (the start path reads them without commander).

import { Command } from "@commander-js/extra-typings";
import * as clusters from "../api/clusters.ts";
import { connect } from "../api/connect.ts";
import { findClusters } from "../clusters/list.ts";
import {
  clusterDetailJson,
  clusterDetailText,
  foundClustersText,
  nodeTypeJson,
  sparkVersionJson,
} from "../clusters/render.ts";
import { table } from "../table.ts";
import { getClusterOrThrow, startCluster, type StartResult } from "../clusters/start.ts";
import type { Ctx } from "../ctx.ts";
import { examples, globals } from "./root.ts";
import {
  CLUSTER_COMMANDS,
  type ClusterCommandSpec,
  type ClusterInvocation,
  clusterInvocationFrom,
  runCluster,
} from "./cluster_commands.ts";
import type { GlobalFlags } from "./options.ts";
import { positiveNumber, toOption } from "./parse.ts";

/** What a parsed find-cluster or cluster list goes to: runCluster, or a test's recorder. */
export type ClusterDispatch = (inv: ClusterInvocation, g: GlobalFlags) => Promise<void>;

/** Commander's command for a declaration of cluster_commands.ts. */
function fromSpec(spec: ClusterCommandSpec, dispatch: ClusterDispatch): Command {
  const cmd = new Command(spec.path[spec.path.length - 1]).description(spec.description);
  for (const o of spec.options) cmd.addOption(toOption(o));
  cmd.action(async (_o, c) => {
    await dispatch(clusterInvocationFrom(spec.path, c.opts() as Record<string, unknown>), globals(c));
  });
  return examples(cmd as unknown as Command, [...spec.examples]);
}

const specOf = (first: string) => CLUSTER_COMMANDS.find((c) => c.path[c.path.length - 1] === first)!;

export function findClusterCommand(
  ctx: Ctx,
  dispatch: ClusterDispatch = (inv, g) => runCluster(ctx, inv, g),
) {
  return fromSpec(specOf("find-cluster"), dispatch);
}

export function clusterCommands(ctx: Ctx, dispatch: ClusterDispatch = (inv, g) => runCluster(ctx, inv, g)) {
  const group = new Command("cluster").description("List, inspect, find and start clusters");
  examples(group, ["dbxr cluster list", "dbxr cluster start 0123-456789-abcdefgh --wait"]);

  group.addCommand(fromSpec(specOf("list"), dispatch));

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
