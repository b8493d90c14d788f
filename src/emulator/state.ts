// The shared state of one emulator: settings, clock, credentials, the clusters, faults, the request log
// and the event bus. Route modules receive it; they keep their own data in their own modules and
// subscribe to "reset" (and to cluster events) instead of reaching into each other.

import { type ClusterDelays, type ClusterEvents, ClusterStore, DEFAULT_DELAYS } from "./cluster_model.ts";
import { Credentials } from "./credentials.ts";
import { Emitter } from "./events.ts";
import { FaultList } from "./faults.ts";
import { createRng, randomSeed, type Rng } from "./random.ts";
import { RequestLog } from "./request_log.ts";
import { seedClusters } from "./seed.ts";
import type { Router } from "./router.ts";
import { WorkspaceStore } from "./workspace_store.ts";

export type { Principal } from "./credentials.ts";
export type { WorkspaceFiles, WorkspaceObject } from "./workspace_store.ts";

export interface EmulatorOptions {
  /** Pins ids, the PAT and the OAuth client secret (default: ids from seed 1, random secrets). */
  seed?: number;
  /** 1 = real time; 10 = cluster state changes 10x faster. */
  timeScale?: number;
  /** Added to every API response (not to /__emulator/ control calls). */
  latencyMs?: number;
  /** Execution contexts per cluster before eviction or refusal (Databricks: 145). */
  maxContexts?: number;
  /**
   * How long a context must have been idle (no command since) before it may be evicted at the context
   * limit, in ms of the emulator clock. Databricks documented 24 hours; the emulator defaults to 0 so
   * that tests need not wait.
   */
  idleEvictionMs?: number;
  /**
   * The `error` of contexts/create on a cluster that cannot host a context (not RUNNING/RESIZING, or the
   * "contexts not ready" fault); `{clusterId}` and `{state}` are filled in. Only the
   * `ClusterNotReadyException` name is evidenced, the rest of the real text is unknown.
   */
  clusterNotReadyMessage?: string;
  /** The emulator's own URL (e.g. http://127.0.0.1:PORT), once known; see Emulator.setBaseUrl. */
  baseUrl?: string;
  /** Injectable clock, epoch ms (default Date.now). */
  now?: () => number;
  /** Lifetime of OAuth access tokens (default 3600). */
  tokenTtlSeconds?: number;
  /** OAuth tokens are refused this long before they expire, as Databricks does (default 30). */
  tokenExpirySkewSeconds?: number;
  /** Nominal durations of cluster states, before timeScale (defaults in DEFAULT_DELAYS). */
  delays?: Partial<ClusterDelays>;
}

export interface Settings {
  seed: number;
  /**
   * The seed of ids that outlive the emulator in the user's files (job run ids, context ids): the pinned
   * seed, else a random one, so that a restarted emulator never hands out an id that a project folder
   * already holds (job_outputs/<run_id>/ of the last session).
   */
  idSeed: number;
  timeScale: number;
  latencyMs: number;
  maxContexts: number;
  idleEvictionMs: number;
  clusterNotReadyMessage: string;
  tokenTtlSeconds: number;
  tokenExpirySkewSeconds: number;
  delays: ClusterDelays;
}

export interface EmulatorEvents extends ClusterEvents {
  /** The control API reset the workspace to its seed state; modules drop what they hold. */
  reset: { at: number };
}

const DEFAULT_SEED = 1;
export const DEFAULT_CLUSTER_NOT_READY_MESSAGE =
  "ClusterNotReadyException: Cluster {clusterId} is not ready to run commands (state {state}).";

function positive(name: string, v: number | undefined, fallback: number, allowZero = false): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw new RangeError(`${name} must be a ${allowZero ? "non-negative" : "positive"} number, got ${v}`);
  }
  return v;
}

