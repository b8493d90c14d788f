// deno-lint-ignore-file no-console
// The size of what `dbxr mcp` puts in front of a model on every request (the tools/list answer: every tool's
// name, description and input schema) and how long the server takes to answer `initialize`. Prints the
// Markdown for BENCHMARKS.md. Usage: deno run -A scripts/bench/mcp.ts [--runs N]

import { parseArgs } from "node:util";
import { denoDir, permissionFlags, ROOT_DIR as ROOT } from "../flags.ts";

const { values } = parseArgs({ args: Deno.args, options: { runs: { type: "string", default: "7" } } });
const RUNS = Number(values.runs);
const enc = new TextEncoder();

/** Starts `dbxr mcp`, sends initialize and tools/list; the raw answer lines and the time to initialize. */
async function session(): Promise<{ initMs: number; init: string; list: string }> {
  const dir = await Deno.makeTempDir({ prefix: "dbxr-mcp-bench-" });
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...permissionFlags(), `${ROOT}main.ts`, "mcp", "--project-dir", dir],
    env: { HOME: dir, DENO_DIR: denoDir(), PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const w = child.stdin.getWriter();
  const send = (m: unknown) => w.write(enc.encode(JSON.stringify(m) + "\n"));
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  const next = async () => {
    while (!buf.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) throw new Error("dbxr mcp closed stdout");
      buf += value;
    }
    const i = buf.indexOf("\n");
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    return line;
  };
  await send({
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench", version: "0" } },
  });
  const init = await next();
  const initMs = performance.now() - t0;
  await send({ jsonrpc: "2.0", method: "notifications/initialized" });
  await send({ jsonrpc: "2.0", id: 2, method: "tools/list" });
  const list = await next();
  await w.close();
  await lines.cancel();
  await child.status;
  await Deno.remove(dir, { recursive: true });
  return { initMs, init, list };
}

function machine(): string {
  let cpu = "unknown cpu";
  try {
    cpu = Deno.readTextFileSync("/proc/cpuinfo").match(/model name\s*:\s*(.*)/)?.[1] ?? cpu;
  } catch { /* not Linux */ }
  return `${Deno.build.os}/${Deno.build.arch}, ${navigator.hardwareConcurrency} cores, ${cpu}, deno ${Deno.version.deno}`;
}

await session(); // warm the module cache
const runs = [];
for (let i = 0; i < RUNS; i++) runs.push(await session());
const times = runs.map((r) => r.initMs).sort((a, b) => a - b);
const { init, list } = runs[0];
const tools = JSON.parse(list).result.tools as Array<{ name: string }>;
const bytes = (s: string) => enc.encode(s).length;
const row = (what: string, n: number) => `| ${what} | ${n} | ${Math.round(n / 4)} |`;

console.log(`## MCP server (${new Date().toISOString().slice(0, 10)})\n`);
console.log(`Machine: ${machine()}. \`deno run -A scripts/bench/mcp.ts\`; tokens ≈ bytes / 4.\n`);
console.log("| what | bytes | ≈ tokens |");
console.log("| --- | --- | --- |");
console.log(row("`tools/list` answer (the JSON-RPC message, compact)", bytes(list)));
for (const t of tools) console.log(row(`- tool \`${t.name}\``, bytes(JSON.stringify(t))));
console.log(row("`initialize` answer (with the server's instructions)", bytes(init)));
console.log(
  `\n\`dbxr mcp\` answers \`initialize\` ${
    times[Math.floor(times.length / 2)].toFixed(0)
  } ms (median of ${RUNS}, ` +
    `p90 ${times[Math.floor(times.length * 0.9)].toFixed(0)} ms) after the process starts.`,
);
