import { assert, assertEquals, assertMatch, assertThrows } from "../helpers/assert.ts";
import type { NodeType } from "../../src/api/clusters.ts";
import { DbxrError } from "../../src/errors.ts";
import {
  buildClusterSpec,
  chooseNodeType,
  clusterOverride,
  deepMerge,
  DEFAULT_TEMPLATE,
  TEMPLATES,
} from "../../src/jobs/templates.ts";

const node = (id: string, cores: number, gb: number, extra: Partial<NodeType> = {}): NodeType => ({
  node_type_id: id,
  num_cores: cores,
  memory_mb: gb * 1024,
  num_gpus: 0,
  is_deprecated: false,
  ...extra,
});

const AWS = [
  node("m5d.large", 2, 8),
  node("m5d.xlarge", 4, 16),
  node("r5d.xlarge", 4, 32),
  node("i3.xlarge", 4, 30.5),
  node("g4dn.xlarge", 4, 16, { num_gpus: 1 }),
  node("p3.2xlarge", 8, 61, { num_gpus: 1 }),
];
const AZURE = [
  node("Standard_DS4_v2", 8, 28),
  node("Standard_DS3_v2", 4, 14),
  node("Standard_NC6s_v3", 6, 112, { num_gpus: 1 }),
];
const GCP = [node("n2-standard-4", 4, 16), node("n2-highmem-4", 4, 32)];

// The seed's "Standard Job Cluster Configuration", field for field.
const SEED_TEMPLATE = {
  spark_version: "16.4.x-cpu-ml-scala2.12",
  node_type_id: "i3.xlarge",
  num_workers: 0,
  data_security_mode: "SINGLE_USER",
  spark_conf: { "spark.master": "local[*]", "spark.databricks.cluster.profile": "singleNode" },
  custom_tags: { ResourceClass: "SingleNode" },
};

Deno.test("templates: the default is the seed's template, exactly, on AWS", () => {
  assertEquals(DEFAULT_TEMPLATE, "ml-single-node");
  const { spec, warnings } = buildClusterSpec({ nodeTypes: AWS });
  assertEquals(spec, SEED_TEMPLATE);
  assertEquals(Object.keys(spec), Object.keys(SEED_TEMPLATE));
  assertEquals(warnings, []);
});

Deno.test("templates: every template is single node with SINGLE_USER access and a description", () => {
  assertEquals(Object.keys(TEMPLATES), ["ml-single-node", "cpu-single-node", "ml-gpu-single-node"]);
  for (const [name, t] of Object.entries(TEMPLATES)) {
    assert(t.description.length > 20, name);
    assertEquals(t.spec.num_workers, 0, name);
    assertEquals(t.spec.data_security_mode, "SINGLE_USER", name);
    assertEquals(t.spec.spark_conf, SEED_TEMPLATE.spark_conf, name);
    assertEquals(t.spec.custom_tags, SEED_TEMPLATE.custom_tags, name);
    assertEquals(t.spec.node_type_id, undefined, name);
  }
  assertEquals(TEMPLATES["cpu-single-node"].spec.spark_version, "16.4.x-scala2.12");
  assertEquals(TEMPLATES["ml-gpu-single-node"].spec.spark_version, "16.4.x-gpu-ml-scala2.12");
});

Deno.test("templates: building never changes the template itself", () => {
  const { spec } = buildClusterSpec({ nodeTypes: AWS, override: { spark_conf: { "spark.x": "1" } } });
  (spec.spark_conf as Record<string, string>)["spark.y"] = "2";
  assertEquals(TEMPLATES["ml-single-node"].spec.spark_conf, SEED_TEMPLATE.spark_conf);
});

Deno.test("templates: the seed's node type per cloud when the workspace lists it", () => {
  assertEquals(buildClusterSpec({ nodeTypes: AWS }).spec.node_type_id, "i3.xlarge");
  assertEquals(buildClusterSpec({ nodeTypes: AZURE }).spec.node_type_id, "Standard_DS3_v2");
  assertEquals(buildClusterSpec({ nodeTypes: GCP }).spec.node_type_id, "n2-highmem-4");
});