export function resolveSettings(opts: EmulatorOptions): Settings {
  const seed = opts.seed ?? DEFAULT_SEED;
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const delays = { ...DEFAULT_DELAYS };
  for (const [k, v] of Object.entries(opts.delays ?? {})) {
    if (!(k in delays)) throw new RangeError(`unknown delay ${k}`);
    delays[k as keyof ClusterDelays] = positive(`delays.${k}`, v, delays[k as keyof ClusterDelays], true);
  }
  const maxContexts = positive("maxContexts", opts.maxContexts, 145);
  if (!Number.isInteger(maxContexts)) {
    throw new RangeError(`maxContexts must be an integer, got ${maxContexts}`);
  }
  return {
    seed,
    idSeed: opts.seed ?? randomSeed(),
    timeScale: positive("timeScale", opts.timeScale, 1),
    latencyMs: positive("latencyMs", opts.latencyMs, 0, true),
    maxContexts,
    idleEvictionMs: positive("idleEvictionMs", opts.idleEvictionMs, 0, true),
    clusterNotReadyMessage: opts.clusterNotReadyMessage ?? DEFAULT_CLUSTER_NOT_READY_MESSAGE,
    tokenTtlSeconds: positive("tokenTtlSeconds", opts.tokenTtlSeconds, 3600),
    tokenExpirySkewSeconds: positive("tokenExpirySkewSeconds", opts.tokenExpirySkewSeconds, 30, true),
    delays,
  };
}

export class EmulatorState {
  readonly settings: Settings;
  readonly now: () => number;
  readonly credentials: Credentials;
  /** Sent as X-Databricks-Org-Id. */
  readonly workspaceId: string;
  readonly events = new Emitter<EmulatorEvents>();
  readonly clusters: ClusterStore;
  readonly faults = new FaultList();
  readonly requestLog: RequestLog;
  /** The workspace tree (folders, notebooks, files); other modules read it as WorkspaceFiles. */
  readonly workspace: WorkspaceStore;
  latencyMs: number;
  baseUrl?: string;
  #clusterRng: Rng;
  #closing = new AbortController();

  constructor(opts: EmulatorOptions) {
    this.settings = resolveSettings(opts);
    this.now = opts.now ?? Date.now;
    this.baseUrl = opts.baseUrl;
    this.latencyMs = this.settings.latencyMs;
    // Secrets follow the seed only when the caller pinned one; otherwise each emulator has its own.
    this.credentials = new Credentials(opts.seed ?? randomSeed());
    this.workspaceId = createRng(this.settings.seed, "workspace").digits(16);
    this.requestLog = new RequestLog(() => this.credentials.secretValues());
    this.#clusterRng = createRng(this.settings.seed, "clusters");
    this.clusters = new ClusterStore({
      now: () => this.now(),
      timeScale: this.settings.timeScale,
      delays: this.settings.delays,
      rng: () => this.#clusterRng,
      events: this.events,
    });
    this.#seed();
    this.workspace = new WorkspaceStore({
      seed: this.settings.seed,
      now: () => this.now(),
      homes: () => [this.credentials.user.userName, this.credentials.servicePrincipal.userName],
      onReset: (listener) => this.events.on("reset", listener),
    });
  }

  #seed(): void {
    this.#clusterRng = createRng(this.settings.seed, "clusters");
    this.clusters.clear();
    seedClusters(
      this.clusters,
      createRng(this.settings.seed, "seed-clusters"),
      this.now(),
      this.credentials.user,
    );
  }

  /** Back to the seed state: seed clusters, no faults, empty request log, configured latency. */
  reset(): void {
    this.#seed();
    this.faults.clear();
    this.requestLog.clear();
    this.latencyMs = this.settings.latencyMs;
    this.events.emit("reset", { at: this.now() });
  }

  /** Real-time delay (latency injection); cut short when the emulator closes, so close() never waits. */
  sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.#closing.signal.aborted) return Promise.resolve();
    const signal = this.#closing.signal;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  get closed(): boolean {
    return this.#closing.signal.aborted;
  }

  close(): void {
    this.#closing.abort();
  }
}

/**
 * One API of the fake workspace (clusters, SCIM, OAuth, and later contexts, jobs, workspace, UC, serving).
 * A module keeps its data to itself, adds its routes, listens to `state.events` ("reset", cluster
 * events) and releases what it holds in close().
 */
export interface EmulatorModule {
  readonly name: string;
  routes(router: Router): void;
  /** Routes under /__emulator/ (no auth, no faults, not logged). */
  controlRoutes?(router: Router): void;
  close?(): Promise<void>;
}
