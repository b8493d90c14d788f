// The execution contexts of the fake workspace: which context lives on which cluster, its python3
// process, the per-cluster limit with least-recently-used eviction, the loss of every context when a
// driver goes away, and a record of the contexts that are gone (for the control API and for
// ContextNotFound texts that say why). The HTTP face is contexts.ts; the process is context_process.ts.

import { join } from "node:path";
import type { ClusterRecord, ClusterState } from "./cluster_model.ts";
import {
  type CancelOutcome,
  type CommandHandle,
  type ContextProcess,
  type Language,
  spawnContext,
  type SpawnContextOptions,
} from "./context_process.ts";
import type { CommandResults } from "./context_results.ts";
import { error12 } from "./errors.ts";
import { createRng, type Rng } from "./random.ts";
import type { EmulatorState, Principal } from "./state.ts";

/** Why a context is gone; shown by the control API and appended to its ContextNotFound text. */
export type GoneReason =
  | "destroyed"
  | "evicted_idle"
  | "evicted_control"
  | "cluster_stopped"
  | "reset"
  | "closed";

const GONE_TEXT: Record<GoneReason, string> = {
  destroyed: "it was destroyed",
  evicted_idle: "it was evicted (idle, at the cluster's execution context limit)",
  evicted_control: "it was evicted through the emulator's control API",
  cluster_stopped: "the cluster's driver stopped (restart or termination)",
  reset: "the emulator was reset",
  closed: "the emulator was closed",
};

export interface ContextEntry {
  readonly id: string;
  readonly clusterId: string;
  /** The cluster's driver generation at creation: a context does not survive its driver. */
  readonly generation: number;
  readonly language: Language;
  readonly proc: ContextProcess;
  readonly dir: string;
  readonly token: string;
  readonly createdAt: number;
  /** Tie-break for least-recently-used eviction when the (injected) clock stands still. */
  useSeq: number;
  /** Commands submitted and not yet seen to end (pruned when they do). */
  readonly inFlight: Set<CommandHandle>;
}

/** A command that a context's loss cut short, as it ended. */
export interface InterruptedCommand {
  id: string;
  status: string;
  results: CommandResults | null;
}

export interface GoneContextInfo {
  id: string;
  cluster_id: string;
  reason: GoneReason;
  /** Emulator clock, epoch ms. */
  at: number;
  api_token_uses: number;
  interrupted_commands: InterruptedCommand[];
}

export interface ContextInfo {
  id: string;
  cluster_id: string;
  language: Language;
  status: ContextProcess["state"];
  pid: number | null;
  cwd: string;
  created_at: number;
  last_used_at: number;
  idle_ms: number;
  running_command: { id: string; status: string; language: Language; submitted_at: number } | null;
  queued_commands: number;
  /** The token the context's notebook context hands out (`apiToken()`), and how often it was used. */
  api_token: string;
  api_token_uses: number;
}

export interface NotReadyFault {
  /** null: every cluster. */
  cluster_id: string | null;
  seconds: number;
  /** When the fault was set; the window starts at the later of this and the cluster's turn to RUNNING. */
  armed_at: number;
}

export interface CreateContextInput {
  clusterId: string;
  language: Language;
  principal: Principal | undefined;
  /** The request's origin, the apiUrl when the emulator does not know its own URL (in-process tests). */
  origin: string;
}

/** States in which a driver is up and may host contexts (the Go SDK's executor accepts the same two). */
const ALIVE: ReadonlySet<ClusterState> = new Set(["RUNNING", "RESIZING"]);
const EVICTION_CONF = "spark.databricks.chauffeur.enableIdleContextTracking";
const OUTPUT_CONF = "spark.databricks.driver.maxReplOutputLength";
/** Text output cap of DBR 12.2+ (`maxReplOutputLength` may raise it up to 20 MB). */
const MAX_OUTPUT_LIMIT = 20 * 1024 * 1024;
const GONE_KEPT = 200;

