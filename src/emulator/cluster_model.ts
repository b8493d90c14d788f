// The clusters of the fake workspace and their state machine (docs/databricks-behaviour.md §3). Transitions
// are evaluated lazily from the clock whenever a cluster is read: a cluster that entered PENDING at t0 is
// RUNNING for every read at or after t0 + pendingMs / timeScale. No timers, so nothing leaks and an injected
// clock makes every test deterministic.

import { isSparkVersion, NODE_TYPE_IDS, nodeType } from "./cluster_catalog.ts";
import { CM_CALLER_ERROR_DETAILS, invalidParameter, invalidState, missingField } from "./errors.ts";
import { rawInt } from "./http.ts";
import { clusterIdAt, type Rng } from "./random.ts";

export const CLUSTER_STATES = [
  "PENDING",
  "RUNNING",
  "RESTARTING",
  "RESIZING",
  "TERMINATING",
  "TERMINATED",
  "ERROR",
  "UNKNOWN",
] as const;
export type ClusterState = typeof CLUSTER_STATES[number];

export const CLUSTER_SOURCES = [
  "API",
  "JOB",
  "MODELS",
  "PIPELINE",
  "PIPELINE_MAINTENANCE",
  "SQL",
  "UI",
] as const;
export type ClusterSource = typeof CLUSTER_SOURCES[number];

export const DATA_SECURITY_MODES = [
  "DATA_SECURITY_MODE_AUTO",
  "DATA_SECURITY_MODE_STANDARD",
  "DATA_SECURITY_MODE_DEDICATED",
  "USER_ISOLATION",
  "SINGLE_USER",
  "NONE",
  "LEGACY_TABLE_ACL",
  "LEGACY_PASSTHROUGH",
  "LEGACY_SINGLE_USER",
  "LEGACY_SINGLE_USER_STANDARD",
] as const;

export interface TerminationReason {
  code: string;
  type: "SUCCESS" | "CLIENT_ERROR" | "SERVICE_FAULT" | "CLOUD_FAILURE";
  parameters?: Record<string, string>;
}

/** Nominal durations of the transient states, before timeScale divides them. */
export interface ClusterDelays {
  pendingMs: number;
  restartingMs: number;
  terminatingMs: number;
  resizingMs: number;
}

export const DEFAULT_DELAYS: ClusterDelays = {
  pendingMs: 20_000,
  restartingMs: 15_000,
  terminatingMs: 5_000,
  resizingMs: 10_000,
};

/** States in which the driver (and so every execution context) is alive. */
const ALIVE: ReadonlySet<ClusterState> = new Set(["RUNNING", "RESIZING"]);

interface Transition {
  to: ClusterState;
  at: number;
  message?: string;
  reason?: TerminationReason;
}

/** The user-settable attributes, as the create/edit body gave them (snake_case, passed through). */
export type ClusterSpec = Record<string, unknown>;

export interface ClusterRecord {
  readonly id: string;
  spec: ClusterSpec;
  readonly source: ClusterSource;
  readonly creator: string;
  /** Extra `default_tags`, e.g. JobId and RunName on job clusters. */
  readonly extraTags: Record<string, string>;
  state: ClusterState;
  stateSince: number;
  /** Set through the control API; otherwise the message is derived from the state. */
  stateMessage?: string;
  next?: Transition;
  startTime: number;
  terminatedTime?: number;
  lastRestartedTime?: number;
  lastStateLossTime?: number;
  terminationReason?: TerminationReason;
  /** When the cluster last became RUNNING from a state without a driver (not after a resize). */
  runningSince?: number;
  /** Incremented each time a new driver comes up; a context made under another generation is gone. */
  generation: number;
  /** int64 as decimal digits; changes with every new driver. */
  sparkContextId: string;
}

export interface ClusterStoppedEvent {
  clusterId: string;
  from: ClusterState;
  to: ClusterState;
  /** Clock time of the transition (may be earlier than now: transitions are applied lazily). */
  at: number;
}

export interface ClusterRunningEvent {
  clusterId: string;
  at: number;
  generation: number;
}

export interface ClusterEvents {
  /** The driver went away (restart, terminate, permanent delete, or a state set through control). */
  clusterStopped: ClusterStoppedEvent;
  /** A new driver is up. */
  clusterRunning: ClusterRunningEvent;
}

