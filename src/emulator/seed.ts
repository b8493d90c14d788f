// The workspace a fresh (or reset) emulator starts with. Names are chosen for the CLI's search tests:
// "analytics" matches one all-purpose cluster, "shared" matches two (a dedicated and a standard one),
// and the job cluster matches neither. Ids derive from the seed only, so they are stable across runs.

import type {
  ClusterRecord,
  ClusterSource,
  ClusterSpec,
  ClusterState,
  TerminationReason,
} from "./cluster_model.ts";
import { type ClusterStore, userRequest } from "./cluster_model.ts";
import type { Principal } from "./credentials.ts";
import type { Rng } from "./random.ts";

const HOUR = 3_600_000;

interface SeedCluster {
  spec: ClusterSpec;
  source: ClusterSource;
  creator?: string;
  state: ClusterState;
  /** Hours before "now" when the cluster was started. */
  startedHoursAgo: number;
  terminatedHoursAgo?: number;
  reason?: TerminationReason;
  extraTags?: Record<string, string>;
}

/** A fixed, plausible creation stamp per seed (the id's `MMDD-HHMMSS` part), independent of the clock. */
function seedClusterId(rng: Rng): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(1 + rng.int(12))}${two(1 + rng.int(28))}-${two(rng.int(24))}${two(rng.int(60))}${
    two(rng.int(60))
  }-${rng.alnum(8)}`;
}

export function seedClusters(store: ClusterStore, rng: Rng, now: number, user: Principal): ClusterRecord[] {
  const seeds: SeedCluster[] = [
    {
      spec: {
        cluster_name: "analytics-shared-ml",
        spark_version: "16.4.x-cpu-ml-scala2.12",
        node_type_id: "i3.xlarge",
        num_workers: 2,
        autotermination_minutes: 120,
        data_security_mode: "SINGLE_USER",
        single_user_name: user.userName,
        enable_elastic_disk: true,
      },
      source: "UI",
      state: "RUNNING",
      startedHoursAgo: 3,
    },
    {
      spec: {
        cluster_name: "team-shared",
        spark_version: "16.4.x-scala2.12",
        node_type_id: "m5d.xlarge",
        autoscale: { min_workers: 1, max_workers: 4 },
        autotermination_minutes: 60,
        data_security_mode: "USER_ISOLATION",
        enable_elastic_disk: true,
      },
      source: "UI",
      creator: "data-platform@example.com",
      state: "RUNNING",
      startedHoursAgo: 26,
    },
    {
      spec: {
        cluster_name: "dbxr-dev-terminated",
        spark_version: "15.4.x-scala2.12",
        node_type_id: "m5d.large",
        num_workers: 0,
        spark_conf: { "spark.databricks.cluster.profile": "singleNode", "spark.master": "local[*]" },
        custom_tags: { ResourceClass: "SingleNode" },
        autotermination_minutes: 30,
        data_security_mode: "SINGLE_USER",
        single_user_name: user.userName,
      },
      source: "UI",
      state: "TERMINATED",
      startedHoursAgo: 50,
      terminatedHoursAgo: 48,
      reason: { code: "INACTIVITY", type: "SUCCESS", parameters: { inactivity_duration_min: "30" } },
    },
    {
      spec: {
        cluster_name: "job-123-run-456",
        spark_version: "16.4.x-scala2.12",
        node_type_id: "m5d.large",
        num_workers: 1,
        data_security_mode: "SINGLE_USER",
        single_user_name: user.userName,
      },
      source: "JOB",
      state: "TERMINATED",
      startedHoursAgo: 5,
      terminatedHoursAgo: 4.5,
      reason: { code: "JOB_FINISHED", type: "SUCCESS" },
      extraTags: { JobId: "123", RunName: "nightly-etl" },
    },
  ];
  return seeds.map((s) => {
    const started = now - s.startedHoursAgo * HOUR;
    const terminated = s.terminatedHoursAgo === undefined ? undefined : now - s.terminatedHoursAgo * HOUR;
    const creator = s.creator ?? user.userName;
    const rec: ClusterRecord = {
      id: seedClusterId(rng),
      spec: s.spec,
      source: s.source,
      creator,
      extraTags: s.extraTags ?? {},
      state: s.state,
      stateSince: terminated ?? started,
      startTime: started,
      terminatedTime: terminated,
      terminationReason: s.state === "TERMINATED" ? s.reason ?? userRequest(creator) : undefined,
      lastStateLossTime: terminated,
      runningSince: s.state === "RUNNING" ? started : undefined,
      generation: 1,
      sparkContextId: store.newSparkContextId(),
    };
    store.insert(rec);
    return rec;
  });
}