Deno.test("templates: else the smallest usable type with at least 4 cores and 16 GB", () => {
  const list = [
    node("i3.xlarge", 4, 30.5, { is_deprecated: true }),
    node("c5.xlarge", 4, 8),
    node("m5.2xlarge", 8, 32),
    node("r5.xlarge", 4, 32),
    node("m5.xlarge", 4, 16),
    node("x1.hidden", 4, 16, { is_hidden: true }),
    node("m6.unavailable", 4, 16, { node_info: { status: ["NotAvailableInRegion"] } }),
  ];
  assertEquals(chooseNodeType(list, { gpu: false }), { nodeTypeId: "m5.xlarge", warnings: [] });
  // Same memory: fewer cores first.
  assertEquals(
    chooseNodeType([node("b", 8, 32), node("a", 4, 32)], { gpu: false }).nodeTypeId,
    "a",
  );
});

Deno.test("templates: the GPU template takes a type with a GPU, never the seed's CPU type", () => {
  const { spec, warnings } = buildClusterSpec({ template: "ml-gpu-single-node", nodeTypes: AWS });
  assertEquals(spec.node_type_id, "g4dn.xlarge");
  assertEquals(spec.spark_version, "16.4.x-gpu-ml-scala2.12");
  assertEquals(warnings, []);
  assertEquals(
    buildClusterSpec({ template: "ml-gpu-single-node", nodeTypes: AZURE }).spec.node_type_id,
    "Standard_NC6s_v3",
  );
  // A GPU runtime given through --cluster-spec needs a GPU too.
  const viaOverride = buildClusterSpec({
    nodeTypes: AWS,
    override: { spark_version: "15.4.x-gpu-ml-scala2.12" },
  });
  assertEquals(viaOverride.spec.node_type_id, "g4dn.xlarge");
});

Deno.test("templates: no type fits: the biggest usable one, with a warning; none at all: a warning", () => {
  const small = [node("t3.medium", 2, 4), node("t3.large", 2, 8)];
  const r = buildClusterSpec({ nodeTypes: small });
  assertEquals(r.spec.node_type_id, "t3.large");
  assertEquals(r.warnings.length, 1);
  assertMatch(r.warnings[0], /no node type with at least 4 cores and 16 GB.*t3\.large/);

  const none = buildClusterSpec({ template: "ml-gpu-single-node", nodeTypes: small });
  assertEquals(none.spec.node_type_id, undefined);
  assertMatch(none.warnings[0], /no usable node type with a GPU/);
  assertMatch(none.warnings[0], /--instance-pool/);
});

Deno.test("templates: an instance pool replaces the node type", () => {
  const { spec, warnings } = buildClusterSpec({ nodeTypes: AWS, instancePoolId: "0101-120000-pool" });
  assertEquals(spec.instance_pool_id, "0101-120000-pool");
  assert(!("node_type_id" in spec));
  assertEquals(warnings, []);
  // A spec copied from the seed (node_type_id included) plus a pool: the node type goes, with a warning.
  const copied = buildClusterSpec({ nodeTypes: AWS, override: SEED_TEMPLATE, instancePoolId: "pool-1" });
  assert(!("node_type_id" in copied.spec));
  assertMatch(copied.warnings[0], /dropped node_type_id i3\.xlarge/);
  // A pool named in the spec file works the same way.
  const inFile = buildClusterSpec({ nodeTypes: AWS, override: { instance_pool_id: "pool-2" } });
  assertEquals(inFile.spec.instance_pool_id, "pool-2");
  assert(!("node_type_id" in inFile.spec));
});

Deno.test("templates: --cluster-spec is deep-merged over the template and wins; null removes", () => {
  const { spec } = buildClusterSpec({
    nodeTypes: AWS,
    override: {
      node_type_id: "r5d.xlarge",
      spark_conf: { "spark.sql.shuffle.partitions": "8" },
      custom_tags: { team: "ml", ResourceClass: "SingleNode" },
      spark_env_vars: { MY_VAR: "1" },
      data_security_mode: null,
    },
  });
  assertEquals(spec, {
    spark_version: "16.4.x-cpu-ml-scala2.12",
    num_workers: 0,
    spark_conf: {
      "spark.master": "local[*]",
      "spark.databricks.cluster.profile": "singleNode",
      "spark.sql.shuffle.partitions": "8",
    },
    custom_tags: { ResourceClass: "SingleNode", team: "ml" },
    node_type_id: "r5d.xlarge",
    spark_env_vars: { MY_VAR: "1" },
  });
});