export interface ClusterStoreDeps {
  now(): number;
  timeScale: number;
  delays: ClusterDelays;
  /** Re-read on each use so that reset() can swap in a fresh stream. */
  rng(): Rng;
  events: { emit<K extends keyof ClusterEvents>(type: K, event: ClusterEvents[K]): void };
}

/** How the control API sets a state. */
export interface ClusterStateSpec {
  state: ClusterState;
  state_message?: string;
  termination_reason?: TerminationReason;
  /** Schedule this state next instead of the natural follow-up... */
  next_state?: ClusterState;
  /** ...this many ms from now on the emulator clock (not scaled by timeScale; default 0). */
  next_after_ms?: number;
  /** Stay in `state` until told otherwise (no natural follow-up). */
  hold?: boolean;
}

const titleCase = (s: string) => s.charAt(0) + s.slice(1).toLowerCase();

const FINDING_INSTANCES = "Finding instances for new nodes, acquiring more instances if necessary";

export const userRequest = (username: string): TerminationReason => ({
  code: "USER_REQUEST",
  type: "SUCCESS",
  parameters: { username },
});

export class ClusterStore {
  #clusters = new Map<string, ClusterRecord>();

  constructor(private readonly deps: ClusterStoreDeps) {}

  clear(): void {
    this.#clusters.clear();
  }

  /** Adds a fully built record (seed data); no events. */
  insert(rec: ClusterRecord): void {
    this.#clusters.set(rec.id, rec);
  }

  newSparkContextId(): string {
    return this.deps.rng().digits(19);
  }

  /** The cluster with its transitions applied up to now, or undefined. */
  find(id: string): ClusterRecord | undefined {
    const rec = this.#clusters.get(id);
    if (rec) this.#advance(rec);
    return rec;
  }

  /** As find(), but an unknown id is the error Databricks answers. */
  get(id: unknown): ClusterRecord {
    if (typeof id !== "string" || id === "") throw missingField("cluster_id");
    const rec = this.find(id);
    if (!rec) throw invalidParameter(`Cluster ${id} does not exist`);
    return rec;
  }

  all(): ClusterRecord[] {
    const out = [...this.#clusters.values()];
    out.forEach((rec) => this.#advance(rec));
    return out;
  }

  create(
    body: Record<string, unknown>,
    opts: { source: ClusterSource; creator: string; extraTags?: Record<string, string> },
  ): ClusterRecord {
    const spec = validateSpec(body, opts.creator);
    const now = this.deps.now();
    const rec: ClusterRecord = {
      id: clusterIdAt(now, this.deps.rng()),
      spec,
      source: opts.source,
      creator: opts.creator,
      extraTags: opts.extraTags ?? {},
      state: "TERMINATED",
      stateSince: now,
      startTime: now,
      generation: 0,
      sparkContextId: this.newSparkContextId(),
    };
    this.#clusters.set(rec.id, rec);
    this.#enter(rec, "PENDING", now);
    return rec;
  }

  start(id: unknown): void {
    const rec = this.get(id);
    if (rec.source === "JOB") {
      // The real wording is not documented; clients only need INVALID_PARAMETER_VALUE and the id.
      throw invalidParameter(
        `Cluster ${rec.id} is a job cluster and cannot be started. Job clusters are started and terminated by their job run.`,
        CM_CALLER_ERROR_DETAILS,
      );
    }
    if (rec.state !== "TERMINATED") throw unexpectedState(rec);
    this.#enter(rec, "PENDING", this.deps.now());
  }

  restart(id: unknown): void {
    const rec = this.get(id);
    if (!ALIVE.has(rec.state)) throw unexpectedState(rec);
    this.#enter(rec, "RESTARTING", this.deps.now());
  }

  /** `clusters/delete`: terminate (idempotent on a cluster that is already going or gone). */
  terminate(id: unknown, reason: TerminationReason): void {
    const rec = this.get(id);
    if (rec.state === "TERMINATED" || rec.state === "TERMINATING") return;
    const now = this.deps.now();
    this.#enter(rec, "TERMINATING", now, { reason });
  }

  permanentDelete(id: unknown): void {
    const rec = this.get(id);
    const now = this.deps.now();
    if (ALIVE.has(rec.state)) {
      this.deps.events.emit("clusterStopped", {
        clusterId: rec.id,
        from: rec.state,
        to: "TERMINATED",
        at: now,
      });
    }
    this.#clusters.delete(rec.id);
  }

  resize(id: unknown, body: Record<string, unknown>): void {
    const rec = this.get(id);
    const size = validateSize(body);
    if (!size) throw invalidParameter("Missing required field: size", CM_CALLER_ERROR_DETAILS);
    if (rec.state !== "RUNNING") throw unexpectedState(rec);
    applySize(rec.spec, size);
    this.#enter(rec, "RESIZING", this.deps.now());
  }

  /** `clusters/edit`: a full replacement of the spec; a running cluster restarts to apply it. */
  edit(id: unknown, body: Record<string, unknown>): void {
    const rec = this.get(id);
    if (rec.source === "JOB") {
      throw invalidParameter(
        `Cluster ${rec.id} is a job cluster and cannot be edited.`,
        CM_CALLER_ERROR_DETAILS,
      );
    }
    const spec = validateSpec(body, rec.creator);
    if (rec.state !== "RUNNING" && rec.state !== "TERMINATED") throw unexpectedState(rec);
    rec.spec = spec;
    if (rec.state === "RUNNING") this.#enter(rec, "RESTARTING", this.deps.now());
  }

  /** The control API: put a cluster in a state now, optionally with the next state scheduled. */
  setState(id: string, spec: ClusterStateSpec): ClusterRecord {
    const rec = this.find(id);
    if (!rec) throw new RangeError(`no cluster ${id}`);
    const now = this.deps.now();
    this.#enter(rec, spec.state, now, {
      message: spec.state_message,
      reason: spec.termination_reason,
      hold: spec.hold,
      next: spec.next_state ? { to: spec.next_state, at: now + (spec.next_after_ms ?? 0) } : undefined,
    });
    this.#advance(rec);
    return rec;
  }

