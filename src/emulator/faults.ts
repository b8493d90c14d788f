// Injected failures, as data (the shape of databricks/cli libs/testserver/fault.go): a match, what to do
// (a status with a body, a dropped connection, extra latency) and how many times. Faults sit in front of
// authentication and routing, like a gateway that fails before the request reaches the API.

import { reasonFor } from "./errors.ts";

export interface FaultSpec {
  /**
   * `"GET /api/2.1/clusters/get"` (exact path; a trailing `*` matches a prefix; `*` as the method or no
   * method matches any), or `{method?, path_regex}` / `{method?, path}`.
   */
  match: string | { method?: string; path_regex?: string; path?: string };
  /** Answer with this status (429, 503, 500, ...) and `body` or Databricks' default body for it. */
  status?: number;
  /** A JSON value, or a string sent as-is. */
  body?: unknown;
  /** Seconds, sent as `Retry-After` (429 defaults to 1; `false`: no header, a throttle without a hint). */
  retry_after?: number | false;
  retryAfter?: number | false;
  /** Drop the connection: headers go out, then the body stream fails, so the client's read throws. */
  drop?: boolean;
  /**
   * Apply `drop` or `status` AFTER the route has done its work: the request reached the API (a command was
   * submitted, a run created) and only the answer is lost or replaced, as when a proxy fails on the way back.
   */
  after?: boolean;
  /** Delay the answer (alone: the request then proceeds normally). */
  latency_ms?: number;
  latencyMs?: number;
  /** How many matching requests the fault hits (default 1). */
  times?: number;
  /** Let this many matching requests through first (default 0). */
  skip?: number;
}

/** A fault as the control API reports it. */
export interface ActiveFault {
  id: number;
  match: string;
  status?: number;
  drop?: boolean;
  after?: boolean;
  latency_ms?: number;
  retry_after?: number;
  /** Hits left. */
  remaining: number;
  /** Matching requests still to let through before hitting. */
  skip: number;
}

export class FaultSpecError extends TypeError {
  override name = "FaultSpecError";
}

export interface Fault {
  readonly id: number;
  readonly description: string;
  readonly method?: string;
  readonly test: (path: string) => boolean;
  readonly status?: number;
  readonly body?: unknown;
  readonly retryAfter?: number;
  readonly drop: boolean;
  readonly after: boolean;
  readonly latencyMs: number;
  remaining: number;
  skip: number;
}

const nonNegative = (v: unknown, name: string): number | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw new FaultSpecError(`fault ${name} must be a non-negative number, got ${JSON.stringify(v)}`);
  }
  return v;
};

function parseMatch(
  match: unknown,
): { method?: string; test: (path: string) => boolean; description: string } {
  if (typeof match === "string") {
    const trimmed = match.trim();
    const space = trimmed.indexOf(" ");
    const method = space < 0 ? undefined : trimmed.slice(0, space).toUpperCase();
    const path = space < 0 ? trimmed : trimmed.slice(space + 1).trim();
    if (!path.startsWith("/")) {
      throw new FaultSpecError(`fault match needs a path starting with '/': ${match}`);
    }
    const test = path.endsWith("*")
      ? (p: string) => p.startsWith(path.slice(0, -1))
      : (p: string) => p === path;
    return { method: method === "*" ? undefined : method, test, description: trimmed };
  }
  if (typeof match === "object" && match !== null) {
    const m = match as { method?: unknown; path_regex?: unknown; path?: unknown };
    const method = typeof m.method === "string" && m.method !== "*" ? m.method.toUpperCase() : undefined;
    if (typeof m.path_regex === "string") {
      let re: RegExp;
      try {
        re = new RegExp(m.path_regex);
      } catch (e) {
        throw new FaultSpecError(
          `fault path_regex is not a valid regular expression: ${(e as Error).message}`,
        );
      }
      return { method, test: (p) => re.test(p), description: `${method ?? "*"} ~${m.path_regex}` };
    }
    if (typeof m.path === "string") {
      return { ...parseMatch(`${method ?? "*"} ${m.path}`), method };
    }
  }
  throw new FaultSpecError(
    `fault match must be "METHOD /path" or {method?, path_regex}: ${JSON.stringify(match)}`,
  );
}

