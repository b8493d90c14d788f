// deno-lint-ignore-file no-console
// Polling benchmark (targets in BENCHMARKS.md): how soon after a command finishes does the waiter notice, and
// how many status requests does it send? Side by side, in one run, against one emulator:
//   - dbxr's waiter: src/poll.ts commandSchedule over src/api (what `dbxr exec` runs);
//   - the official JS SDK's waiter: npm:@databricks/sdk-experimental@0.17.0 commandExecution.execute().wait()
//     (bench-only; never imported by the CLI);
//   - a fixed 50 ms poll over the same client;
// and `dbxr exec` end to end as a subprocess (process start, session lock and files included).
// Usage: deno run -A scripts/bench/polling.ts [--quick]

import * as commands from "../../src/api/commands.ts";
import { benchWorkspace, type Waiter } from "./clients.ts";
import { commandSchedule, poll } from "../../src/poll.ts";
import { denoDir, permissionFlags, ROOT_DIR as ROOT } from "../flags.ts";

const QUICK = Deno.args.includes("--quick");
const DURATIONS = QUICK ? [0.5] : [0.5, 2, 5];
const LATENCIES = QUICK ? [0] : [0, 100];

const flags = permissionFlags();

const { host, token, ctx, client, clusterId, contextId, fixed50, sdkWaiter, statusCount, close } =
  await benchWorkspace();

const ours: Waiter = async (command) => {
  const id = await commands.execute(client, { clusterId, contextId, language: "python", command });
  const o = await poll(ctx, async () => {
    const s = await commands.commandStatus(client, { clusterId, contextId, commandId: id });
    return commands.TERMINAL_COMMAND_STATES.has(s.status) ? { done: true, value: s } : { done: false };
  }, { timeoutMs: 60_000, schedule: commandSchedule });
  if (!o.done) throw new Error("timeout");
};

async function measure(w: Waiter, d: number) {
  // The command measures its own run time, so that the overhead is what the waiter adds.
  const before = await statusCount();
  const t0 = performance.now();
  await w(`import time; time.sleep(${d})`);
  const total = performance.now() - t0;
  return { overheadMs: total - d * 1000, requests: (await statusCount()) - before };
}

const home = await Deno.makeTempDir();
const project = await Deno.makeTempDir();
const env = { HOME: home, DATABRICKS_HOST: host, DATABRICKS_TOKEN: token, PATH: Deno.env.get("PATH") ?? "" };
const cli = (args: string[]) =>
  new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...flags, `${ROOT}main.ts`, "--project-dir", project, ...args],
    env: { ...env, DENO_DIR: denoDir() },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
const created = await cli(["create", "--cluster-id", clusterId, "--session-name", "bench"]);
if (created.code !== 0) throw new Error(new TextDecoder().decode(created.stdout));
let step = 0;
const dbxrExec: Waiter = async (command) => {
  const r = await cli(["exec", "--command", command, "--tag", `b${++step}`]);
  if (r.code !== 0) throw new Error(new TextDecoder().decode(r.stdout));
};

const rows: string[] = [];
try {
  for (const latency of LATENCIES) {
    await fetch(`${host}/__emulator/latency`, { method: "POST", body: JSON.stringify({ ms: latency }) });
    for (const d of DURATIONS) {
      const results: Record<string, { overheadMs: number; requests: number }> = {};
      for (
        const [name, w] of [["dbxr", ours], ["sdk", sdkWaiter], ["fixed50", fixed50], [
          "cli",
          dbxrExec,
        ]] as const
      ) {
        results[name] = await measure(w, d);
      }
      const f = (r: { overheadMs: number; requests: number }) =>
        `${r.overheadMs.toFixed(0)} ms / ${r.requests}`;
      rows.push(
        `| ${d} s | ${latency} ms | ${f(results.dbxr)} | ${f(results.sdk)} | ${f(results.fixed50)} | ` +
          `${(results.sdk.overheadMs / Math.max(1, results.dbxr.overheadMs)).toFixed(1)}× | ${
            f(results.cli)
          } |`,
      );
    }
  }
} finally {
  await fetch(`${host}/__emulator/latency`, { method: "POST", body: JSON.stringify({ ms: 0 }) });
  await cli(["destroy"]);
  await close();
  await Deno.remove(home, { recursive: true });
  await Deno.remove(project, { recursive: true });
}

// The 600 s case, from the schedule itself (running it would take ten minutes).
let t = 0;
let n = 0;
while (true) {
  n++;
  if (t >= 600_000) break;
  t += commandSchedule(t);
}

console.log(`## Polling (${new Date().toISOString().slice(0, 10)})\n`);
console.log(
  "Overhead = time from submit to the waiter's answer minus the command's own run time D; requests = " +
    "`commands/status` calls. One run each, in this order, against one emulator; latency is added by the " +
    "emulator to every response (so each request costs one RTT).\n",
);
console.log(
  "| D | latency | dbxr waiter | JS SDK 0.17.0 waiter | fixed 50 ms | SDK / dbxr overhead | `dbxr exec` (CLI) |",
);
console.log("|---|---|---|---|---|---|---|");
for (const r of rows) console.log(r);
console.log(
  `\nA 600 s command with dbxr's schedule: ${n} status requests, at most ${
    (t - 600_000).toFixed(0)
  } ms past the end (computed from src/poll.ts commandSchedule; target ≤ 200 requests, ≤ 5 s).`,
);