  #natural(state: ClusterState, at: number, reason?: TerminationReason): Transition | undefined {
    const { delays, timeScale } = this.deps;
    const after = (ms: number) => at + ms / timeScale;
    switch (state) {
      case "PENDING":
        return { to: "RUNNING", at: after(delays.pendingMs) };
      case "RESTARTING":
        return { to: "RUNNING", at: after(delays.restartingMs) };
      case "RESIZING":
        return { to: "RUNNING", at: after(delays.resizingMs) };
      case "TERMINATING":
        return { to: "TERMINATED", at: after(delays.terminatingMs), reason };
      default:
        return undefined;
    }
  }

  #enter(
    rec: ClusterRecord,
    to: ClusterState,
    at: number,
    opts: { message?: string; reason?: TerminationReason; hold?: boolean; next?: Transition } = {},
  ): void {
    const from = rec.state;
    const wasAlive = ALIVE.has(from);
    const isAlive = ALIVE.has(to);
    rec.state = to;
    rec.stateSince = at;
    rec.stateMessage = opts.message;
    if (to === "PENDING") {
      rec.startTime = at;
      rec.terminatedTime = undefined;
      rec.terminationReason = undefined;
    }
    if (to === "TERMINATED") {
      rec.terminatedTime = at;
      rec.terminationReason = opts.reason ?? userRequest(rec.creator);
    }
    if (wasAlive && !isAlive) rec.lastStateLossTime = at;
    const newDriver = to === "RUNNING" && !wasAlive;
    if (newDriver) {
      if (from === "RESTARTING") rec.lastRestartedTime = at;
      rec.runningSince = at;
      rec.generation++;
      rec.sparkContextId = this.newSparkContextId();
    }
    rec.next = opts.next ?? (opts.hold ? undefined : this.#natural(to, at, opts.reason));
    if (wasAlive && !isAlive) this.deps.events.emit("clusterStopped", { clusterId: rec.id, from, to, at });
    if (newDriver) {
      this.deps.events.emit("clusterRunning", { clusterId: rec.id, at, generation: rec.generation });
    }
  }

  #advance(rec: ClusterRecord): void {
    const now = this.deps.now();
    // A bound on the loop guards against a zero-length cycle scheduled through the control API.
    for (let i = 0; i < 100 && rec.next && rec.next.at <= now; i++) {
      const t = rec.next;
      rec.next = undefined;
      this.#enter(rec, t.to, t.at, { message: t.message, reason: t.reason });
    }
  }

  /** `state_message`: the control API's override, or what Databricks shows in that state. */
  stateMessage(rec: ClusterRecord): string {
    if (rec.stateMessage !== undefined) return rec.stateMessage;
    switch (rec.state) {
      case "PENDING": {
        const total = rec.next ? rec.next.at - rec.stateSince : 0;
        const done = this.deps.now() - rec.stateSince;
        return total > 0 && done / total >= 0.5 ? "Starting Spark" : FINDING_INSTANCES;
      }
      case "RESIZING":
        return FINDING_INSTANCES;
      case "RESTARTING":
        return "Restarting Spark";
      case "TERMINATING":
        return "Terminating";
      case "TERMINATED":
        if (rec.terminationReason?.code === "INACTIVITY") {
          const minutes = rec.terminationReason.parameters?.inactivity_duration_min ?? "120";
          return `Inactive cluster terminated (inactive for ${minutes} minutes).`;
        }
        return "";
      default:
        return "";
    }
  }

  /** The `ClusterDetails` object of clusters/get and clusters/list. */
  details(rec: ClusterRecord): Record<string, unknown> {
    const s = rec.spec;
    const name = typeof s.cluster_name === "string" ? s.cluster_name : "";
    const nodeTypeId = s.node_type_id as string | undefined;
    const driverNodeTypeId = (s.driver_node_type_id as string | undefined) ?? nodeTypeId;
    const alive = ALIVE.has(rec.state);
    const out: Record<string, unknown> = {
      cluster_id: rec.id,
      creator_user_name: rec.creator,
      spark_context_id: rawInt(rec.sparkContextId),
      ...(alive ? { driver_healthy: true } : {}),
      ...passthrough(s),
      cluster_name: name,
      spark_version: s.spark_version,
      spark_conf: s.spark_conf ?? {},
      aws_attributes: {
        first_on_demand: 1,
        availability: "SPOT_WITH_FALLBACK",
        zone_id: "auto",
        spot_bid_price_percent: 100,
        ...(s.aws_attributes as object | undefined),
      },
      ...(nodeTypeId ? { node_type_id: nodeTypeId, driver_node_type_id: driverNodeTypeId } : {}),
      spark_env_vars: s.spark_env_vars ?? { PYSPARK_PYTHON: "/databricks/python3/bin/python3" },
      autotermination_minutes: s.autotermination_minutes ?? 0,
      enable_elastic_disk: s.enable_elastic_disk ?? false,
      disk_spec: {},
      cluster_source: rec.source,
      enable_local_disk_encryption: s.enable_local_disk_encryption ?? false,
      ...(nodeTypeId
        ? {
          instance_source: { node_type_id: nodeTypeId },
          driver_instance_source: { node_type_id: driverNodeTypeId },
        }
        : {}),
      runtime_engine: s.runtime_engine ?? "STANDARD",
      effective_spark_version: s.spark_version,
      state: rec.state,
      state_message: this.stateMessage(rec),
      start_time: rec.startTime,
      ...(rec.terminatedTime !== undefined && rec.state === "TERMINATED"
        ? { terminated_time: rec.terminatedTime }
        : {}),
      ...(rec.lastStateLossTime !== undefined ? { last_state_loss_time: rec.lastStateLossTime } : {}),
      ...(rec.lastRestartedTime !== undefined ? { last_restarted_time: rec.lastRestartedTime } : {}),
      ...(s.autoscale ? { autoscale: s.autoscale } : { num_workers: s.num_workers ?? 0 }),
      default_tags: {
        Vendor: "Databricks",
        Creator: rec.creator,
        ClusterName: name,
        ClusterId: rec.id,
        ...rec.extraTags,
      },
      ...(rec.state === "TERMINATED" && rec.terminationReason
        ? { termination_reason: rec.terminationReason }
        : {}),
      init_scripts_safe_mode: false,
      jdbc_port: 10000,
      spec: structuredClone(s),
    };
    if (alive && nodeTypeId) {
      const workers = s.autoscale
        ? (s.autoscale as { min_workers: number }).min_workers
        : Number(s.num_workers ?? 0);
      const node = nodeType(nodeTypeId);
      if (node) {
        out.cluster_memory_mb = node.memoryMb * (workers + 1);
        out.cluster_cores = node.cores * (workers + 1);
      }
    }
    return out;
  }
}

