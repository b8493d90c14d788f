// Clusters API routes (docs/databricks-behaviour.md §3), served under /api/2.1/clusters and the older
// /api/2.0/clusters with the same handlers. The state machine and validation live in cluster_model.ts.

import { NODE_TYPES, SPARK_VERSIONS } from "./cluster_catalog.ts";
import {
  CLUSTER_SOURCES,
  CLUSTER_STATES,
  type ClusterRecord,
  type ClusterState,
  userRequest,
} from "./cluster_model.ts";
import { invalidParameter } from "./errors.ts";
import { type EmuRequest, ok } from "./http.ts";
import type { Router } from "./router.ts";
import type { EmulatorModule, EmulatorState } from "./state.ts";

const MAX_PAGE_SIZE = 100;
/** "Returns pinned + active + terminated within 30 days." */
const LIST_WINDOW_MS = 30 * 24 * 3_600_000;

const STATE_ORDER: Record<ClusterState, number> = {
  PENDING: 0,
  RUNNING: 1,
  RESTARTING: 2,
  RESIZING: 3,
  TERMINATING: 4,
  ERROR: 5,
  UNKNOWN: 6,
  TERMINATED: 7,
};

function enumFilter<T extends string>(
  req: EmuRequest,
  name: string,
  allowed: readonly T[],
): Set<T> | undefined {
  // Repeated keys are the wire form; a comma list is accepted too because curl users write it.
  const values = req.query.getAll(name).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
  if (values.length === 0) return undefined;
  for (const v of values) {
    if (!(allowed as readonly string[]).includes(v)) {
      throw invalidParameter(
        `Invalid value '${v}' for parameter ${name}. Allowed values: ${allowed.join(", ")}`,
      );
    }
  }
  return new Set(values as T[]);
}

const encodeToken = (offset: number) => btoa(`offset:${offset}`).replace(/=+$/, "");

function decodeToken(token: string): number {
  try {
    const m = /^offset:(\d+)$/.exec(atob(token));
    if (m) return Number(m[1]);
  } catch { /* falls through to the error */ }
  throw invalidParameter(`Invalid page_token: ${token}`);
}

function pageSize(req: EmuRequest): number {
  const raw = req.query.get("page_size");
  if (raw === null || raw === "") return MAX_PAGE_SIZE;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw invalidParameter(`Invalid page_size: ${raw}`);
  return n === 0 ? MAX_PAGE_SIZE : Math.min(n, MAX_PAGE_SIZE);
}

function sortClusters(list: ClusterRecord[], req: EmuRequest): ClusterRecord[] {
  const field = req.query.get("sort_by.field") ?? "DEFAULT";
  const direction = req.query.get("sort_by.direction") ?? "ASC";
  if (!["DEFAULT", "CLUSTER_NAME"].includes(field)) {
    throw invalidParameter(
      `Invalid value '${field}' for parameter sort_by.field. Allowed values: DEFAULT, CLUSTER_NAME`,
    );
  }
  if (!["ASC", "DESC"].includes(direction)) {
    throw invalidParameter(
      `Invalid value '${direction}' for parameter sort_by.direction. Allowed values: ASC, DESC`,
    );
  }
  const name = (c: ClusterRecord) => String(c.spec.cluster_name ?? "").toLowerCase();
  const sign = direction === "DESC" ? -1 : 1;
  return [...list].sort((a, b) => {
    const byState = field === "DEFAULT" ? STATE_ORDER[a.state] - STATE_ORDER[b.state] : 0;
    return sign * (byState || name(a).localeCompare(name(b)) || a.id.localeCompare(b.id));
  });
}

export function clustersModule(state: EmulatorState): EmulatorModule {
  const store = state.clusters;
  const caller = (req: EmuRequest) => req.principal?.userName ?? state.credentials.user.userName;

  const visible = (req: EmuRequest) => {
    const now = state.now();
    let list = store.all().filter((c) =>
      c.state !== "TERMINATED" || now - (c.terminatedTime ?? now) <= LIST_WINDOW_MS
    );
    const states = enumFilter(req, "filter_by.cluster_states", CLUSTER_STATES);
    const sources = enumFilter(req, "filter_by.cluster_sources", CLUSTER_SOURCES);
    const policy = req.query.get("filter_by.policy_id");
    const pinned = req.query.get("filter_by.is_pinned");
    if (states) list = list.filter((c) => states.has(c.state));
    if (sources) list = list.filter((c) => sources.has(c.source));
    if (policy) list = list.filter((c) => c.spec.policy_id === policy);
    // No cluster of the emulator is pinned.
    if (pinned === "true") list = [];
    return sortClusters(list, req);
  };

  /** Protobuf-style JSON: an empty list is left out of the body rather than sent as []. */
  const withClusters = (page: ClusterRecord[]) =>
    page.length ? { clusters: page.map((c) => store.details(c)) } : {};

  const list21 = (req: EmuRequest) => {
    const all = visible(req);
    const size = pageSize(req);
    const token = req.query.get("page_token");
    const offset = token ? decodeToken(token) : 0;
    const page = all.slice(offset, offset + size);
    const end = offset + page.length;
    return ok({
      ...withClusters(page),
      next_page_token: end < all.length ? encodeToken(end) : "",
      prev_page_token: offset > 0 ? encodeToken(Math.max(0, offset - size)) : "",
    });
  };

  // 2.0 has no paging: everything in one answer.
  const list20 = (req: EmuRequest) => ok(withClusters(visible(req)));

  const routes = (router: Router, version: "2.0" | "2.1") => {
    const p = `/api/${version}/clusters`;
    router.get(`${p}/list`, version === "2.1" ? list21 : list20);
    router.get(`${p}/get`, (req) => ok(store.details(store.get(req.query.get("cluster_id") ?? ""))));
    router.get(`${p}/spark-versions`, () => ok({ versions: SPARK_VERSIONS }));
    router.get(`${p}/list-node-types`, () => ok({ node_types: NODE_TYPES }));
    router.post(`${p}/create`, (req) => {
      const rec = store.create(req.json(), { source: "API", creator: caller(req) });
      return ok({ cluster_id: rec.id });
    });
    router.post(`${p}/edit`, (req) => {
      const body = req.json();
      store.edit(body.cluster_id, body);
      return ok();
    });
    router.post(`${p}/start`, (req) => {
      store.start(req.json().cluster_id);
      return ok();
    });
    router.post(`${p}/restart`, (req) => {
      store.restart(req.json().cluster_id);
      return ok();
    });
    router.post(`${p}/delete`, (req) => {
      store.terminate(req.json().cluster_id, userRequest(caller(req)));
      return ok();
    });
    router.post(`${p}/permanent-delete`, (req) => {
      store.permanentDelete(req.json().cluster_id);
      return ok();
    });
    router.post(`${p}/resize`, (req) => {
      const body = req.json();
      store.resize(body.cluster_id, body);
      return ok();
    });
  };

  return {
    name: "clusters",
    routes(router: Router) {
      routes(router, "2.1");
      routes(router, "2.0");
    },
  };
}
