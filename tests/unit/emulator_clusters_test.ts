import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  notStrictEqual as notEqual,
  ok as assert,
} from "node:assert/strict";
import { testEmulator } from "../helpers/emulator.ts";

const CM_DETAILS = [
  {
    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
    reason: "CM_API_ERROR_SOURCE_CALLER_ERROR",
    domain: "",
  },
];
const CLUSTER_ID = /^\d{4}-\d{6}-[a-z0-9]{8}$/;

const names = (body: { clusters?: { cluster_name: string }[] }) =>
  (body.clusters ?? []).map((c) => c.cluster_name);

Deno.test("the seed workspace has four clusters with stable, Databricks-shaped ids", async () => {
  await using a = testEmulator();
  await using b = testEmulator();
  const list = (await a.get("/api/2.1/clusters/list")).body;
  assertEquals(names(list).sort(), [
    "analytics-shared-ml",
    "dbxr-dev-terminated",
    "job-123-run-456",
    "team-shared",
  ]);
  for (const c of list.clusters) assertMatch(c.cluster_id, CLUSTER_ID);
  assertEquals(
    list.clusters.map((c: { cluster_id: string }) => c.cluster_id),
    (await b.get("/api/2.1/clusters/list")).body.clusters.map((c: { cluster_id: string }) => c.cluster_id),
  );
  await using other = testEmulator({ seed: 8 });
  notEqual(await other.clusterId("team-shared"), await a.clusterId("team-shared"));
});

Deno.test("seed clusters: states, sources and access modes for the CLI's search tests", async () => {
  await using te = testEmulator();
  const byName = Object.fromEntries(
    (await te.get("/api/2.1/clusters/list")).body.clusters.map((
      c: { cluster_name: string },
    ) => [c.cluster_name, c]),
  );
  const pick = (n: string) => {
    const c = byName[n];
    return [c.state, c.cluster_source, c.data_security_mode];
  };
  assertEquals(pick("analytics-shared-ml"), ["RUNNING", "UI", "SINGLE_USER"]);
  assertEquals(pick("team-shared"), ["RUNNING", "UI", "USER_ISOLATION"]);
  assertEquals(pick("dbxr-dev-terminated"), ["TERMINATED", "UI", "SINGLE_USER"]);
  assertEquals(pick("job-123-run-456"), ["TERMINATED", "JOB", "SINGLE_USER"]);
  const allPurpose = Object.keys(byName).filter((n) => byName[n].cluster_source !== "JOB");
  assertEquals(allPurpose.filter((n) => n.includes("analytics")).length, 1);
  assertEquals(allPurpose.filter((n) => n.includes("shared")).length, 2);
  assertEquals(byName["analytics-shared-ml"].single_user_name, "dbxr-dev@example.com");
  assertEquals(byName["dbxr-dev-terminated"].termination_reason, {
    code: "INACTIVITY",
    type: "SUCCESS",
    parameters: { inactivity_duration_min: "30" },
  });
  assertEquals(
    byName["dbxr-dev-terminated"].state_message,
    "Inactive cluster terminated (inactive for 30 minutes).",
  );
  assertEquals(byName["job-123-run-456"].default_tags.JobId, "123");
  assert(byName["dbxr-dev-terminated"].terminated_time < te.now());
});

Deno.test("clusters/get returns the ClusterDetails fields, on 2.1 and 2.0 alike", async () => {
  await using te = testEmulator();
  const id = await te.clusterId("analytics-shared-ml");
  const r = await te.get(`/api/2.1/clusters/get?cluster_id=${id}`);
  assertEquals(r.status, 200);
  const c = r.body;
  for (
    const field of [
      "cluster_id",
      "cluster_name",
      "state",
      "state_message",
      "spark_version",
      "node_type_id",
      "driver_node_type_id",
      "num_workers",
      "data_security_mode",
      "single_user_name",
      "cluster_source",
      "creator_user_name",
      "autotermination_minutes",
      "start_time",
      "spark_context_id",
      "default_tags",
      "spark_conf",
      "aws_attributes",
      "runtime_engine",
    ]
  ) assert(field in c, `missing ${field}`);
  assertEquals(c.default_tags, {
    Vendor: "Databricks",
    Creator: "dbxr-dev@example.com",
    ClusterName: "analytics-shared-ml",
    ClusterId: id,
  });
  assertEquals((await te.get(`/api/2.0/clusters/get?cluster_id=${id}`)).body, c);
});

