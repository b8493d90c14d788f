// deno-lint-ignore-file no-console
// `dbxr exec` as a whole process (issue 9 §3): a command that runs D = 0.5 s, side by side in one run with
// an in-process fixed 50 ms poll (the practical floor: no process, no session files, a poll every 50 ms) and
// the official JS SDK's waiter, in rotating order, R rounds; medians. Then where the CLI's time goes, from
// its own phase marks (DBXR_TRACE_TIMINGS=1, src/trace.ts): process start, module load, lazy imports,
// config, session files and locks, submit, the wait past D, finalize, exit.
// --also DIR adds another checkout of dbxr (e.g. `git archive <commit> | tar -x -C DIR`) to the same rounds,
// for before/after ratios measured side by side.
// Usage: deno run -A scripts/bench/exec.ts [--rounds N] [--d SECONDS] [--also DIR]

import { parseArgs } from "node:util";
import { benchWorkspace } from "./clients.ts";
import { denoDir, ROOT_DIR as ROOT } from "../flags.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "9" },
    d: { type: "string", default: "0.5" },
    also: { type: "string" },
  },
});
const ROUNDS = Number(values.rounds);
const D = Number(values.d);

const { host, token, clusterId, fixed50: fixed50At, sdkWaiter: sdkAt, statusCount, close } =
  await benchWorkspace();

const CODE = `import time; time.sleep(${D})`;

const fixed50 = () => fixed50At(CODE);
const sdkWaiter = () => sdkAt(CODE);

const home = await Deno.makeTempDir();
const project = await Deno.makeTempDir();
const env = {
  HOME: home,
  DATABRICKS_HOST: host,
  DATABRICKS_TOKEN: token,
  PATH: Deno.env.get("PATH") ?? "",
  DENO_DIR: denoDir(),
};
const cliOf = (root: string, dir: string) => (args: string[], extra: Record<string, string> = {}) =>
  new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      ...Deno.readTextFileSync(`${root}/scripts/permission_flags.txt`).split("\n").filter((l) => l.trim()),
      `${root}/main.ts`,
      "--project-dir",
      dir,
      ...args,
    ],
    cwd: root,
    env: { ...env, ...extra },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
const cli = cliOf(ROOT, project);
const otherRoot = values.also;
const otherProject = otherRoot ? await Deno.makeTempDir() : "";
const other = otherRoot ? cliOf(otherRoot, otherProject) : undefined;

type Marks = { spawnedAt: number; endedAt: number; origin: number; marks: Array<[number, string]> };
const traces: Marks[] = [];
const otherTraces: Marks[] = [];
let step = 0;
const tracedExec = (run: typeof cli, into: Marks[], prefix: string) => async () => {
  const spawnedAt = performance.timeOrigin + performance.now();
  const r = await run(["exec", "--command", CODE, "--tag", `${prefix}${++step}`], {
    DBXR_TRACE_TIMINGS: "1",
  });
  const endedAt = performance.timeOrigin + performance.now();
  if (r.code !== 0) throw new Error(new TextDecoder().decode(r.stdout));
  const lines = new TextDecoder().decode(r.stderr).split("\n").filter((l) => l.startsWith("[timing] "));
  const origin = Number(lines.find((l) => l.startsWith("[timing] origin "))!.split(" ")[2]);
  const marks = lines.filter((l) => !l.startsWith("[timing] origin ")).map((l) => {
    const [, t, ...name] = l.split(" ");
    return [Number(t), name.join(" ")] as [number, string];
  });
  into.push({ spawnedAt, endedAt, origin, marks });
};
const cliExec = tracedExec(cli, traces, "b");

for (const c of other ? [cli, other] : [cli]) {
  const created = await c(["create", "--cluster-id", clusterId, "--session-name", "bench"]);
  if (created.code !== 0) throw new Error(new TextDecoder().decode(created.stdout));
}
// The other checkout is traced too (phases that it does not mark show as "–").
const otherExec = other ? tracedExec(other, otherTraces, "o") : async () => {};