/** Spec fields that details() computes itself; every other field of the spec is echoed back as given. */
const COMPUTED = new Set([
  "cluster_name",
  "spark_version",
  "spark_conf",
  "aws_attributes",
  "node_type_id",
  "driver_node_type_id",
  "spark_env_vars",
  "autotermination_minutes",
  "enable_elastic_disk",
  "enable_local_disk_encryption",
  "runtime_engine",
  "num_workers",
  "autoscale",
  "apply_policy_default_values",
]);

function passthrough(spec: ClusterSpec): ClusterSpec {
  return Object.fromEntries(Object.entries(spec).filter(([k]) => !COMPUTED.has(k)));
}

const unexpectedState = (rec: ClusterRecord) =>
  invalidState(`Cluster ${rec.id} is in unexpected state ${titleCase(rec.state)}.`, CM_CALLER_ERROR_DETAILS);

interface Size {
  num_workers?: number;
  autoscale?: { min_workers: number; max_workers: number };
}

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0;

function validateSize(body: Record<string, unknown>): Size | undefined {
  if (body.autoscale !== undefined) {
    const a = body.autoscale as Record<string, unknown> | null;
    if (typeof a !== "object" || a === null || !isCount(a.min_workers) || !isCount(a.max_workers)) {
      throw invalidParameter("autoscale needs integer min_workers and max_workers", CM_CALLER_ERROR_DETAILS);
    }
    if (a.min_workers > a.max_workers) {
      throw invalidParameter(
        `Invalid autoscale: min_workers (${a.min_workers}) must not be greater than max_workers (${a.max_workers}).`,
        CM_CALLER_ERROR_DETAILS,
      );
    }
    return { autoscale: { min_workers: a.min_workers, max_workers: a.max_workers } };
  }
  if (body.num_workers !== undefined) {
    if (!isCount(body.num_workers)) {
      throw invalidParameter(
        `Invalid num_workers: ${JSON.stringify(body.num_workers)}`,
        CM_CALLER_ERROR_DETAILS,
      );
    }
    return { num_workers: body.num_workers };
  }
  return undefined;
}

