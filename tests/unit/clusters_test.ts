import { assertEquals } from "../helpers/assert.ts";
import type { ClusterDetails } from "../../src/api/clusters.ts";
import { foundClusterJson, matchClusters } from "../../src/clusters/find.ts";
import { nextStartAction } from "../../src/clusters/start.ts";

const c = (id: string, name: string, state: string, source = "UI"): ClusterDetails =>
  ({ cluster_id: id, cluster_name: name, state, cluster_source: source }) as ClusterDetails;

const all = [
  c("1", "Analytics Shared", "TERMINATED"),
  c("2", "ml-analytics", "RUNNING", "API"),
  c("3", "job-99-run-1 analytics", "RUNNING", "JOB"),
  c("4", "etl", "PENDING"),
];

Deno.test("matchClusters: case-insensitive substring, all-purpose only, running first", () => {
  assertEquals(matchClusters(all, "ANALYTICS").map((x) => x.cluster_id), ["2", "1"]);
  assertEquals(matchClusters(all, "nothing"), []);
  assertEquals(matchClusters(all).map((x) => x.cluster_id), ["2", "4", "1"]);
});

Deno.test("foundClusterJson: the seed's three fields, plus a start hint only when not running", () => {
  assertEquals(foundClusterJson(all[1]), { cluster_id: "2", cluster_name: "ml-analytics", state: "RUNNING" });
  assertEquals(foundClusterJson(all[0]).hint, "dbxr cluster start 1 --wait");
});

Deno.test("nextStartAction: every state, before and after a start was requested", () => {
  const table: Array<[string, boolean, string]> = [
    ["RUNNING", false, "done"],
    ["RESIZING", false, "done"],
    ["TERMINATED", false, "start"],
    ["TERMINATED", true, "fail"],
    ["TERMINATING", false, "wait"],
    ["PENDING", false, "wait"],
    ["RESTARTING", true, "wait"],
    ["ERROR", false, "fail"],
    ["UNKNOWN", false, "fail"],
  ];
  for (const [state, requested, want] of table) assertEquals(nextStartAction(state, requested), want, state);
});
