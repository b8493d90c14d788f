// deno-lint-ignore-file no-console
// Benchmarks (the targets are in BENCHMARKS.md). Prints a Markdown report with the machine and date; paste it
// into BENCHMARKS.md. Usage: deno task bench [--runs N]
//
// Cold start: `dbxr --version`, `dbxr cluster list` and `dbxr exec` (against an in-process emulator) as
// `deno run` with the release permission flags and a warm module cache, next to an empty Deno script, so
// that the difference is dbxr's own start-up cost; "to first request" is from spawning the process to the
// emulator receiving its first API request. Side by side, when DBXR_BENCH_NODE_SDK names a folder where
// `npm install @databricks/sdk-experimental@0.17.0` was run: node with the official JS SDK (require it;
// list clusters). (A compiled binary skips module loading; it cannot be built here.)

import { parseArgs } from "node:util";
import { serve } from "../../src/emulator/main.ts";
import { denoDir, permissionFlags, ROOT_DIR as ROOT } from "../flags.ts";

const { values } = parseArgs({ args: Deno.args, options: { runs: { type: "string", default: "15" } } });
const RUNS = Number(values.runs);

const flags = permissionFlags();

type Program = { cmd: string; args: string[]; env?: Record<string, string>; cwd?: string };
type Run = { ms: number; firstRequestMs?: number };