export function parseFault(spec: unknown, id: number): Fault {
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
    throw new FaultSpecError(`a fault must be an object, got ${JSON.stringify(spec)}`);
  }
  const s = spec as FaultSpec;
  const { method, test, description } = parseMatch(s.match);
  const status = nonNegative(s.status, "status");
  if (status !== undefined && (!Number.isInteger(status) || status < 200 || status > 599)) {
    throw new FaultSpecError(`fault status must be an HTTP status (200-599), got ${status}`);
  }
  const drop = s.drop === true;
  const latencyMs = nonNegative(s.latency_ms ?? s.latencyMs, "latency_ms") ?? 0;
  if (status === undefined && !drop && latencyMs === 0) {
    throw new FaultSpecError("a fault needs at least one of status, drop or latency_ms");
  }
  if (status !== undefined && drop) throw new FaultSpecError("a fault cannot both answer a status and drop");
  const after = s.after === true;
  if (after && status === undefined && !drop) throw new FaultSpecError("after needs drop or status");
  const times = nonNegative(s.times, "times") ?? 1;
  if (!Number.isInteger(times) || times < 1) {
    throw new FaultSpecError(`fault times must be a positive integer (use a large number for "always")`);
  }
  const skip = nonNegative(s.skip, "skip") ?? 0;
  const rawRetryAfter = s.retry_after ?? s.retryAfter;
  let retryAfter = rawRetryAfter === false ? undefined : nonNegative(rawRetryAfter, "retry_after");
  if (retryAfter === undefined && status === 429 && rawRetryAfter !== false) retryAfter = 1;
  return {
    id,
    description,
    method,
    test,
    status,
    body: s.body,
    retryAfter,
    drop,
    after,
    latencyMs,
    remaining: times,
    skip,
  };
}

export class FaultList {
  #faults: Fault[] = [];
  #nextId = 1;

  /** Adds one spec or a list; all are validated before any is added. */
  add(specs: unknown): ActiveFault[] {
    const list = Array.isArray(specs) ? specs : [specs];
    const parsed = list.map((s) => parseFault(s, this.#nextId++));
    this.#faults.push(...parsed);
    return parsed.map(describe);
  }

  clear(): void {
    this.#faults = [];
  }

  list(): ActiveFault[] {
    return this.#faults.map(describe);
  }

  /** The first fault that matches and is due, with its counters advanced; used-up faults are removed. */
  take(method: string, path: string): Fault | undefined {
    for (const f of this.#faults) {
      if (f.method && f.method !== method) continue;
      if (!f.test(path)) continue;
      if (f.skip > 0) {
        f.skip--;
        return undefined;
      }
      f.remaining--;
      if (f.remaining <= 0) this.#faults = this.#faults.filter((x) => x !== f);
      return f;
    }
    return undefined;
  }
}

function describe(f: Fault): ActiveFault {
  const out: ActiveFault = { id: f.id, match: f.description, remaining: f.remaining, skip: f.skip };
  if (f.status !== undefined) out.status = f.status;
  if (f.drop) out.drop = true;
  if (f.after) out.after = true;
  if (f.latencyMs) out.latency_ms = f.latencyMs;
  if (f.retryAfter !== undefined) out.retry_after = f.retryAfter;
  return out;
}

/** "ClustersGet" for /api/2.1/clusters/get: the RPC name that Databricks puts in its throttling message. */
function rpcName(path: string): string {
  return path.replace(/^\/api\/\d+\.\d+\//, "").split("/").filter((s) => /^[a-z][a-z-]*$/i.test(s))
    .map((s) => s.split("-").map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("")).join("");
}

function defaultMessage(status: number, path: string): string {
  if (status === 429) return `${rpcName(path) || "Api"}Request RPC token bucket limit has been exceeded.`;
  if (status === 503) return `The service at ${path} is temporarily unavailable. Please try again later.`;
  return reasonFor(status).phrase;
}

/** The answer of a status fault: the given body, or Databricks' shape for the path (1.2 or 2.x). */
export function faultResponse(f: Fault, path: string): Response {
  const status = f.status ?? 500;
  const headers: Record<string, string> = {};
  if (f.retryAfter !== undefined) headers["retry-after"] = String(Math.ceil(f.retryAfter));
  let text: string;
  let type = "application/json";
  if (typeof f.body === "string") {
    text = f.body;
    try {
      JSON.parse(text);
    } catch {
      type = "text/plain; charset=utf-8";
    }
  } else if (f.body !== undefined) {
    text = JSON.stringify(f.body);
  } else {
    const message = defaultMessage(status, path);
    text = JSON.stringify(
      path.startsWith("/api/1.2/") ? { error: message } : { error_code: reasonFor(status).code, message },
    );
  }
  return new Response(text, { status, headers: { ...headers, "content-type": type } });
}

/** The error a dropped response's body stream fails with; the server entry keeps it out of its log. */
export class DroppedConnection extends Error {
  override name = "DroppedConnection";
}

/**
 * A response whose body stream errors: over HTTP the status line and headers go out and then the
 * connection breaks mid-body; in process, reading the body throws. Either way the client sees a
 * network failure, as when a load balancer drops the connection.
 */
export function droppedResponse(): Response {
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.error(new DroppedConnection("connection dropped by an injected fault"));
    },
  });
  return new Response(body, { status: 200, headers: { "content-type": "application/json" } });
}
