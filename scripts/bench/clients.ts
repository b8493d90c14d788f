// What the polling and exec benchmarks share: an in-process dbxr API client and the official JS SDK's
// client against one emulator, and the emulator's running cluster. Bench-only.

import { WorkspaceClient } from "@databricks/sdk-experimental";
import { ApiClient, createSend } from "../../src/api/http.ts";
import { type Ctx, sleepWithSignal } from "../../src/ctx.ts";
import { Output } from "../../src/output.ts";

export function benchClients(host: string, token: string) {
  const ctx: Ctx = {
    env: () => undefined,
    fetch: (r) => fetch(r),
    now: () => performance.now(),
    sleep: sleepWithSignal,
    readTextFile: () => Promise.resolve(undefined),
    writeTextFile: () => Promise.reject(new Error("no")),
    readStdin: () => Promise.resolve(""),
    run: () => Promise.reject(new Error("no")),
    signal: new AbortController().signal,
    random: Math.random,
    stdoutIsTty: false,
    stderrIsTty: false,
    out: new Output({ stdout: () => {}, stderr: () => {}, stdoutIsTty: false, stderrIsTty: false }),
  };
  const credentials = { authType: "pat", header: () => Promise.resolve(`Bearer ${token}`), invalidate() {} };
  const send = createSend(ctx, { userAgent: "dbxr-bench" });
  const client = new ApiClient(ctx, { host, credentials, userAgent: "dbxr-bench", send });
  const sdk = new WorkspaceClient({ host, token, authType: "pat" });
  return { ctx, client, sdk };
}

/** The id of a RUNNING cluster of the emulator. */
export async function runningClusterId(host: string, token: string): Promise<string> {
  const r = await fetch(`${host}/api/2.1/clusters/list`, { headers: { authorization: `Bearer ${token}` } });
  const clusters = (await r.json()).clusters as Array<{ state: string; cluster_id: string }>;
  return clusters.find((c) => c.state === "RUNNING")!.cluster_id;
}