const terminal = (h: CommandHandle) =>
  h.status === "Finished" || h.status === "Cancelled" || h.status === "Error";

export class ContextStore {
  cancelOutcome: CancelOutcome = "Cancelled";
  #live = new Map<string, ContextEntry>();
  #gone = new Map<string, GoneContextInfo>();
  #notReady = new Map<string | null, NotReadyFault>();
  #killing = new Set<Promise<void>>();
  #root: string | undefined;
  #ids: Rng;
  #seq = 0;
  #closed = false;
  #unsubscribe: (() => void)[];

  constructor(
    private readonly state: EmulatorState,
    private readonly spawn: (o: SpawnContextOptions) => ContextProcess = spawnContext,
  ) {
    // Not reset with the workspace: an id from before a reset must never name a new context.
    this.#ids = createRng(state.settings.idSeed, "contexts");
    this.#unsubscribe = [
      state.events.on("clusterStopped", (e) => this.#dropCluster(e.clusterId, e.at)),
      state.events.on("reset", (e) => {
        this.#gone.clear();
        for (const entry of [...this.#live.values()]) this.#drop(entry, "reset", e.at);
        this.#notReady.clear();
        this.cancelOutcome = "Cancelled";
      }),
    ];
  }

  create(input: CreateContextInput): ContextEntry {
    const { state } = this;
    const cluster = this.#cluster(input.clusterId);
    if (!ALIVE.has(cluster.state)) throw this.#notReadyError(cluster);
    const now = state.now();
    for (const key of [cluster.id, null]) {
      const f = this.#notReady.get(key);
      if (f && now < Math.max(cluster.runningSince ?? 0, f.armed_at) + f.seconds * 1000) {
        throw this.#notReadyError(cluster);
      }
    }
    this.#makeRoom(cluster, now);

    const id = this.#newId();
    this.#root ??= Deno.makeTempDirSync({ prefix: "dbxr-emulator-" });
    const dir = join(this.#root, id);
    const apiUrl = state.baseUrl ?? input.origin;
    const token = state.credentials.issueContextToken(input.principal ?? state.credentials.user, id);
    const proc = this.spawn({
      cwd: dir,
      apiUrl,
      apiToken: token,
      workspaceHost: new URL(apiUrl).host,
      outputLimit: outputLimit(cluster),
      sparkConf: sparkConf(cluster),
      now: () => state.now(),
    });
    const entry: ContextEntry = {
      id,
      clusterId: cluster.id,
      generation: cluster.generation,
      language: input.language,
      proc,
      dir,
      token,
      createdAt: now,
      useSeq: ++this.#seq,
      inFlight: new Set(),
    };
    this.#live.set(id, entry);
    return entry;
  }

  /** The live context, or the 1.2 errors: 400 for an unknown cluster, 500 ContextNotFound otherwise. */
  lookup(clusterId: string, contextId: string): ContextEntry {
    const cluster = this.#cluster(clusterId); // applies due transitions, so a stopped driver is seen now
    const entry = this.#live.get(contextId);
    if (entry && entry.clusterId === cluster.id) {
      if (ALIVE.has(cluster.state) && cluster.generation === entry.generation) return entry;
      // The driver went away without an event reaching us (e.g. the cluster was replaced): same loss.
      this.#drop(entry, "cluster_stopped", this.state.now());
    }
    throw this.#contextNotFound(clusterId, contextId);
  }

  execute(entry: ContextEntry, language: Language, command: string): CommandHandle {
    const h = entry.proc.execute(command, language);
    entry.useSeq = ++this.#seq;
    entry.inFlight.add(h);
    h.done.then(() => entry.inFlight.delete(h));
    return h;
  }

  command(entry: ContextEntry, commandId: string): CommandHandle {
    const h = entry.proc.get(commandId);
    if (!h) throw commandNotFound(entry, commandId);
    return h;
  }

  cancel(entry: ContextEntry, commandId: string): void {
    if (!entry.proc.cancel(commandId, this.cancelOutcome)) throw commandNotFound(entry, commandId);
  }

  destroy(entry: ContextEntry): void {
    this.#drop(entry, "destroyed", this.state.now());
  }

  /** The control API's eviction; undefined for an unknown (or already gone) context. */
  evict(contextId: string): GoneContextInfo | undefined {
    const entry = this.#live.get(contextId);
    return entry ? this.#drop(entry, "evicted_control", this.state.now()) : undefined;
  }

  setNotReady(seconds: number, clusterId: string | null): NotReadyFault | null {
    if (seconds === 0) {
      this.#notReady.delete(clusterId);
      return null;
    }
    const fault = { cluster_id: clusterId, seconds, armed_at: this.state.now() };
    this.#notReady.set(clusterId, fault);
    return fault;
  }

  notReadyFaults(): NotReadyFault[] {
    return [...this.#notReady.values()].map((f) => ({ ...f }));
  }

  list(): ContextInfo[] {
    const now = this.state.now();
    return [...this.#live.values()].map((e) => {
      const open = [...e.inFlight].filter((h) => !terminal(h));
      const running = open.find((h) => h.status === "Running" || h.status === "Cancelling");
      return {
        id: e.id,
        cluster_id: e.clusterId,
        language: e.language,
        status: e.proc.state,
        pid: e.proc.pid,
        cwd: e.dir,
        created_at: e.createdAt,
        last_used_at: e.proc.lastUsedAt,
        idle_ms: open.length ? 0 : now - e.proc.lastUsedAt,
        running_command: running
          ? {
            id: running.id,
            status: running.status,
            language: running.language,
            submitted_at: running.submittedAt,
          }
          : null,
        queued_commands: open.filter((h) => h.status === "Queued").length,
        api_token: e.token,
        api_token_uses: this.state.credentials.contextTokenUses(e.token),
      };
    });
  }

  gone(): GoneContextInfo[] {
    return [...this.#gone.values()].map((g) => structuredClone(g));
  }

  /** Kills every context process and waits until all are reaped; removes the emulator's temp dir. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#unsubscribe.forEach((off) => off());
      for (const entry of [...this.#live.values()]) this.#drop(entry, "closed", this.state.now());
    }
    while (this.#killing.size) await Promise.all(this.#killing);
    if (this.#root) {
      const root = this.#root;
      this.#root = undefined;
      await Deno.remove(root, { recursive: true }).catch(() => {/* already gone */});
    }
  }

