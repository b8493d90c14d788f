// The control API: how tests and users steer the fake workspace. The same operations exist on the
// `control` object (in-process tests) and under /__emulator/ (JSON in and out, no auth). Every endpoint
// is listed in README.md.

import {
  CLUSTER_STATES,
  type ClusterState,
  type ClusterStateSpec,
  type TerminationReason,
} from "./cluster_model.ts";
import type { ContextsControl } from "./contexts.ts";
import type { JobsControl } from "./jobs.ts";
import type { UnityControl } from "./unity.ts";
import { type ActiveFault, type FaultSpec, FaultSpecError } from "./faults.ts";
import { type EmuRequest, jsonResponse } from "./http.ts";
import type { RequestLogEntry } from "./request_log.ts";
import { Router } from "./router.ts";
import type { EmulatorState } from "./state.ts";

export interface HealthInfo {
  status: "ok";
  /** Emulator clock, epoch ms. */
  now: number;
  seed: number;
  time_scale: number;
  latency_ms: number;
  max_contexts: number;
  clusters: number;
  faults: number;
}

/** The control operations on the shared state; modules add theirs (EmulatorControl is the whole set). */
export interface CoreControl {
  health(): HealthInfo;
  /** Puts a cluster in a state now (see ClusterStateSpec); returns its ClusterDetails. */
  setClusterState(clusterId: string, spec: ClusterStateSpec): Record<string, unknown>;
  /** Adds faults (one or a list); returns them as now active. */
  fault(spec: FaultSpec | FaultSpec[]): ActiveFault[];
  faults(): ActiveFault[];
  clearFaults(): void;
  /** Latency added to every API response from now on. */
  setLatency(ms: number): void;
  requests(): RequestLogEntry[];
  /** Requests per "METHOD path", e.g. {"GET /api/2.1/clusters/get": 3}. */
  requestCounts(): Record<string, number>;
  clearRequests(): void;
  /** Back to the seed state: clusters, faults, request log, latency, and every module's data. */
  reset(): void;
}

export interface EmulatorControl extends CoreControl, ContextsControl, UnityControl, JobsControl {}

/** A refused control call; over HTTP it is `{"error": message}` with this status. */
export class ControlError extends Error {
  constructor(readonly status: 400 | 404, message: string) {
    super(message);
    this.name = "ControlError";
  }
}

const isState = (v: unknown): v is ClusterState => (CLUSTER_STATES as readonly unknown[]).includes(v);

function parseStateSpec(raw: unknown): ClusterStateSpec {
  if (typeof raw !== "object" || raw === null) throw new ControlError(400, "expected a JSON object");
  const r = raw as Record<string, unknown>;
  const states = CLUSTER_STATES.join(", ");
  if (!isState(r.state)) throw new ControlError(400, `state must be one of ${states}`);
  const spec: ClusterStateSpec = { state: r.state };
  if (r.state_message !== undefined) {
    if (typeof r.state_message !== "string") throw new ControlError(400, "state_message must be a string");
    spec.state_message = r.state_message;
  }
  if (r.termination_reason !== undefined) {
    const t = r.termination_reason as Partial<TerminationReason> | null;
    if (typeof t !== "object" || t === null || typeof t.code !== "string") {
      throw new ControlError(400, "termination_reason must be an object with a string code");
    }
    spec.termination_reason = {
      code: t.code,
      type: t.type ?? "SUCCESS",
      ...(t.parameters ? { parameters: t.parameters } : {}),
    };
  }
  if (r.next_state !== undefined) {
    if (!isState(r.next_state)) throw new ControlError(400, `next_state must be one of ${states}`);
    spec.next_state = r.next_state;
  }
  if (r.next_after_ms !== undefined) {
    if (typeof r.next_after_ms !== "number" || !(r.next_after_ms >= 0)) {
      throw new ControlError(400, "next_after_ms must be a non-negative number");
    }
    if (spec.next_state === undefined) throw new ControlError(400, "next_after_ms needs next_state");
    spec.next_after_ms = r.next_after_ms;
  }
  if (r.hold !== undefined) {
    if (typeof r.hold !== "boolean") throw new ControlError(400, "hold must be a boolean");
    if (r.hold && spec.next_state) throw new ControlError(400, "hold and next_state exclude each other");
    spec.hold = r.hold;
  }
  return spec;
}