Deno.test("spark_context_id is an int64 written as a JSON integer past 2^53", async () => {
  await using te = testEmulator();
  const id = await te.clusterId("team-shared");
  const r = await te.get(`/api/2.1/clusters/get?cluster_id=${id}`);
  assertMatch(r.text, /"spark_context_id":\d{19},/);
});

Deno.test("clusters/get of an unknown id is 400 INVALID_PARAMETER_VALUE 'Cluster <id> does not exist'", async () => {
  await using te = testEmulator();
  const r = await te.get("/api/2.1/clusters/get?cluster_id=0101-010101-nothere1");
  assertEquals(r.status, 400);
  assertEquals(r.body, {
    error_code: "INVALID_PARAMETER_VALUE",
    message: "Cluster 0101-010101-nothere1 does not exist",
  });
  const missing = await te.get("/api/2.1/clusters/get");
  assertEquals(missing.status, 400);
  assertEquals(missing.body.message, "Missing required field 'cluster_id'");
});

Deno.test("list filters by cluster_states and cluster_sources (repeated keys)", async () => {
  await using te = testEmulator();
  const running = await te.get(
    "/api/2.1/clusters/list?filter_by.cluster_states=RUNNING&filter_by.cluster_states=PENDING",
  );
  assertEquals(names(running.body).sort(), ["analytics-shared-ml", "team-shared"]);
  const jobs = await te.get("/api/2.1/clusters/list?filter_by.cluster_sources=JOB");
  assertEquals(names(jobs.body), ["job-123-run-456"]);
  const apiAndUi = await te.get(
    "/api/2.1/clusters/list?filter_by.cluster_sources=UI&filter_by.cluster_sources=API&filter_by.cluster_states=TERMINATED",
  );
  assertEquals(names(apiAndUi.body), ["dbxr-dev-terminated"]);
});

Deno.test("an empty list leaves out `clusters`, as protobuf JSON does", async () => {
  await using te = testEmulator();
  const r = await te.get("/api/2.1/clusters/list?filter_by.cluster_states=RESIZING");
  assertEquals(r.body, { next_page_token: "", prev_page_token: "" });
  assertEquals((await te.get("/api/2.0/clusters/list?filter_by.cluster_states=ERROR")).body, {});
});

Deno.test("list refuses an unknown filter value", async () => {
  await using te = testEmulator();
  const r = await te.get("/api/2.1/clusters/list?filter_by.cluster_states=RUNNIN");
  assertEquals(r.status, 400);
  assertEquals(r.body.error_code, "INVALID_PARAMETER_VALUE");
});

Deno.test("list pages with page_size/page_token; the last page has an empty next_page_token", async () => {
  await using te = testEmulator();
  const seen: string[] = [];
  let token = "";
  let pages = 0;
  do {
    const r = await te.get(`/api/2.1/clusters/list?page_size=1${token ? `&page_token=${token}` : ""}`);
    assertEquals(r.status, 200);
    assertEquals(r.body.clusters.length, 1);
    if (pages === 0) assertEquals(r.body.prev_page_token, "");
    else assert(r.body.prev_page_token !== "");
    seen.push(r.body.clusters[0].cluster_id);
    token = r.body.next_page_token;
    pages++;
  } while (token && pages < 10);
  assertEquals(pages, 4);
  assertEquals(new Set(seen).size, 4);
  const all = (await te.get("/api/2.1/clusters/list")).body;
  assertEquals(all.clusters.map((c: { cluster_id: string }) => c.cluster_id), seen);
  assertEquals(all.next_page_token, "");
  assertEquals((await te.get("/api/2.1/clusters/list?page_token=garbage!")).status, 400);
});

Deno.test("the default order puts running clusters first; sort_by.field=CLUSTER_NAME sorts by name", async () => {
  await using te = testEmulator();
  const def = names((await te.get("/api/2.1/clusters/list")).body);
  assertEquals(def, ["analytics-shared-ml", "team-shared", "dbxr-dev-terminated", "job-123-run-456"]);
  const desc = names(
    (await te.get("/api/2.1/clusters/list?sort_by.field=CLUSTER_NAME&sort_by.direction=DESC")).body,
  );
  assertEquals(desc, ["team-shared", "job-123-run-456", "dbxr-dev-terminated", "analytics-shared-ml"]);
});