function applySize(spec: ClusterSpec, size: Size): void {
  delete spec.num_workers;
  delete spec.autoscale;
  Object.assign(spec, size);
}

const notSupported = (field: string, id: string) =>
  invalidParameter(
    `${
      field === "driver_node_type_id" ? "Driver node" : "Node"
    } type ${id} is not supported. Supported node types: ${NODE_TYPE_IDS.join(", ")}`,
    CM_CALLER_ERROR_DETAILS,
  );

/** Checks a create/edit body as the cluster manager does and returns the spec to store. */
export function validateSpec(body: Record<string, unknown>, creator: string): ClusterSpec {
  const spec: ClusterSpec = structuredClone(body);
  delete spec.cluster_id;
  if (typeof spec.spark_version !== "string" || spec.spark_version === "") {
    throw missingField("spark_version");
  }
  if (!isSparkVersion(spec.spark_version)) {
    throw invalidParameter(`Invalid spark version ${spec.spark_version}.`, CM_CALLER_ERROR_DETAILS);
  }
  if (spec.node_type_id === undefined && spec.instance_pool_id === undefined) {
    throw missingField("node_type_id");
  }
  for (const field of ["node_type_id", "driver_node_type_id"]) {
    const v = spec[field];
    if (v !== undefined && (typeof v !== "string" || !nodeType(v))) notSupportedThrow(field, String(v));
  }
  if (spec.cluster_name !== undefined && typeof spec.cluster_name !== "string") {
    throw invalidParameter("cluster_name must be a string", CM_CALLER_ERROR_DETAILS);
  }
  const mode = spec.data_security_mode;
  if (mode !== undefined && !(DATA_SECURITY_MODES as readonly unknown[]).includes(mode)) {
    throw invalidParameter(`Invalid data_security_mode: ${String(mode)}`, CM_CALLER_ERROR_DETAILS);
  }
  // Dedicated (single-user) clusters without a user are assigned to their creator.
  if ((mode === "SINGLE_USER" || mode === "DATA_SECURITY_MODE_DEDICATED") && !spec.single_user_name) {
    spec.single_user_name = creator;
  }
  const size = validateSize(spec);
  applySize(spec, size ?? { num_workers: 0 });
  const minutes = spec.autotermination_minutes;
  if (minutes !== undefined && (!isCount(minutes) || (minutes !== 0 && (minutes < 10 || minutes > 10000)))) {
    throw invalidParameter(
      `Invalid autotermination_minutes: ${JSON.stringify(minutes)}. It must be 0 or between 10 and 10000.`,
      CM_CALLER_ERROR_DETAILS,
    );
  }
  return spec;
}

function notSupportedThrow(field: string, id: string): never {
  throw notSupported(field, id);
}