  // ----- internals -----

  #cluster(clusterId: string): ClusterRecord {
    const cluster = this.state.clusters.find(clusterId);
    if (!cluster) throw error12(400, `Cluster ${clusterId} does not exist`);
    return cluster;
  }

  /** At the limit: evict least-recently-used idle contexts, or refuse when none may go. */
  #makeRoom(cluster: ClusterRecord, now: number): void {
    const { maxContexts, idleEvictionMs } = this.state.settings;
    const onCluster = [...this.#live.values()].filter((e) => e.clusterId === cluster.id);
    const excess = onCluster.length - maxContexts + 1;
    if (excess <= 0) return;
    const idle = evictionEnabled(cluster)
      ? onCluster
        .filter((e) =>
          ![...e.inFlight].some((h) => !terminal(h)) && now - e.proc.lastUsedAt >= idleEvictionMs
        )
        .sort((a, b) => a.proc.lastUsedAt - b.proc.lastUsedAt || a.useSeq - b.useSeq)
      : [];
    // Only the documented text; the "(Limit set currently to 150)" suffix seen in folklore has no source.
    if (idle.length < excess) throw error12(500, "Too many execution contexts are open right now");
    for (const e of idle.slice(0, excess)) this.#drop(e, "evicted_idle", now);
  }

  #dropCluster(clusterId: string, at: number): void {
    for (const e of [...this.#live.values()]) {
      if (e.clusterId === clusterId) this.#drop(e, "cluster_stopped", at);
    }
  }

  /** Forgets the context now and kills its process in the background (close() waits for it). */
  #drop(entry: ContextEntry, reason: GoneReason, at: number): GoneContextInfo {
    this.#live.delete(entry.id);
    const open = [...entry.inFlight].filter((h) => !terminal(h));
    // kill() settles running and queued commands (Finished + CommandCancelledException) before it awaits.
    const killed = entry.proc.kill();
    const gone: GoneContextInfo = {
      id: entry.id,
      cluster_id: entry.clusterId,
      reason,
      at,
      api_token_uses: this.state.credentials.contextTokenUses(entry.token),
      interrupted_commands: open.map((h) => ({ id: h.id, status: h.status, results: h.results })),
    };
    this.state.credentials.revokeContextToken(entry.token);
    this.#gone.set(entry.id, gone);
    for (const id of this.#gone.keys()) {
      if (this.#gone.size <= GONE_KEPT) break;
      this.#gone.delete(id);
    }
    const done: Promise<void> = killed
      .then(() => Deno.remove(entry.dir, { recursive: true }))
      .catch(() => {/* never created, or already removed */})
      .finally(() => this.#killing.delete(done));
    this.#killing.add(done);
    return gone;
  }

  #newId(): string {
    // A 19-digit int64 below 2^63, like "3845165776084034518".
    for (;;) {
      let id = String(1 + this.#ids.int(8));
      for (let i = 0; i < 18; i++) id += String(this.#ids.int(10));
      if (!this.#live.has(id) && !this.#gone.has(id)) return id;
    }
  }

  #notReadyError(cluster: ClusterRecord) {
    const text = this.state.settings.clusterNotReadyMessage
      .replaceAll("{clusterId}", cluster.id)
      .replaceAll("{state}", cluster.state);
    return error12(500, text);
  }

  #contextNotFound(clusterId: string, contextId: string) {
    const gone = this.#gone.get(contextId);
    const why = gone && gone.cluster_id === clusterId ? `: ${GONE_TEXT[gone.reason]}` : "";
    return error12(
      500,
      `ContextNotFound: Execution context ${contextId} does not exist on cluster ${clusterId}${why}`,
    );
  }
}