Deno.test("2.0 list has no paging tokens and ignores page_size", async () => {
  await using te = testEmulator();
  const r = await te.get("/api/2.0/clusters/list?page_size=1");
  assertEquals(r.body.clusters.length, 4);
  assertEquals("next_page_token" in r.body, false);
});

Deno.test("spark-versions lists real keys and names, LTS and ML/GPU variants", async () => {
  await using te = testEmulator();
  const versions = (await te.get("/api/2.1/clusters/spark-versions")).body.versions as {
    key: string;
    name: string;
  }[];
  const byKey = Object.fromEntries(versions.map((v) => [v.key, v.name]));
  assertEquals(byKey["16.4.x-scala2.12"], "16.4 LTS (includes Apache Spark 3.5.2, Scala 2.12)");
  assertEquals(byKey["16.4.x-cpu-ml-scala2.12"], "16.4 LTS ML (includes Apache Spark 3.5.2, Scala 2.12)");
  assertEquals(
    byKey["16.4.x-gpu-ml-scala2.12"],
    "16.4 LTS ML (includes Apache Spark 3.5.2, GPU, Scala 2.12)",
  );
  assertEquals(byKey["15.4.x-scala2.12"], "15.4 LTS (includes Apache Spark 3.5.0, Scala 2.12)");
  assertEquals(byKey["15.4.x-cpu-ml-scala2.12"], "15.4 LTS ML (includes Apache Spark 3.5.0, Scala 2.12)");
  assertEquals(byKey["17.3.x-scala2.13"], "17.3 LTS (includes Apache Spark 4.0.0, Scala 2.13)");
  assert(versions.some((v) => !v.name.includes("LTS")), "a non-LTS runtime too, for selectors");
});

Deno.test("list-node-types returns AWS node types with the API's fields", async () => {
  await using te = testEmulator();
  const types = (await te.get("/api/2.1/clusters/list-node-types")).body.node_types;
  const i3 = types.find((t: { node_type_id: string }) => t.node_type_id === "i3.xlarge");
  assertEquals([i3.memory_mb, i3.num_cores, i3.num_gpus, i3.category], [31232, 4, 0, "Storage Optimized"]);
  assertEquals(i3.node_instance_type.instance_type_id, "i3.xlarge");
  assertEquals(typeof i3.is_deprecated, "boolean");
  for (const id of ["m5d.large", "r5d.xlarge"]) {
    assert(types.some((t: { node_type_id: string }) => t.node_type_id === id));
  }
});

Deno.test("create: a new API cluster starts PENDING, owned by the caller", async () => {
  await using te = testEmulator();
  const r = await te.post("/api/2.1/clusters/create", {
    cluster_name: "scratch",
    spark_version: "16.4.x-scala2.12",
    node_type_id: "m5d.large",
    num_workers: 1,
    data_security_mode: "SINGLE_USER",
    custom_tags: { team: "dbxr" },
  });
  assertEquals(r.status, 200);
  assertEquals(Object.keys(r.body), ["cluster_id"]);
  assertMatch(r.body.cluster_id, /^0115-120000-[a-z0-9]{8}$/, "the id starts with the creation time");
  const c = (await te.get(`/api/2.1/clusters/get?cluster_id=${r.body.cluster_id}`)).body;
  assertEquals([c.state, c.cluster_source, c.creator_user_name], ["PENDING", "API", "dbxr-dev@example.com"]);
  assertEquals(c.single_user_name, "dbxr-dev@example.com", "SINGLE_USER without a user gets the creator");
  assertEquals(c.custom_tags, { team: "dbxr" });
  assertEquals(c.start_time, te.now());
  assertEquals(c.state_message, "Finding instances for new nodes, acquiring more instances if necessary");
});

