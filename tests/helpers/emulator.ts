// An in-process emulator for tests: a pinned seed, a clock that moves only when the test advances it, and
// a `call` that sends one request through emulator.handle (no port) and parses the JSON answer.

import { createEmulator, type Emulator, type EmulatorOptions } from "../../src/emulator/emulator.ts";

export const EMULATOR_ORIGIN = "http://emulator.test";

export interface CallResult {
  status: number;
  headers: Headers;
  /** Parsed JSON, or undefined for an empty or non-JSON body (`any`: tests index into API objects freely). */
  // deno-lint-ignore no-explicit-any
  body: any;
  text: string;
}

export interface CallOptions {
  /** A JSON value, or a raw string sent as-is. */
  body?: unknown;
  /** Bearer token; the emulator's PAT by default, null for no Authorization header. */
  token?: string | null;
  headers?: Record<string, string>;
}

export interface TestEmulator {
  emu: Emulator;
  /** Current fake time, epoch ms. */
  now(): number;
  advance(ms: number): void;
  call(method: string, path: string, opts?: CallOptions): Promise<CallResult>;
  get(path: string, opts?: CallOptions): Promise<CallResult>;
  post(path: string, body?: unknown, opts?: CallOptions): Promise<CallResult>;
  /** The seeded cluster with this name. */
  clusterId(name: string): Promise<string>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** 2026-01-15T12:00:00Z */
export const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);

export function testEmulator(opts: EmulatorOptions = {}): TestEmulator {
  let t = T0;
  const emu = createEmulator({ seed: 7, now: () => t, ...opts });
  const call = async (method: string, path: string, o: CallOptions = {}): Promise<CallResult> => {
    const headers: Record<string, string> = { ...o.headers };
    const token = o.token === undefined ? emu.token : o.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (o.body !== undefined) {
      body = typeof o.body === "string" ? o.body : JSON.stringify(o.body);
      headers["content-type"] ??= "application/json";
    }
    const res = await emu.handle(new Request(`${EMULATOR_ORIGIN}${path}`, { method, headers, body }));
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  };
  const te: TestEmulator = {
    emu,
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
    call,
    get: (path, o) => call("GET", path, o),
    post: (path, body, o) => call("POST", path, { ...o, body: body ?? {} }),
    async clusterId(name: string) {
      const r = await call("GET", "/api/2.1/clusters/list");
      const c = (r.body.clusters as { cluster_name: string; cluster_id: string }[]).find((c) =>
        c.cluster_name === name
      );
      if (!c) throw new Error(`no seeded cluster named ${name}`);
      return c.cluster_id;
    },
    [Symbol.asyncDispose]: () => emu.close(),
  };
  return te;
}

/** Uploads a workspace FILE (import-file, overwriting), creating its parent folders. */
export async function uploadFile(te: TestEmulator, path: string, content: string): Promise<void> {
  const parent = path.slice(0, path.lastIndexOf("/"));
  const made = await te.post("/api/2.0/workspace/mkdirs", { path: parent });
  if (made.status !== 200) throw new Error(`mkdirs ${parent}: ${made.status} ${made.text}`);
  const r = await te.call("POST", `/api/2.0/workspace-files/import-file${path}?overwrite=true`, {
    body: content,
    headers: { "content-type": "application/octet-stream" },
  });
  if (r.status !== 200) throw new Error(`import-file ${path}: ${r.status} ${r.text}`);
}
