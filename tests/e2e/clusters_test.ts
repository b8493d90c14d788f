// The cluster commands end to end: the CLI as a subprocess, under the release permission flags, against
// the emulator over HTTP.

import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { served } from "../helpers/served.ts";

type Found = { cluster_id: string; cluster_name: string; state: string; hint?: string };

Deno.test("find-cluster: one match is one object with the seed's three fields", async () => {
  await using s = await served();
  const r = await s.dbxr(["find-cluster", "--name", "ANALYTICS"]);
  assertEquals(r.code, 0, r.stderr);
  const found = r.json<Found>();
  assertEquals(Object.keys(found).sort(), ["cluster_id", "cluster_name", "state"]);
  assertEquals(found.cluster_name, "analytics-shared-ml");
  assertEquals(found.state, "RUNNING");
});

Deno.test("find-cluster: several matches are an array, running first; job clusters never match", async () => {
  await using s = await served();
  const r = await s.dbxr(["find-cluster", "--name", "shared"]);
  assertEquals(r.code, 0, r.stderr);
  const found = r.json<Found[]>();
  assertEquals(found.map((c) => c.cluster_name).sort(), ["analytics-shared-ml", "team-shared"]);
  const job = await s.dbxr(["find-cluster", "--name", "job-123"]);
  assertEquals(job.code, 4);
  assertEquals(job.json().status, "ClusterNotFound");
});

Deno.test("find-cluster: none is ClusterNotFound (exit 4) with a hint; cluster find prints []", async () => {
  await using s = await served();
  const r = await s.dbxr(["find-cluster", "--name", "no-such"]);
  assertEquals(r.code, 4);
  const e = r.json();
  assertEquals([e.status, e.error], ["ClusterNotFound", "ClusterNotFound"]);
  assertEquals(e.hint, "dbxr cluster find");
  const empty = await s.dbxr(["cluster", "find", "--name", "no-such"]);
  assertEquals([empty.code, empty.json<unknown[]>()], [0, []]);
});

Deno.test("find-cluster: a stopped cluster carries the start hint", async () => {
  await using s = await served();
  const r = await s.dbxr(["find-cluster", "--name", "dbxr-dev"]);
  const c = r.json<Found>();
  assertEquals(c.state, "TERMINATED");
  assertEquals(c.hint, `dbxr cluster start ${c.cluster_id} --wait`);
});

Deno.test("cluster list, get, spark-versions, node-types", async () => {
  await using s = await served();
  const list = await s.dbxr(["cluster", "list"]);
  assertEquals(list.code, 0, list.stderr);
  const rows = list.json<Array<Record<string, unknown>>>();
  assertEquals(rows.length, 4);
  assertEquals(rows[0].state, "RUNNING");
  assert(rows.some((r) => r.cluster_source === "JOB"));
  // --state filters (read by the start path, src/cli/fast.ts, as by commander); a filter before the words too.
  for (
    const argv of [["cluster", "list", "--state", "RUNNING"], [
      "--json",
      "cluster",
      "list",
      "--state=TERMINATED",
    ]]
  ) {
    const filtered = await s.dbxr(argv);
    assertEquals(filtered.code, 0, filtered.stderr);
    const states = filtered.json<Array<{ state: string }>>().map((r) => r.state);
    const wanted = argv.at(-1)!.replace("--state=", "");
    assertEquals(
      states,
      rows.filter((r) => r.state === wanted).map((r) => r.state as string),
      argv.join(" "),
    );
    assert(states.length > 0, `no ${wanted} cluster in the emulator: the filter is not tested`);
  }

  const id = rows[0].cluster_id as string;
  const get = await s.dbxr(["cluster", "get", id]);
  assertEquals(get.json().cluster_id, id);

  const text = await s.dbxr(["cluster", "get", id, "--text"]);
  assertMatch(text.stdout, /^cluster_id\s+\S+/);

  const versions = await s.dbxr(["cluster", "spark-versions", "--filter", "cpu-ml"]);
  const keys = versions.json<Array<{ key: string }>>().map((v) => v.key);
  assert(keys.includes("16.4.x-cpu-ml-scala2.12"), keys.join());
  assert(keys.every((k) => k.includes("cpu-ml")));

  const nodes = await s.dbxr(["cluster", "node-types"]);
  assert(nodes.json<Array<{ node_type_id: string }>>().some((n) => n.node_type_id === "i3.xlarge"));
});

