// What the polling and exec benchmarks share: one emulator with a running Python context, dbxr's
// in-process API client and the official JS SDK's client against it, and the two reference waiters that
// dbxr is measured against (a fixed 50 ms poll, the SDK's own waiter). Bench-only.

import { WorkspaceClient } from "@databricks/sdk-experimental";
import * as commands from "../../src/api/commands.ts";
import { ApiClient, createSend } from "../../src/api/http.ts";
import { type Ctx, sleepWithSignal } from "../../src/ctx.ts";
import { serve } from "../../src/emulator/main.ts";
import { Output } from "../../src/output.ts";
import { poll } from "../../src/poll.ts";

export type Waiter = (command: string) => Promise<void>;

export async function benchWorkspace() {
  const server = serve({ port: 0, options: { seed: 1 } }, () => {});
  const { host } = server;
  const token = server.emulator.token;
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

  const list = await fetch(`${host}/api/2.1/clusters/list`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const clusters = (await list.json()).clusters as Array<{ state: string; cluster_id: string }>;
  const clusterId = clusters.find((c) => c.state === "RUNNING")!.cluster_id;
  const contextId = await commands.createContext(client, clusterId, "python");
  await poll(ctx, async () => {
    const s = await commands.contextStatus(client, clusterId, contextId);
    return s.status === "Running" ? { done: true, value: 1 } : { done: false };
  }, { timeoutMs: 60_000, schedule: () => 100 });

  /** A fixed 50 ms poll, in process: the practical floor. */
  const fixed50: Waiter = async (command) => {
    const id = await commands.execute(client, { clusterId, contextId, language: "python", command });
    while (true) {
      const s = await commands.commandStatus(client, { clusterId, contextId, commandId: id });
      if (commands.TERMINAL_COMMAND_STATES.has(s.status)) return;
      await sleepWithSignal(50);
    }
  };
  /** The official JS SDK's waiter. */
  const sdkWaiter: Waiter = async (command) => {
    const waiter = await sdk.commandExecution.execute({ clusterId, contextId, language: "python", command });
    await waiter.wait();
  };

  return {
    server,
    host,
    token,
    ctx,
    client,
    clusterId,
    contextId,
    fixed50,
    sdkWaiter,
    /** `commands/status` requests the emulator has served so far. */
    async statusCount(): Promise<number> {
      const r = await fetch(`${host}/__emulator/requests/counts`);
      return (await r.json()).counts["GET /api/1.2/commands/status"] ?? 0;
    },
    async close() {
      await commands.destroyContext(client, clusterId, contextId).catch(() => {});
      await server.shutdown();
    },
  };
}