Deno.test("templates: a spec file may be a new_cluster wrapper or a whole job spec", () => {
  const inner = { spark_version: "15.4.x-cpu-ml-scala2.12" };
  assertEquals(clusterOverride({ new_cluster: inner }), inner);
  assertEquals(clusterOverride({ job_clusters: [{ job_cluster_key: "k", new_cluster: inner }] }), inner);
  assertEquals(clusterOverride({ tasks: [{ task_key: "t" }, { task_key: "u", new_cluster: inner }] }), inner);
  assertEquals(clusterOverride(inner), inner);
  const { spec } = buildClusterSpec({ nodeTypes: AWS, override: { new_cluster: inner } });
  assertEquals(spec.spark_version, "15.4.x-cpu-ml-scala2.12");
  assertEquals(spec.num_workers, 0);
});

Deno.test("templates: a spec that asks for workers loses the single-node settings", () => {
  const { spec, warnings } = buildClusterSpec({ nodeTypes: AWS, override: { num_workers: 2 } });
  assertEquals(spec.num_workers, 2);
  assertEquals(spec.spark_conf, {});
  assertEquals(spec.custom_tags, {});
  assertMatch(warnings[0], /asks for workers: dropped spark_conf\.spark\.master/);
  const auto = buildClusterSpec({
    nodeTypes: AWS,
    override: { autoscale: { min_workers: 1, max_workers: 4 } },
  });
  assert(!("num_workers" in auto.spec));
  assertEquals(auto.spec.autoscale, { min_workers: 1, max_workers: 4 });
});

Deno.test("templates: an unknown template is InvalidArgument listing the templates", () => {
  const e = assertThrows(() => buildClusterSpec({ template: "gpu-big", nodeTypes: AWS })) as DbxrError;
  assert(e instanceof DbxrError);
  assertEquals(e.code, "InvalidArgument");
  assertMatch(
    e.message,
    /Unknown cluster template "gpu-big"\. Templates: ml-single-node, cpu-single-node, ml-gpu-single-node/,
  );
  assertThrows(() => buildClusterSpec({ template: "toString", nodeTypes: AWS }));
});

Deno.test("templates: the spark version is checked against the workspace's list", () => {
  const offered = ["16.4.x-scala2.12", "16.4.x-cpu-ml-scala2.12", "16.4.x-gpu-ml-scala2.12"];
  assertEquals(buildClusterSpec({ nodeTypes: AWS, sparkVersions: offered }).warnings, []);
  const e = assertThrows(() =>
    buildClusterSpec({
      nodeTypes: AWS,
      sparkVersions: offered,
      override: { spark_version: "16.4.x-ml-scala2.12" },
    })
  ) as DbxrError;
  assertEquals(e.code, "InvalidArgument");
  assertMatch(e.message, /16\.4\.x-ml-scala2\.12 is not offered.*did you mean 16\.4\.x-cpu-ml-scala2\.12\?/);
  assertEquals(e.hint, "dbxr cluster spark-versions --filter cpu-ml");
  // Without the list: the seed's invalid "-ml-" key is still caught, as a warning.
  const { warnings } = buildClusterSpec({
    nodeTypes: AWS,
    override: { spark_version: "15.4.x-ml-scala2.12" },
  });
  assertMatch(warnings[0], /use 15\.4\.x-cpu-ml-scala2\.12/);
});

Deno.test("templates: deepMerge replaces arrays and leaves its inputs alone", () => {
  const base = { a: { b: 1, c: [1, 2] }, d: 1 };
  const over = { a: { c: [3] }, e: { f: 1 } };
  assertEquals(deepMerge(base, over), { a: { b: 1, c: [3] }, d: 1, e: { f: 1 } });
  assertEquals(base, { a: { b: 1, c: [1, 2] }, d: 1 });
});
