// Command Execution API 1.2 routes (docs/databricks-behaviour.md §2): execution contexts and their commands,
// each context a real python3 process (context_process.ts) kept by context_store.ts. Parameter names are
// camelCase and every error has the 1.2 body {"error": "..."}. Bodies may be JSON or forms, as in the
// historic curl docs.

import type { CancelOutcome, Language } from "./context_process.ts";
import { type ContextInfo, ContextStore, type GoneContextInfo, type NotReadyFault } from "./context_store.ts";
import { controlBody, ControlError } from "./control.ts";
import { error12 } from "./errors.ts";
import { type EmuRequest, jsonResponse, ok } from "./http.ts";
import type { Router } from "./router.ts";
import type { EmulatorModule, EmulatorState } from "./state.ts";

export type { CancelOutcome } from "./context_process.ts";
export type { ContextInfo, GoneContextInfo, InterruptedCommand, NotReadyFault } from "./context_store.ts";

export interface ContextsSnapshot {
  contexts: ContextInfo[];
  /** Recently gone contexts (destroyed, evicted, lost with their driver), oldest first. */
  gone: GoneContextInfo[];
  cancel_outcome: CancelOutcome;
  not_ready: NotReadyFault[];
}

/** The execution-context part of the control API (also under /__emulator/, see README.md). */
export interface ContextsControl {
  /** Live contexts with their cluster, status, last use and running command; recently gone ones. */
  contexts(): ContextsSnapshot;
  /** Evicts a context now, as a cluster at its limit would; throws ControlError 404 if it is not live. */
  evictContext(contextId: string): GoneContextInfo;
  /** How a command cancelled while running settles from now on (default "Cancelled"). */
  setCancelOutcome(outcome: CancelOutcome): void;
  /**
   * For `seconds` of emulator-clock time after a cluster turns RUNNING (or from now, if it already is),
   * contexts/create answers 500 ClusterNotReadyException. Without clusterId: every cluster. 0 switches off.
   */
  setContextsNotReady(seconds: number, clusterId?: string): void;
}

export const CANCEL_OUTCOMES: readonly CancelOutcome[] = ["Cancelled", "FinishedWithCancelledException"];
const LANGUAGES = ["python", "scala", "sql", "r"] as const;

type Params = Record<string, unknown>;

/**
 * A 1.2 POST body: JSON (what the SDKs send), or a form (`curl -d k=v` / `-F k=v` in the historic docs).
 * A JSON object sent with curl's default form content type is still JSON.
 */
