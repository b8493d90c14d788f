// The fake Databricks workspace as a request handler: createEmulator() -> {handle, control, close}.
// Tests plug handle() into ctx.fetch and need no port; main.ts wraps it in Deno.serve. Every API request
// goes through one pipeline: latency and faults (like a gateway), then authentication, then the route.

import { requiresAuth } from "./auth.ts";
import { clustersModule } from "./clusters.ts";
import { contextsModule } from "./contexts.ts";
import { controlErrorResponse, controlRouter, createControl, type EmulatorControl } from "./control.ts";
import { EmulatorHttpError, endpointNotFound, error12, malformedRequest } from "./errors.ts";
import { droppedResponse, faultResponse } from "./faults.ts";
import { type EmuRequest, jsonResponse, MalformedBody, readRequest } from "./http.ts";
import { jobsModule } from "./jobs.ts";
import { oauthModule } from "./oauth.ts";
import { Router } from "./router.ts";
import { scimModule } from "./scim.ts";
import { servingModule } from "./serving.ts";
import { type EmulatorModule, type EmulatorOptions, EmulatorState } from "./state.ts";
import { unityModule } from "./unity.ts";
import { workspaceModule } from "./workspace.ts";

export type { EmulatorOptions } from "./state.ts";
export type { CoreControl, EmulatorControl, HealthInfo } from "./control.ts";
export type { ContextInfo, ContextsSnapshot, GoneContextInfo } from "./contexts.ts";
export type { JobRunInfo, JobsControl, JobsSnapshot, JobTaskInfo } from "./jobs.ts";
export type { ActiveFault, FaultSpec } from "./faults.ts";
export type { RequestLogEntry } from "./request_log.ts";
export type { ClusterStateSpec } from "./cluster_model.ts";
export type { UnityControl, UnitySnapshot } from "./unity.ts";
export type { WorkspaceFiles, WorkspaceObject } from "./workspace_store.ts";

export interface Emulator {
  /** Answers one request as the workspace would (or as the control API, under /__emulator/). */
  handle(req: Request): Promise<Response>;
  readonly control: EmulatorControl;
  /** Stops pending latency waits and releases every module's resources; idempotent. */
  close(): Promise<void>;
  /** The personal access token of the user dbxr-dev@example.com. */
  readonly token: string;
  /** OAuth M2M client id (the service principal's application id) and secret. */
  readonly clientId: string;
  readonly clientSecret: string;
  /** The workspace id sent as X-Databricks-Org-Id. */
  readonly workspaceId: string;
  readonly baseUrl: string | undefined;
  /** Tells the emulator its own URL once the server knows its port (for OIDC discovery, apiUrl()). */
  setBaseUrl(url: string): void;
  /** Shared state, for route modules and white-box tests. */
  readonly state: EmulatorState;
}

const CONTROL_PREFIX = "/__emulator/";

export function createEmulator(opts: EmulatorOptions = {}): Emulator {
  const state = new EmulatorState(opts);
  const contexts = contextsModule(state);
  const unity = unityModule(state);
  const jobs = jobsModule(state);
  const modules: EmulatorModule[] = [
    oauthModule(state),
    scimModule(state),
    clustersModule(state),
    contexts,
    servingModule(state),
    workspaceModule(state),
    unity,
    jobs,
  ];
  const api = new Router();
  modules.forEach((m) => m.routes(api));
  const control: EmulatorControl = {
    ...createControl(state, () => state.reset()),
    ...contexts.control,
    ...unity.control,
    ...jobs.control,
  };
  const controls = controlRouter(control);
  modules.forEach((m) => m.controlRoutes?.(controls));
  let closing: Promise<void> | undefined;

  async function route(req: EmuRequest): Promise<Response> {
    if (requiresAuth(req.path)) {
      const who = state.credentials.authenticate(
        req.headers.get("authorization"),
        state.now(),
        state.settings.tokenExpirySkewSeconds,
      );
      if (who instanceof EmulatorHttpError) throw who;
      req.principal = who;
      req.auth = state.credentials.credentialKind(req.headers.get("authorization"));
    }
    const match = api.match(req.method, req.path);
    if (!match) {
      if (req.path.startsWith("/api/")) throw endpointNotFound(req.method, req.path);
      // Outside the REST APIs (e.g. /.well-known/databricks-config, which newer SDKs probe) a plain 404.
      return new Response("Not Found", {
        status: 404,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }
    req.params = match.params;
    return await match.handler(req);
  }

  function errorResponse(req: EmuRequest, e: unknown): Response {
    if (e instanceof EmulatorHttpError) return e.toResponse();
    if (e instanceof MalformedBody) {
      return req.path.startsWith("/api/1.2/")
        ? error12(400, e.message).toResponse()
        : malformedRequest(e.message).toResponse();
    }
    // A bug in the emulator: say so in the API's shape rather than crash the server.
    const message = `emulator error: ${e instanceof Error ? e.message : String(e)}`;
    return (req.path.startsWith("/api/1.2/") ? error12(500, message) : new EmulatorHttpError(500, {
      error_code: "INTERNAL_ERROR",
      message,
    })).toResponse();
  }

  async function handleApi(req: EmuRequest): Promise<Response> {
    const arrived = state.now();
    const fault = state.faults.take(req.method, req.path);
    await state.sleep(state.latencyMs + (fault?.latencyMs ?? 0));
    if (fault?.drop && !fault.after) {
      state.requestLog.record(req, arrived, 0, "drop");
      return droppedResponse();
    }
    if (fault?.status !== undefined && !fault.after) {
      const res = faultResponse(fault, req.path);
      state.requestLog.record(req, arrived, res.status, "status");
      return res;
    }
    let res: Response;
    try {
      res = await route(req);
    } catch (e) {
      res = errorResponse(req, e);
    }
    if (fault?.after) {
      // The work is done; only the answer is lost (drop) or replaced (status).
      await res.body?.cancel();
      if (fault.drop) {
        state.requestLog.record(req, arrived, 0, "drop-after");
        return droppedResponse();
      }
      const replaced = faultResponse(fault, req.path);
      state.requestLog.record(req, arrived, replaced.status, "status-after");
      return replaced;
    }
    state.requestLog.record(req, arrived, res.status, fault ? "latency" : undefined);
    return res;
  }

  async function handleControl(req: EmuRequest): Promise<Response> {
    const match = controls.match(req.method, req.path);
    if (!match) return jsonResponse(404, { error: `no control endpoint ${req.method} ${req.path}` });
    req.params = match.params;
    try {
      return await match.handler(req);
    } catch (e) {
      const res = controlErrorResponse(e);
      if (res) return res;
      throw e;
    }
  }

  return {
    async handle(request: Request): Promise<Response> {
      if (state.closed) {
        return jsonResponse(503, {
          error_code: "TEMPORARILY_UNAVAILABLE",
          message: "The emulator has been closed.",
        });
      }
      const req = await readRequest(request);
      return req.path.startsWith(CONTROL_PREFIX) ? await handleControl(req) : await handleApi(req);
    },
    control,
    close() {
      closing ??= (async () => {
        state.close();
        await Promise.all(modules.map((m) => m.close?.()));
      })();
      return closing;
    },
    token: state.credentials.token,
    clientId: state.credentials.clientId,
    clientSecret: state.credentials.clientSecret,
    workspaceId: state.workspaceId,
    get baseUrl() {
      return state.baseUrl;
    },
    setBaseUrl(url: string) {
      state.baseUrl = url.replace(/\/+$/, "");
    },
    state,
  };
}