Deno.test("create validates spark_version, node_type_id and the body", async () => {
  await using te = testEmulator();
  const cases: [unknown, string, string][] = [
    [{ node_type_id: "m5d.large" }, "INVALID_PARAMETER_VALUE", "Missing required field 'spark_version'"],
    [
      { spark_version: "13.0.x-scala2.11", node_type_id: "m5d.large" },
      "INVALID_PARAMETER_VALUE",
      "Invalid spark version 13.0.x-scala2.11.",
    ],
    [
      { spark_version: "16.4.x-scala2.12" },
      "INVALID_PARAMETER_VALUE",
      "Missing required field 'node_type_id'",
    ],
  ];
  for (const [body, code, message] of cases) {
    const r = await te.post("/api/2.1/clusters/create", body);
    assertEquals(r.status, 400);
    assertEquals(r.body, { error_code: code, message, details: CM_DETAILS });
  }
  const node = await te.post("/api/2.1/clusters/create", {
    spark_version: "16.4.x-scala2.12",
    node_type_id: "m4.large",
  });
  assertEquals(node.status, 400);
  assertMatch(
    node.body.message,
    /^Node type m4\.large is not supported\. Supported node types: m5d\.large, /,
  );
  const bad = await te.post("/api/2.1/clusters/create", "{not json");
  assertEquals(bad.status, 400);
  assertEquals(bad.body.error_code, "MALFORMED_REQUEST");
  const auto = await te.post("/api/2.1/clusters/create", {
    spark_version: "16.4.x-scala2.12",
    node_type_id: "m5d.large",
    autoscale: { min_workers: 4, max_workers: 2 },
  });
  assertEquals(auto.status, 400);
});

Deno.test("start: only TERMINATED clusters; others are INVALID_STATE with the title-cased state", async () => {
  await using te = testEmulator();
  const running = await te.clusterId("analytics-shared-ml");
  const r = await te.post("/api/2.1/clusters/start", { cluster_id: running });
  assertEquals(r.status, 400);
  assertEquals(r.body, {
    error_code: "INVALID_STATE",
    message: `Cluster ${running} is in unexpected state Running.`,
    details: CM_DETAILS,
  });
  const stopped = await te.clusterId("dbxr-dev-terminated");
  assertEquals((await te.post("/api/2.1/clusters/start", { cluster_id: stopped })).body, {});
  const pending = await te.post("/api/2.1/clusters/start", { cluster_id: stopped });
  assertEquals(pending.body.message, `Cluster ${stopped} is in unexpected state Pending.`);
  const c = (await te.get(`/api/2.1/clusters/get?cluster_id=${stopped}`)).body;
  assertEquals(c.state, "PENDING");
  assertEquals("termination_reason" in c || "terminated_time" in c, false);
});

Deno.test("start: a job cluster cannot be started", async () => {
  await using te = testEmulator();
  const job = await te.clusterId("job-123-run-456");
  const r = await te.post("/api/2.1/clusters/start", { cluster_id: job });
  assertEquals(r.status, 400);
  assertEquals(r.body.error_code, "INVALID_PARAMETER_VALUE");
  assert(r.body.message.includes(job));
  assertEquals(
    (await te.post("/api/2.1/clusters/start", { cluster_id: "0101-010101-nothere1" })).body.message,
    "Cluster 0101-010101-nothere1 does not exist",
  );
});

Deno.test("restart: a running cluster restarts with a new driver; a terminated one is INVALID_STATE", async () => {
  await using te = testEmulator();
  const id = await te.clusterId("team-shared");
  const before =
    (await te.get(`/api/2.1/clusters/get?cluster_id=${id}`)).text.match(/"spark_context_id":(\d+)/)![1];
  assertEquals((await te.post("/api/2.1/clusters/restart", { cluster_id: id })).status, 200);
  assertEquals((await te.get(`/api/2.1/clusters/get?cluster_id=${id}`)).body.state, "RESTARTING");
  te.advance(15_000);
  const after = await te.get(`/api/2.1/clusters/get?cluster_id=${id}`);
  assertEquals(after.body.state, "RUNNING");
  assertEquals(after.body.last_restarted_time, te.now());
  notEqual(after.text.match(/"spark_context_id":(\d+)/)![1], before);
  const stopped = await te.clusterId("dbxr-dev-terminated");
  const r = await te.post("/api/2.1/clusters/restart", { cluster_id: stopped });
  assertEquals(r.body.message, `Cluster ${stopped} is in unexpected state Terminated.`);
});