export async function bodyParams(req: EmuRequest): Promise<Params> {
  const text = req.text().trim();
  if (text === "") return {};
  const type = req.headers.get("content-type") ?? "";
  const lower = type.toLowerCase();
  if (lower.includes("multipart/form-data")) {
    let form: FormData;
    try {
      form = await new Response(req.text(), { headers: { "content-type": type } }).formData();
    } catch {
      throw error12(400, "Malformed multipart/form-data body");
    }
    const out: Params = {};
    form.forEach((v, k) => (out[k] = typeof v === "string" ? v : v.name));
    return out;
  }
  if (lower.includes("application/x-www-form-urlencoded") && !/^[{[]/.test(text)) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  return req.json();
}

const queryParams = (req: EmuRequest): Params => Object.fromEntries(req.query);

/** A required string parameter; a number is taken as its decimal text (ids look numeric). */
function str(p: Params, name: string, allowEmpty = false): string {
  const v = p[name];
  if (v === undefined || v === null || (v === "" && !allowEmpty)) {
    throw error12(400, `requirement failed: missing ${name}`);
  }
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (typeof v !== "string") throw error12(400, `requirement failed: ${name} must be a string`);
  return v;
}

/** python and sql run; scala and r are refused with an emulator-specific text (same shape as 1.2). */
export function language(p: Params): Language {
  const raw = str(p, "language").trim().toLowerCase();
  if (!(LANGUAGES as readonly string[]).includes(raw)) {
    throw error12(400, `requirement failed: unknown language '${raw}' (expected python, scala, sql or r)`);
  }
  if (raw === "scala" || raw === "r") {
    throw error12(400, `Language ${raw} is not supported by the dbxr emulator (it runs python and sql only)`);
  }
  return raw as Language;
}

export function contextsModule(
  state: EmulatorState,
  store = new ContextStore(state),
): EmulatorModule & { control: ContextsControl } {
  const control: ContextsControl = {
    contexts: () => ({
      contexts: store.list(),
      gone: store.gone(),
      cancel_outcome: store.cancelOutcome,
      not_ready: store.notReadyFaults(),
    }),
    evictContext(contextId) {
      const gone = store.evict(contextId);
      if (!gone) throw new ControlError(404, `no live execution context ${contextId}`);
      return gone;
    },
    setCancelOutcome(outcome) {
      if (!CANCEL_OUTCOMES.includes(outcome)) {
        throw new ControlError(400, `outcome must be one of ${CANCEL_OUTCOMES.join(", ")}`);
      }
      store.cancelOutcome = outcome;
    },
    setContextsNotReady(seconds, clusterId) {
      if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) {
        throw new ControlError(400, "seconds must be a non-negative number");
      }
      if (clusterId !== undefined && !state.clusters.find(clusterId)) {
        throw new ControlError(404, `no cluster ${clusterId}`);
      }
      store.setNotReady(seconds, clusterId ?? null);
    },
  };

  return {
    name: "contexts",
    control,
    routes(router: Router) {
      router.post("/api/1.2/contexts/create", async (req) => {
        const p = await bodyParams(req);
        const clusterId = str(p, "clusterId");
        const entry = store.create({
          clusterId,
          language: language(p),
          principal: req.principal,
          origin: req.url.origin,
        });
        return ok({ id: entry.id });
      });
      router.get("/api/1.2/contexts/status", (req) => {
        const p = queryParams(req);
        const entry = store.lookup(str(p, "clusterId"), str(p, "contextId"));
        // Databricks answers only id and status; the emulator adds why its python3 never became ready
        // (no IPython, say), since that is the emulator's set-up and not the user's code.
        const why = entry.proc.state === "Error" ? entry.proc.startError : null;
        return ok({ id: entry.id, status: entry.proc.state, ...(why ? { emulator_error: why } : {}) });
      });
      router.post("/api/1.2/contexts/destroy", async (req) => {
        const p = await bodyParams(req);
        const entry = store.lookup(str(p, "clusterId"), str(p, "contextId"));
        store.destroy(entry);
        return ok({ id: entry.id });
      });
      router.post("/api/1.2/commands/execute", async (req) => {
        const p = await bodyParams(req);
        const clusterId = str(p, "clusterId");
        const contextId = str(p, "contextId");
        const lang = language(p);
        const command = str(p, "command", true);
        const entry = store.lookup(clusterId, contextId);
        return ok({ id: store.execute(entry, lang, command).id });
      });
      router.get("/api/1.2/commands/status", (req) => {
        const p = queryParams(req);
        const clusterId = str(p, "clusterId");
        const contextId = str(p, "contextId");
        const commandId = str(p, "commandId");
        const h = store.command(store.lookup(clusterId, contextId), commandId);
        // `results` is left out until there are some, as protobuf JSON leaves out unset messages.
        return ok({ id: h.id, status: h.status, ...(h.results ? { results: h.results } : {}) });
      });
      router.post("/api/1.2/commands/cancel", async (req) => {
        const p = await bodyParams(req);
        const clusterId = str(p, "clusterId");
        const contextId = str(p, "contextId");
        const commandId = str(p, "commandId");
        store.cancel(store.lookup(clusterId, contextId), commandId);
        return ok({ id: commandId });
      });
    },
    controlRoutes(router: Router) {
      const json = (v: unknown) => jsonResponse(200, v);
      router.get("/__emulator/contexts", () => json(control.contexts()));
      router.post("/__emulator/contexts/:id/evict", (req) => json(control.evictContext(req.params.id)));
      router.post("/__emulator/contexts/not-ready", (req) => {
        const b = controlBody(req);
        if (b.cluster_id !== undefined && typeof b.cluster_id !== "string") {
          throw new ControlError(400, "cluster_id must be a string");
        }
        control.setContextsNotReady(b.seconds as number, b.cluster_id as string | undefined);
        return json({ seconds: b.seconds, cluster_id: b.cluster_id ?? null });
      });
      router.get("/__emulator/cancel-outcome", () => json({ outcome: store.cancelOutcome }));
      router.post("/__emulator/cancel-outcome", (req) => {
        control.setCancelOutcome(controlBody(req).outcome as CancelOutcome);
        return json({ outcome: store.cancelOutcome });
      });
    },
    close: () => store.close(),
  };
}