Deno.test("cluster get of an unknown id is ClusterNotFound with the server's status kept", async () => {
  await using s = await served();
  const r = await s.dbxr(["cluster", "get", "0000-000000-nothere0"]);
  assertEquals(r.code, 4);
  const e = r.json();
  assertEquals(e.error, "ClusterNotFound");
  assertEquals((e.details as Record<string, unknown>).http_status, 400);
  assertEquals((e.details as Record<string, unknown>).error_code, "INVALID_PARAMETER_VALUE");
});

Deno.test("cluster start --wait goes through PENDING to RUNNING (time-scaled)", async () => {
  await using s = await served({ timeScale: 100 });
  const id = (await s.dbxr(["find-cluster", "--name", "dbxr-dev"])).json<Found>().cluster_id;
  const r = await s.dbxr(["cluster", "start", id, "--wait", "--timeout", "60"]);
  assertEquals(r.code, 0, r.stdout + r.stderr);
  const out = r.json();
  assertEquals([out.state, out.start_requested], ["RUNNING", true]);
  // Starting a running cluster is not an error: it is already what was asked for.
  const again = await s.dbxr(["cluster", "start", id, "--wait"]);
  assertEquals([again.code, again.json().start_requested], [0, false]);
});

Deno.test("cluster start waits out TERMINATING, then starts", async () => {
  await using s = await served({ timeScale: 100 });
  const id = (await s.dbxr(["find-cluster", "--name", "team-shared"])).json<Found>().cluster_id;
  await s.control("POST", `clusters/${id}/state`, { state: "TERMINATING" });
  const r = await s.dbxr(["cluster", "start", id, "--wait", "--timeout", "60"]);
  assertEquals(r.code, 0, r.stdout + r.stderr);
  assertEquals(r.json().state, "RUNNING");
});

Deno.test("cluster start --wait fails with the cluster's state message when it ends in ERROR", async () => {
  await using s = await served({ timeScale: 100 });
  const id = (await s.dbxr(["find-cluster", "--name", "dbxr-dev"])).json<Found>().cluster_id;
  await s.control("POST", `clusters/${id}/state`, {
    state: "PENDING",
    next_state: "ERROR",
    next_after_ms: 50,
    state_message: "Cloud provider launch failure",
  });
  const r = await s.dbxr(["cluster", "start", id, "--wait", "--timeout", "60"]);
  assertEquals(r.code, 6, r.stdout);
  assertEquals(r.json().error, "ClusterNotRunning");
});

Deno.test("cluster start --wait times out cleanly (exit 8) while the cluster keeps starting", async () => {
  await using s = await served({ timeScale: 1 });
  const id = (await s.dbxr(["find-cluster", "--name", "dbxr-dev"])).json<Found>().cluster_id;
  const r = await s.dbxr(["cluster", "start", id, "--wait", "--timeout", "1"]);
  assertEquals(r.code, 8, r.stdout);
  const e = r.json();
  assertEquals(e.error, "Timeout");
  assertMatch(e.hint as string, /^dbxr cluster start .* --wait --timeout \d+$/);
});

Deno.test("job clusters cannot be started: InvalidArgument before any start request", async () => {
  await using s = await served();
  const list = (await s.dbxr(["cluster", "list"])).json<Array<Record<string, string>>>();
  const job = list.find((c) => c.cluster_source === "JOB")!;
  const r = await s.dbxr(["cluster", "start", job.cluster_id]);
  assertEquals(r.code, 2);
  const counts = await s.counts();
  assertEquals(Object.keys(counts).filter((k) => k.includes("clusters/start")), []);
});