Deno.test("delete terminates (TERMINATING, then TERMINATED by USER_REQUEST) and is idempotent", async () => {
  await using te = testEmulator();
  const id = await te.clusterId("analytics-shared-ml");
  assertEquals((await te.post("/api/2.1/clusters/delete", { cluster_id: id })).body, {});
  const going = (await te.get(`/api/2.1/clusters/get?cluster_id=${id}`)).body;
  assertEquals([going.state, going.state_message], ["TERMINATING", "Terminating"]);
  te.advance(5_000);
  const gone = (await te.get(`/api/2.1/clusters/get?cluster_id=${id}`)).body;
  assertEquals(gone.state, "TERMINATED");
  assertEquals(gone.terminated_time, te.now());
  assertEquals(gone.termination_reason, {
    code: "USER_REQUEST",
    type: "SUCCESS",
    parameters: { username: "dbxr-dev@example.com" },
  });
  assertEquals((await te.post("/api/2.1/clusters/delete", { cluster_id: id })).status, 200);
  assertEquals((await te.get(`/api/2.1/clusters/get?cluster_id=${id}`)).body.state, "TERMINATED");
});

Deno.test("permanent-delete removes the cluster", async () => {
  await using te = testEmulator();
  const id = await te.clusterId("team-shared");
  assertEquals((await te.post("/api/2.0/clusters/permanent-delete", { cluster_id: id })).body, {});
  assertEquals(
    (await te.get(`/api/2.1/clusters/get?cluster_id=${id}`)).body.message,
    `Cluster ${id} does not exist`,
  );
  assertEquals(names((await te.get("/api/2.1/clusters/list")).body).includes("team-shared"), false);
});

Deno.test("resize: RUNNING -> RESIZING with the new size -> RUNNING; not from TERMINATED", async () => {
  await using te = testEmulator();
  const id = await te.clusterId("analytics-shared-ml");
  assertEquals((await te.post("/api/2.1/clusters/resize", { cluster_id: id, num_workers: 5 })).status, 200);
  const c = (await te.get(`/api/2.1/clusters/get?cluster_id=${id}`)).body;
  assertEquals([c.state, c.num_workers], ["RESIZING", 5]);
  te.advance(10_000);
  assertEquals((await te.get(`/api/2.1/clusters/get?cluster_id=${id}`)).body.state, "RUNNING");
  const auto = await te.post("/api/2.1/clusters/resize", {
    cluster_id: id,
    autoscale: { min_workers: 1, max_workers: 3 },
  });
  assertEquals(auto.status, 200);
  const scaled = (await te.get(`/api/2.1/clusters/get?cluster_id=${id}`)).body;
  assertEquals([scaled.autoscale, "num_workers" in scaled], [{ min_workers: 1, max_workers: 3 }, false]);
  const stopped = await te.clusterId("dbxr-dev-terminated");
  const r = await te.post("/api/2.1/clusters/resize", { cluster_id: stopped, num_workers: 2 });
  assertEquals([r.status, r.body.error_code], [400, "INVALID_STATE"]);
  assertEquals((await te.post("/api/2.1/clusters/resize", { cluster_id: id })).status, 400);
});

Deno.test("edit replaces the spec; a running cluster restarts to apply it, a pending one refuses", async () => {
  await using te = testEmulator();
  const id = await te.clusterId("team-shared");
  const spec = {
    cluster_id: id,
    cluster_name: "team-shared",
    spark_version: "15.4.x-scala2.12",
    node_type_id: "r5d.xlarge",
    num_workers: 3,
  };
  assertEquals((await te.post("/api/2.1/clusters/edit", spec)).status, 200);
  const c = (await te.get(`/api/2.1/clusters/get?cluster_id=${id}`)).body;
  assertEquals([c.state, c.spark_version, c.node_type_id, c.num_workers], [
    "RESTARTING",
    "15.4.x-scala2.12",
    "r5d.xlarge",
    3,
  ]);
  assertEquals(c.creator_user_name, "data-platform@example.com");
  const r = await te.post("/api/2.1/clusters/edit", spec);
  assertEquals(r.body.message, `Cluster ${id} is in unexpected state Restarting.`);
  const bad = await te.post("/api/2.1/clusters/edit", { ...spec, spark_version: "nope" });
  assertEquals(bad.body.message, "Invalid spark version nope.");
});

Deno.test("a wrong method on a cluster endpoint is ENDPOINT_NOT_FOUND", async () => {
  await using te = testEmulator();
  const r = await te.get("/api/2.1/clusters/start");
  assertEquals(r.status, 404);
  assertEquals(r.body, {
    error_code: "ENDPOINT_NOT_FOUND",
    message: "No API found for 'GET /clusters/start'",
  });
});