async function timeRun(p: Program, host?: string): Promise<Run> {
  if (host) await fetch(`${host}/__emulator/requests`, { method: "DELETE" });
  const spawned = Date.now();
  const t0 = performance.now();
  const r = await new Deno.Command(p.cmd, {
    args: p.args,
    env: p.env,
    cwd: p.cwd,
    stdout: "null",
    stderr: "piped",
  })
    .output();
  const ms = performance.now() - t0;
  if (r.code !== 0) {
    throw new Error(`${p.cmd} ${p.args.join(" ")} failed: ${new TextDecoder().decode(r.stderr)}`);
  }
  if (!host) return { ms };
  const log = (await (await fetch(`${host}/__emulator/requests`)).json()).requests as Array<{ time: number }>;
  return { ms, firstRequestMs: log.length ? log[0].time - spawned : undefined };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

/** Rounds of every program in turn (side by side), after one warm-up run each. */
async function sampleAll(programs: Record<string, Program>, host: string) {
  const runs: Record<string, Run[]> = {};
  for (const [name, p] of Object.entries(programs)) {
    await timeRun(p, p.env?.DATABRICKS_HOST ? host : undefined); // warm the module cache
    runs[name] = [];
  }
  for (let i = 0; i < RUNS; i++) {
    for (const [name, p] of Object.entries(programs)) {
      runs[name].push(await timeRun(p, p.env?.DATABRICKS_HOST ? host : undefined));
    }
  }
  return Object.fromEntries(
    Object.entries(runs).map(([name, rs]) => {
      const first = rs.map((r) => r.firstRequestMs).filter((x): x is number => x !== undefined);
      return [name, {
        median: median(rs.map((r) => r.ms)),
        p90: [...rs.map((r) => r.ms)].sort((a, b) => a - b)[Math.floor(rs.length * 0.9)],
        firstRequest: first.length ? median(first) : undefined,
      }];
    }),
  );
}

function machine(): string {
  const cpu = (() => {
    try {
      return Deno.readTextFileSync("/proc/cpuinfo").match(/model name\s*:\s*(.*)/)?.[1] ?? "unknown cpu";
    } catch {
      return "unknown cpu";
    }
  })();
  return `${Deno.build.os}/${Deno.build.arch}, ${navigator.hardwareConcurrency} cores, ${cpu}, deno ${Deno.version.deno}`;
}

const empty = await Deno.makeTempFile({ suffix: ".ts" });
await Deno.writeTextFile(empty, "");
const server = serve({ port: 0, options: { seed: 1 } }, () => {});
const home = await Deno.makeTempDir();
const project = await Deno.makeTempDir();
const env = {
  HOME: home,
  PATH: Deno.env.get("PATH") ?? "",
  DENO_DIR: denoDir(),
  DATABRICKS_HOST: server.host,
  DATABRICKS_TOKEN: server.emulator.token,
};
const dbxr = (...args: string[]): Program => ({
  cmd: Deno.execPath(),
  args: ["run", "--quiet", ...flags, `${ROOT}main.ts`, ...args],
  env,
});
const nodeDir = Deno.env.get("DBXR_BENCH_NODE_SDK");
const load = () => Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
try {
  const clusterId = (await (await fetch(`${server.host}/api/2.1/clusters/list`, {
    headers: { authorization: `Bearer ${server.emulator.token}` },
  })).json()).clusters.find((c: { state: string }) => c.state === "RUNNING").cluster_id;
  const created = await new Deno.Command(Deno.execPath(), {
    args: [
      ...dbxr("--project-dir", project, "create", "--cluster-id", clusterId, "--session-name", "cold").args,
    ],
    env,
    stdout: "piped",
  }).output();
  if (created.code !== 0) throw new Error(new TextDecoder().decode(created.stdout));
  let tag = 0;
  const programs: Record<string, Program> = {
    empty: { cmd: Deno.execPath(), args: ["run", "--quiet", empty] },
    version: dbxr("--version"),
    list: dbxr("cluster", "list", "--json"),
  };
  Object.defineProperty(programs, "exec", {
    enumerable: true,
    get: () => dbxr("--project-dir", project, "exec", "--tag", `c${++tag}`, "--command", "print(1)"),
  });
  if (nodeDir) {
    await Deno.writeTextFile(
      `${nodeDir}/bench_require.js`,
      'const sdk = require("@databricks/sdk-experimental");\nprocess.stdout.write(String(Object.keys(sdk).length));\n',
    );
    await Deno.writeTextFile(
      `${nodeDir}/bench_list.js`,
      'const { WorkspaceClient } = require("@databricks/sdk-experimental");\n' +
        "(async () => {\n" +
        '  const w = new WorkspaceClient({ host: process.env.DATABRICKS_HOST, token: process.env.DATABRICKS_TOKEN, authType: "pat" });\n' +
        "  const ids = [];\n" +
        "  for await (const c of w.clusters.list({})) ids.push(c.cluster_id);\n" +
        '  process.stdout.write(JSON.stringify(ids) + "\\n");\n' +
        "})().catch((e) => { console.error(e); process.exit(1); });\n",
    );
    const node = (script?: string): Program => ({
      cmd: "node",
      args: script ? [script] : ["-e", ""],
      env,
      cwd: nodeDir,
    });
    programs.nodeEmpty = { ...node(), env: {} };
    programs.nodeRequire = { ...node("bench_require.js"), env: {} };
    programs.nodeList = node("bench_list.js");
  }
  const before = load();
  const r = await sampleAll(programs, server.host);
  const after = load();
  const f = (x: number | undefined) => x === undefined ? "—" : x.toFixed(0);
  const row = (name: string, key: string, base: string) =>
    `| ${name} | ${f(r[key].median)} | ${f(r[key].p90)} | ${f(r[key].median - r[base].median)} | ${
      f(r[key].firstRequest)
    } |`;
  const nodeVersion = nodeDir
    ? new TextDecoder().decode(
      (await new Deno.Command("node", { args: ["--version"], stdout: "piped" }).output()).stdout,
    )
      .trim()
    : "";
  console.log(`## Cold start (${new Date().toISOString().replace(/\.\d+Z$/, "Z")})\n`);
  console.log(
    `Machine: ${machine()}${
      nodeDir ? `, node ${nodeVersion}` : ""
    }. ${RUNS} rounds of every command in turn ` +
      `after one warm-up each; \`deno run\` with a warm cache; load average ${before.toFixed(1)} before, ` +
      `${after.toFixed(1)} after.\n`,
  );
  console.log("| command | median ms | p90 ms | over the empty script ms | spawn to first request ms |");
  console.log("|---|---|---|---|---|");
  console.log(row("empty Deno script (baseline)", "empty", "empty"));
  console.log(row("`dbxr --version`", "version", "empty"));
  console.log(row("`dbxr cluster list` (emulator)", "list", "empty"));
  console.log(row('`dbxr exec --command "print(1)"` (emulator)', "exec", "empty"));
  if (nodeDir) {
    console.log(row("empty node script (baseline)", "nodeEmpty", "nodeEmpty"));
    console.log(row("node: require the JS SDK 0.17.0", "nodeRequire", "nodeEmpty"));
    console.log(row("node: JS SDK client, `clusters.list` (emulator)", "nodeList", "nodeEmpty"));
  }
} finally {
  await server.shutdown();
  await Deno.remove(empty);
  await Deno.remove(home, { recursive: true });
  await Deno.remove(project, { recursive: true });
}
