// An emulator served on a random loopback port in the test process, and a `dbxr` runner pointed at it
// with a private HOME (so no real ~/.databrickscfg is read) and the emulator's token.

import { serve, type ServerArgs } from "../../src/emulator/main.ts";
import type { Emulator } from "../../src/emulator/emulator.ts";
import { type CliOptions, type CliResult, runCli } from "./cli.ts";

export interface Served {
  host: string;
  emulator: Emulator;
  home: string;
  /** Runs dbxr with DATABRICKS_HOST/TOKEN of this emulator (override or drop them through opts.env). */
  dbxr(args: string[], opts?: CliOptions): Promise<CliResult>;
  /** The control API over HTTP, as a user would call it. */
  control(method: string, path: string, body?: unknown): Promise<unknown>;
  /** Requests served so far, per "METHOD path". */
  counts(): Promise<Record<string, number>>;
  /** Stops listening (connections are refused) while the emulator keeps its state and its contexts. */
  stopListening(): Promise<void>;
  /** Listens again on the same port, with the same emulator: a server that went away and came back. */
  listenAgain(): void;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function served(options: ServerArgs["options"] = {}): Promise<Served> {
  const args = { port: 0, options: { seed: 7, timeScale: 50, ...options } };
  let server = serve(args, () => {});
  const port = Number(new URL(server.host).port);
  let listening = true;
  const home = await Deno.makeTempDir({ prefix: "dbxr-test-home-" });
  const baseEnv = { HOME: home, DATABRICKS_HOST: server.host, DATABRICKS_TOKEN: server.emulator.token };
  return {
    host: server.host,
    emulator: server.emulator,
    home,
    dbxr(args, opts = {}) {
      // runCli drops variables set to "" (the way to unset one of baseEnv).
      return runCli(args, { ...opts, env: { ...baseEnv, ...opts.env } });
    },
    async control(method, path, body) {
      const res = await fetch(`${server.host}/__emulator/${path}`, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return text ? JSON.parse(text) : undefined;
    },
    async counts() {
      const res = await fetch(`${server.host}/__emulator/requests/counts`);
      return (await res.json()).counts;
    },
    async stopListening() {
      if (!listening) return;
      listening = false;
      await server.stopListening();
    },
    listenAgain() {
      if (listening) return;
      server = serve({ ...args, port }, () => {}, server.emulator);
      listening = true;
    },
    async [Symbol.asyncDispose]() {
      if (listening) await server.shutdown();
      else await server.emulator.close();
      await Deno.remove(home, { recursive: true });
    },
  };
}

export interface ReplSession {
  /** The project folder (under the test HOME). */
  dir: string;
  cluster: string;
  /** dbxr with `--project-dir` of this session. */
  run(args: string[], opts?: CliOptions): Promise<CliResult>;
}

/** A fresh project folder with a session created on the seeded analytics cluster. */
export async function replSession(s: Served, name = "t", extra: string[] = []): Promise<ReplSession> {
  const dir = await Deno.makeTempDir({ dir: s.home, prefix: "proj-" });
  const cluster = (await s.dbxr(["find-cluster", "--name", "analytics"])).json().cluster_id as string;
  const run = (args: string[], opts?: CliOptions) => s.dbxr([...args, "--project-dir", dir], opts);
  const created = await run(["create", "--cluster-id", cluster, "--session-name", name, ...extra]);
  if (created.code !== 0) {
    throw new Error(`create failed (exit ${created.code}): ${created.stdout}${created.stderr}`);
  }
  return { dir, cluster, run };
}
