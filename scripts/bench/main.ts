// deno-lint-ignore-file no-console
// Benchmarks (the targets are in BENCHMARKS.md). Prints a Markdown report with the machine and date; paste it
// into BENCHMARKS.md. Usage: deno task bench [--runs N]
//
// Cold start: `dbxr --version` and `dbxr cluster list` (against an in-process emulator) as `deno run`
// with the release permission flags and a warm module cache, next to an empty Deno script, so that the
// difference is dbxr's own start-up cost. (A compiled binary skips module loading; it cannot be built here.)

import { parseArgs } from "node:util";
import { serve } from "../../src/emulator/main.ts";
import { permissionFlags, ROOT_DIR as ROOT } from "../flags.ts";

const { values } = parseArgs({ args: Deno.args, options: { runs: { type: "string", default: "15" } } });
const RUNS = Number(values.runs);

const flags = permissionFlags();

async function timeRun(args: string[], env: Record<string, string> = {}): Promise<number> {
  const t0 = performance.now();
  const r = await new Deno.Command(Deno.execPath(), { args, env, stdout: "null", stderr: "piped" }).output();
  const ms = performance.now() - t0;
  if (r.code !== 0) throw new Error(`${args.join(" ")} failed: ${new TextDecoder().decode(r.stderr)}`);
  return ms;
}

async function sample(args: string[], env: Record<string, string> = {}) {
  await timeRun(args, env); // warm the module cache
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await timeRun(args, env));
  times.sort((a, b) => a - b);
  return {
    median: times[Math.floor(times.length / 2)],
    p90: times[Math.floor(times.length * 0.9)],
    min: times[0],
  };
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
const env = { DATABRICKS_HOST: server.host, DATABRICKS_TOKEN: server.emulator.token };
try {
  const baseline = await sample(["run", "--quiet", empty]);
  const version = await sample(["run", "--quiet", ...flags, `${ROOT}main.ts`, "--version"]);
  const list = await sample(["run", "--quiet", ...flags, `${ROOT}main.ts`, "cluster", "list", "--json"], env);
  const row = (name: string, s: typeof baseline) =>
    `| ${name} | ${s.median.toFixed(0)} | ${s.p90.toFixed(0)} | ${(s.median - baseline.median).toFixed(0)} |`;
  console.log(`## Cold start (${new Date().toISOString().slice(0, 10)})\n`);
  console.log(
    `Machine: ${machine()}. ${RUNS} runs each after one warm-up; \`deno run\` with a warm cache.\n`,
  );
  console.log("| command | median ms | p90 ms | over empty script ms |");
  console.log("|---|---|---|---|");
  console.log(row("empty Deno script (baseline)", baseline));
  console.log(row("`dbxr --version`", version));
  console.log(row("`dbxr cluster list` (emulator, 4 clusters)", list));
} finally {
  await server.shutdown();
  await Deno.remove(empty);
}