export function createControl(state: EmulatorState, resetAll: () => void): CoreControl {
  const guard = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof FaultSpecError) throw new ControlError(400, e.message);
      throw e;
    }
  };
  return {
    health: () => ({
      status: "ok",
      now: state.now(),
      seed: state.settings.seed,
      time_scale: state.settings.timeScale,
      latency_ms: state.latencyMs,
      max_contexts: state.settings.maxContexts,
      clusters: state.clusters.all().length,
      faults: state.faults.list().length,
    }),
    setClusterState(clusterId, spec) {
      const parsed = parseStateSpec(spec);
      if (!state.clusters.find(clusterId)) throw new ControlError(404, `no cluster ${clusterId}`);
      return state.clusters.details(state.clusters.setState(clusterId, parsed));
    },
    fault: (spec) => guard(() => state.faults.add(spec)),
    faults: () => state.faults.list(),
    clearFaults: () => state.faults.clear(),
    setLatency(ms) {
      if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) {
        throw new ControlError(400, "ms must be a non-negative number");
      }
      state.latencyMs = ms;
    },
    requests: () => state.requestLog.entries(),
    requestCounts: () => state.requestLog.counts(),
    clearRequests: () => state.requestLog.clear(),
    reset: resetAll,
  };
}

/**
 * The HTTP face of the control API, under /__emulator/:
 *
 *   GET    /__emulator/health                 {"status":"ok", now, seed, time_scale, latency_ms, ...}
 *   POST   /__emulator/clusters/{id}/state    {"state", "state_message"?, "termination_reason"?,
 *                                              "next_state"?, "next_after_ms"?, "hold"?} -> ClusterDetails
 *   GET    /__emulator/faults                 {"faults": [...]}
 *   POST   /__emulator/faults                 a fault spec, a list of them, or {"faults": [...]} -> {"faults"}
 *   DELETE /__emulator/faults                 {}
 *   POST   /__emulator/latency                {"ms"} -> {"ms"}
 *   GET    /__emulator/requests               {"requests": [...]}
 *   GET    /__emulator/requests/counts        {"counts": {"METHOD path": n}}
 *   DELETE /__emulator/requests               {}
 *   POST   /__emulator/reset                  {}
 *
 * Modules add their own control routes to the same router (EmulatorModule.controlRoutes).
 */
/** A control request's JSON object body ({} when empty); anything else is a 400 ControlError. */
export function controlBody(req: EmuRequest): Record<string, unknown> {
  const text = req.text().trim();
  if (text === "") return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new ControlError(400, "the body is not valid JSON");
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new ControlError(400, "expected a JSON object");
  }
  return v as Record<string, unknown>;
}

export function controlRouter(control: CoreControl): Router {
  const router = new Router();
  const body = (req: EmuRequest) => {
    try {
      return req.text().trim() === "" ? {} : JSON.parse(req.text());
    } catch {
      throw new ControlError(400, "the body is not valid JSON");
    }
  };
  const ok = (value: unknown = {}) => jsonResponse(200, value);
  router.get("/__emulator/health", () => ok(control.health()));
  router.post(
    "/__emulator/clusters/:id/state",
    (req) => ok(control.setClusterState(req.params.id, body(req))),
  );
  router.get("/__emulator/faults", () => ok({ faults: control.faults() }));
  router.post("/__emulator/faults", (req) => {
    const b = body(req);
    const specs = typeof b === "object" && b !== null && !Array.isArray(b) && "faults" in b ? b.faults : b;
    control.fault(specs);
    return ok({ faults: control.faults() });
  });
  router.add("DELETE", "/__emulator/faults", () => {
    control.clearFaults();
    return ok();
  });
  router.post("/__emulator/latency", (req) => {
    control.setLatency((body(req) as { ms?: unknown }).ms as number);
    return ok({ ms: control.health().latency_ms });
  });
  router.get("/__emulator/requests", () => ok({ requests: control.requests() }));
  router.get("/__emulator/requests/counts", () => ok({ counts: control.requestCounts() }));
  router.add("DELETE", "/__emulator/requests", () => {
    control.clearRequests();
    return ok();
  });
  router.post("/__emulator/reset", () => {
    control.reset();
    return ok();
  });
  return router;
}

export function controlErrorResponse(e: unknown): Response | undefined {
  if (e instanceof ControlError) return jsonResponse(e.status, { error: e.message });
  if (e instanceof FaultSpecError) return jsonResponse(400, { error: e.message });
  return undefined;
}