function commandNotFound(entry: ContextEntry, commandId: string) {
  // The real answer for an unknown command id on a live context is not known; this mirrors ContextNotFound.
  return error12(
    500,
    `CommandNotFound: Command ${commandId} does not exist in execution context ${entry.id}`,
  );
}

function confValue(cluster: ClusterRecord, key: string): unknown {
  const conf = cluster.spec.spark_conf;
  return typeof conf === "object" && conf !== null ? (conf as Record<string, unknown>)[key] : undefined;
}

function evictionEnabled(cluster: ClusterRecord): boolean {
  return String(confValue(cluster, EVICTION_CONF) ?? "true").trim().toLowerCase() !== "false";
}

function outputLimit(cluster: ClusterRecord): number | undefined {
  const n = Number(confValue(cluster, OUTPUT_CONF));
  return Number.isInteger(n) && n > 0 ? Math.min(n, MAX_OUTPUT_LIMIT) : undefined;
}

/** The cluster's spark_conf (as strings) plus the usage tags that notebooks read. */
function sparkConf(cluster: ClusterRecord): Record<string, string> {
  const conf: Record<string, string> = {};
  const given = cluster.spec.spark_conf;
  if (typeof given === "object" && given !== null) {
    for (const [k, v] of Object.entries(given)) conf[k] = String(v);
  }
  conf["spark.databricks.clusterUsageTags.clusterId"] = cluster.id;
  conf["spark.databricks.clusterUsageTags.clusterName"] = String(cluster.spec.cluster_name ?? "");
  return conf;
}
