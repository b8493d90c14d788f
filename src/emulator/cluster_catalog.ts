// What the fake workspace offers to clusters: Databricks Runtime versions (with the real key and name
// conventions that version selectors filter on: `-ml-`, `-gpu-`, `-scala2.1x`, `LTS`) and a few AWS node
// types with the fields of `clusters/list-node-types`.

export interface SparkVersion {
  key: string;
  name: string;
}

const runtime = (version: string, spark: string, scala: string, lts: boolean) => {
  const label = `${version}${lts ? " LTS" : ""}`;
  const base = `${version}.x`;
  return [
    { key: `${base}-scala${scala}`, name: `${label} (includes Apache Spark ${spark}, Scala ${scala})` },
    {
      key: `${base}-cpu-ml-scala${scala}`,
      name: `${label} ML (includes Apache Spark ${spark}, Scala ${scala})`,
    },
    {
      key: `${base}-gpu-ml-scala${scala}`,
      name: `${label} ML (includes Apache Spark ${spark}, GPU, Scala ${scala})`,
    },
  ];
};

export const SPARK_VERSIONS: readonly SparkVersion[] = [
  ...runtime("17.3", "4.0.0", "2.13", true),
  ...runtime("17.0", "4.0.0", "2.13", false),
  ...runtime("16.4", "3.5.2", "2.12", true),
  // 16.4 is the last LTS that ships both Scala builds; the ML runtimes exist for 2.12 only.
  { key: "16.4.x-scala2.13", name: "16.4 LTS (includes Apache Spark 3.5.2, Scala 2.13)" },
  ...runtime("15.4", "3.5.0", "2.12", true),
  ...runtime("14.3", "3.5.0", "2.12", true),
  ...runtime("13.3", "3.4.1", "2.12", true),
];

export const isSparkVersion = (key: string) => SPARK_VERSIONS.some((v) => v.key === key);

interface NodeSpec {
  id: string;
  memoryMb: number;
  cores: number;
  gpus: number;
  category: string;
  nvmeDisks: number;
  nvmeDiskGb: number;
  order: number;
}

const NODES: NodeSpec[] = [
  {
    id: "m5d.large",
    memoryMb: 8192,
    cores: 2,
    gpus: 0,
    category: "General Purpose",
    nvmeDisks: 1,
    nvmeDiskGb: 75,
    order: 0,
  },
  {
    id: "m5d.xlarge",
    memoryMb: 16384,
    cores: 4,
    gpus: 0,
    category: "General Purpose",
    nvmeDisks: 1,
    nvmeDiskGb: 150,
    order: 1,
  },
  {
    id: "r5d.xlarge",
    memoryMb: 32768,
    cores: 4,
    gpus: 0,
    category: "Memory Optimized",
    nvmeDisks: 1,
    nvmeDiskGb: 150,
    order: 2,
  },
  {
    id: "i3.xlarge",
    memoryMb: 31232,
    cores: 4,
    gpus: 0,
    category: "Storage Optimized",
    nvmeDisks: 1,
    nvmeDiskGb: 950,
    order: 3,
  },
  {
    id: "g4dn.xlarge",
    memoryMb: 16384,
    cores: 4,
    gpus: 1,
    category: "GPU Accelerated",
    nvmeDisks: 1,
    nvmeDiskGb: 125,
    order: 4,
  },
];

/** One entry of `list-node-types` in the API's field names. */
export function nodeTypeJson(n: NodeSpec): Record<string, unknown> {
  return {
    node_type_id: n.id,
    memory_mb: n.memoryMb,
    num_cores: n.cores,
    num_gpus: n.gpus,
    description: n.id,
    instance_type_id: n.id,
    is_deprecated: false,
    category: n.category,
    support_ebs_volumes: true,
    support_cluster_tags: true,
    node_instance_type: {
      instance_type_id: n.id,
      local_disks: n.nvmeDisks,
      local_disk_size_gb: n.nvmeDiskGb,
      local_nvme_disks: n.nvmeDisks,
      local_nvme_disk_size_gb: n.nvmeDiskGb,
    },
    is_hidden: false,
    support_port_forwarding: true,
    display_order: n.order,
    is_io_cache_enabled: n.category === "Storage Optimized",
    photon_worker_capable: n.gpus === 0,
    photon_driver_capable: n.gpus === 0,
    is_graviton: false,
    is_encrypted_in_transit: false,
  };
}

export const NODE_TYPES: readonly Record<string, unknown>[] = NODES.map(nodeTypeJson);

export const nodeType = (id: string) => NODES.find((n) => n.id === id);

export const NODE_TYPE_IDS: readonly string[] = NODES.map((n) => n.id);