const waiters = { fixed50, cli: cliExec, sdk: sdkWaiter, ...(other ? { other: otherExec } : {}) } as const;
type Name = "fixed50" | "cli" | "sdk" | "other";
const results: Record<Name, { ms: number; requests: number }[]> = {
  fixed50: [],
  cli: [],
  sdk: [],
  other: [],
};
const loads: number[] = [];
const load = () => Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
try {
  await cliExec(); // warm-up: module cache, the context's first command
  if (other) await otherExec();
  traces.length = 0;
  otherTraces.length = 0;
  const names = Object.keys(waiters) as Name[];
  for (let round = 0; round < ROUNDS; round++) {
    loads.push(load());
    // Rotating order, so that no waiter always runs right after the same one.
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length];
      const before = await statusCount();
      const t0 = performance.now();
      await (waiters as Record<Name, () => Promise<void>>)[name]();
      results[name].push({ ms: performance.now() - t0, requests: (await statusCount()) - before });
    }
  }
} finally {
  await cli(["destroy"]);
  if (other) {
    await other(["destroy"]);
    await Deno.remove(otherProject, { recursive: true });
  }
  await close();
  await Deno.remove(home, { recursive: true });
  await Deno.remove(project, { recursive: true });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const med = (name: Name) => median(results[name].map((r) => r.ms));
const reqs = (name: Name) => median(results[name].map((r) => r.requests));
const ratios = results.cli.map((r, i) => r.ms / results.fixed50[i].ms);

// Phases of each traced CLI run, in ms; the median of each phase over the rounds.
const first = (m: Marks, name: string) => m.marks.find(([, n]) => n === name)?.[0];
const after = (m: Marks, name: string, t: number) => m.marks.find(([u, n]) => n === name && u >= t)?.[0];
const PHASES: Array<[string, (m: Marks) => number]> = [
  ["process start to the runtime's time origin", (m) => m.origin - m.spawnedAt],
  ["module graph load (cached) and compile", (m) => first(m, "modules:evaluating")!],
  ["module evaluation", (m) => first(m, "main")! - first(m, "modules:evaluating")!],
  [
    "command line read (src/cli/fast.ts; commander's tree for other commands)",
    (m) => first(m, "program:built")! - first(m, "main")!,
  ],
  ["to the command's start", (m) => first(m, "repl:import")! - first(m, "program:built")!],
  ["lazy import of the REPL modules", (m) => first(m, "repl:imported")! - first(m, "repl:import")!],
  [
    "session.json read, config and auth resolved",
    (m) => first(m, "exec:phase1")! - first(m, "repl:imported")!,
  ],
  [
    "phase 1 under the lock (step recorded, .cmd written)",
    (m) => first(m, "exec:submit")! - first(m, "exec:phase1")!,
  ],
  ["submit (POST commands/execute)", (m) => first(m, "exec:phase3")! - first(m, "exec:submit")!],
  [
    "phase 3 under the lock (command id recorded; overlaps the first poll)",
    (m) => (first(m, "exec:recorded") ?? first(m, "exec:wait"))! - first(m, "exec:phase3")!,
  ],
  [
    "submit answered to the first status request",
    (m) =>
      after(m, "http:GET /api/1.2/commands/status", first(m, "exec:phase3")!)! - first(m, "exec:phase3")!,
  ],
  [
    `wait (D = ${D * 1000} ms of it is the command)`,
    (m) => first(m, "exec:finalize")! - first(m, "exec:wait")!,
  ],
  [
    "finalize (outputs written, step recorded)",
    (m) => first(m, "exec:finalized")! - first(m, "exec:finalize")!,
  ],
  ["answer printed, exit (process gone)", (m) => m.endedAt - m.origin - first(m, "exec:finalized")!],
];
const countOf = (m: Marks, prefix: string) => m.marks.filter(([, n]) => n.startsWith(prefix)).length;
const lastPollLate = (m: Marks) => {
  // From the last status request that saw the command running to the one that saw it ended.
  const polls = m.marks.filter(([, n]) => n === "http:GET /api/1.2/commands/status").map(([t]) => t);
  return polls.length >= 2 ? polls.at(-1)! - polls.at(-2)! : 0;
};

const date = new Date().toISOString().replace(/\.\d+Z$/, "Z");
console.log(`## \`dbxr exec\` at D = ${D} s (${date})\n`);
console.log(
  `${ROUNDS} rounds, rotating order, one emulator in the bench process; load average ${
    Math.min(...loads).toFixed(1)
  }–${
    Math.max(...loads).toFixed(1)
  } during the rounds. Time from start to answer (for the CLI: process spawn ` +
    "to exit), medians; requests = `commands/status` calls.\n",
);
console.log("| waiter | median ms | requests | ratio to the fixed 50 ms poll (median of per-round ratios) |");
console.log("|---|---|---|---|");
console.log(
  `| in-process fixed 50 ms poll (floor) | ${med("fixed50").toFixed(0)} | ${reqs("fixed50")} | 1.00× |`,
);
console.log(
  `| \`dbxr exec\` (whole process) | ${med("cli").toFixed(0)} | ${reqs("cli")} | ${
    median(ratios).toFixed(2)
  }× |`,
);
if (other) {
  console.log(
    `| \`dbxr exec\` of ${otherRoot} (whole process) | ${med("other").toFixed(0)} | ${reqs("other")} | ${
      median(results.other.map((r, i) => r.ms / results.fixed50[i].ms)).toFixed(2)
    }× |`,
  );
}
console.log(
  `| JS SDK 0.17.0 waiter (in-process) | ${med("sdk").toFixed(0)} | ${reqs("sdk")} | ${
    median(results.sdk.map((r, i) => r.ms / results.fixed50[i].ms)).toFixed(2)
  }× |`,
);
console.log(
  `\nWhere the \`dbxr exec\` process's time goes (medians over the ${ROUNDS} traced runs; medians of the ` +
    "phases need not add up to the median total):\n",
);
const cell = (ts: Marks[], f: (m: Marks) => number) => {
  const v = median(ts.map(f).filter((x) => Number.isFinite(x)));
  return Number.isFinite(v) ? v.toFixed(1) : "–";
};
const total = (m: Marks) => m.endedAt - m.spawnedAt;
console.log(other ? `| phase | ms | ms of ${otherRoot} |` : "| phase | ms |");
console.log(other ? "|---|---|---|" : "|---|---|");
for (const [name, f] of PHASES) {
  console.log(`| ${name} | ${cell(traces, f)} |${other ? ` ${cell(otherTraces, f)} |` : ""}`);
}
console.log(
  `| total (spawn to exit) | ${cell(traces, total)} |${other ? ` ${cell(otherTraces, total)} |` : ""}`,
);
console.log(
  `\nPer run: ${median(traces.map((m) => countOf(m, "write:") - countOf(m, "write:done")))} atomic writes ` +
    `(each: temp file, fsync, rename, directory fsync), ${
      median(traces.map((m) => countOf(m, "session:read")))
    } session.json reads, ${median(traces.map((m) => countOf(m, "lock:held")))} session-lock holds, ${
      median(traces.map((m) => countOf(m, "http:GET /api/1.2/commands/status")))
    } status requests; the last poll came ${
      median(traces.map(lastPollLate)).toFixed(0)
    } ms after the one before it (bounds the lateness).`,
);
