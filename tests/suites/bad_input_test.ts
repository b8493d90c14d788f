// Bad input and secrets suite (issue 9 §2): a fuzz pass over every flag, positional argument and file input,
// generated from the command tree itself (buildProgram walked like the completion model), and over hostile
// API bodies (wrong types, huge, HTML, invalid JSON, truncated) injected by the emulator's faults. Every run
// ends with exit 0 or a coded JSON error (a contract code with its exit code), never a stack trace or
// "internal error", never a hang, and nothing is written outside the project folder. Every run is also
// scanned for the token it was given (tests/helpers/cli.ts), --debug runs included.

import type { Command } from "@commander-js/extra-typings";
import { assert, assertEquals } from "../helpers/assert.ts";
import type { CliResult } from "../helpers/cli.ts";
import { type Served, served } from "../helpers/served.ts";
import {
  assertCoded,
  checkSession,
  LONG,
  project,
  type Rng,
  say,
  seeded,
  VERBOSE,
} from "../helpers/suite.ts";
import { buildProgram } from "../../src/cli/tree.ts";
import { docsCtx } from "../../scripts/docs_ctx.ts";

type J = Record<string, unknown>;

/**
 * Left out: their job is to write outside the project folder where the user points them (the config file,
 * an agent's skills folder), or to serve stdin.
 */
const EXCLUDED = new Set(["config init", "skill install", "mcp", "help"]);
const GLOBAL = new Set([
  "--project-dir",
  "--profile",
  "--host",
  "--help",
  "--json",
  "--text",
  "--debug",
  "--version",
]);

interface Leaf {
  path: string[];
  options: Array<{ name: string; takesValue: boolean; file: boolean; required: boolean }>;
  positionals: Array<{ name: string; required: boolean; variadic: boolean }>;
}

interface CmdLike {
  name(): string;
  commands: readonly CmdLike[];
  options: readonly {
    long?: string;
    flags: string;
    required?: boolean;
    optional?: boolean;
    mandatory?: boolean;
  }[];
  registeredArguments: readonly { name(): string; required: boolean; variadic: boolean }[];
}

/** Every runnable command with its options and positionals, from the same tree that --help and completion use. */
async function leaves(): Promise<Leaf[]> {
  const out: Leaf[] = [];
  const walk = (c: CmdLike, path: string[]) => {
    if (c.commands.length) {
      for (const sub of c.commands) walk(sub, [...path, sub.name()]);
      return;
    }
    if (EXCLUDED.has(path.join(" "))) return;
    out.push({
      path,
      options: c.options.filter((o) => o.long && !GLOBAL.has(o.long)).map((o) => ({
        name: o.long!,
        takesValue: Boolean(o.required || o.optional),
        file: /<(file|files|dir|local|path)[^>]*>/i.test(o.flags),
        required: Boolean(o.mandatory),
      })),
      positionals: c.registeredArguments.map((a) => ({
        name: a.name(),
        required: a.required,
        variadic: a.variadic,
      })),
    });
  };
  walk(await buildProgram(docsCtx()) as unknown as Command as unknown as CmdLike, []);
  return out;
}

const ANY_VALUES = [
  "",
  " ",
  "-1",
  "0",
  "NaN",
  "1e309",
  "99999999999999999999999",
  "abc",
  "-",
  "ü😀\u202e",
  "x".repeat(20_000),
  "$(touch pwned_by_fuzz)",
  "\r\nInjected: header",
  "%s%n%x",
  "../../../../etc/passwd",
  "@",
  "@/etc",
  "@does-not-exist.py",
];
/** Relative to the project folder (the cwd of every run), or paths nobody may write. */
const FILE_VALUES = [
  "does-not-exist.json",
  "a-folder",
  "empty.txt",
  "binary.bin",
  "bad.json",
  "/dev/null",
  "/etc",
  "/proc/nope/x",
  "",
];

async function fixtures(dir: string) {
  await Deno.mkdir(`${dir}/a-folder`, { recursive: true });
  await Deno.writeTextFile(`${dir}/empty.txt`, "");
  await Deno.writeFile(`${dir}/binary.bin`, new Uint8Array([0, 255, 254, 0, 1, 2, 0x80, 0xc3]));
  await Deno.writeTextFile(`${dir}/bad.json`, '{"a": [1, 2,');
  await Deno.writeTextFile(`${dir}/ok.py`, "print('ok')\n");
  await Deno.writeTextFile(`${dir}/in.jsonl`, '{"prompt": "hi"}\n');
}

/** Valid values for what a command needs, so that the fuzzed value is what gets judged. */
function baseArgs(path: string, cluster: string): string[] {
  const base: Record<string, string[]> = {
    "find-cluster": ["--name", "analytics"],
    "create": ["--cluster-id", cluster, "--session-name", "fz", "--force"],
    "exec": ["--command", "print(1)", "--tag", "fz"],
    "cluster find": ["--name", "analytics"],
    "cluster get": [cluster],
    "cluster start": [cluster],
    "job check": ["ok.py"],
    "job run": ["ok.py", "--cluster-id", cluster],
    "job status": ["1"],
    "job watch": ["1"],
    "job output": ["1"],
    "job cancel": ["1"],
    "job diagnose": ["1"],
    "workspace upload": ["ok.py", "/Users/dbxr-dev@example.com/fz/ok.py"],
    "workspace ls": ["/Users/dbxr-dev@example.com"],
    "workspace get-status": ["/Users/dbxr-dev@example.com"],
    "workspace rm": ["/Users/dbxr-dev@example.com/fz/ok.py"],
    "uc schemas": ["main"],
    "uc ensure-schema": ["main.fz"],
    "llm ask": ["--endpoint", "default-llm-endpoint", "--prompt", "hi"],
    "llm batch": ["--endpoint", "default-llm-endpoint", "--in", "in.jsonl", "--out", "out.jsonl"],
    "completion": ["bash"],
  };
  return base[path] ?? [];
}

/** Replaces (or adds) `--name value` in args. */
function withOption(args: string[], name: string, value: string | undefined): string[] {
  const out = [...args];
  const i = out.indexOf(name);
  if (i >= 0) out.splice(i, value === undefined ? 1 : 2);
  return value === undefined ? [...out, name] : [...out, name, value];
}

/** Files under `root` (not under `skip`) with their mtimes. */
async function snapshot(root: string, skip: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const p = `${dir}/${e.name}`;
      if (skip.some((s) => p === s || p.startsWith(s + "/"))) continue;
      if (e.isDirectory) await walk(p);
      else out.set(p, (await Deno.lstat(p)).mtime?.getTime() ?? 0);
    }
  };
  await walk(root);
  return out;
}

function changed(before: Map<string, number>, after: Map<string, number>): string[] {
  return [...after].filter(([p, t]) => before.get(p) !== t).map(([p]) => p);
}

/** A run that must end within `ms` (a hang is a failure, not a stuck suite). */
async function bounded(
  run: (o: { onSpawn: (c: Deno.ChildProcess) => void }) => Promise<CliResult>,
  ms: number,
) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let hung = false;
  const r = await run({
    onSpawn: (c) => {
      timer = setTimeout(() => {
        hung = true;
        try {
          c.kill("SIGKILL");
        } catch { /* ended */ }
      }, ms);
    },
  });
  clearTimeout(timer);
  return { r, hung };
}

async function pool<T>(items: T[], n: number, f: (x: T) => Promise<void>) {
  const queue = [...items];
  await Promise.all(Array.from({ length: n }, async () => {
    for (let x = queue.shift(); x !== undefined; x = queue.shift()) await f(x);
  }));
}

interface FuzzCase {
  path: string;
  args: string[];
  what: string;
}

async function fuzzCases(rng: Rng, cluster: string): Promise<FuzzCase[]> {
  const cases: FuzzCase[] = [];
  for (const leaf of await leaves()) {
    const path = leaf.path.join(" ");
    const base = baseArgs(path, cluster);
    const values = (file: boolean) => {
      const all = file ? [...FILE_VALUES, ...ANY_VALUES.slice(0, 4)] : ANY_VALUES;
      return LONG ? all : [rng.pick(all), rng.pick(all)];
    };
    for (const o of leaf.options) {
      if (!o.takesValue) {
        cases.push({ path, args: [...leaf.path, ...withOption(base, o.name, undefined)], what: o.name });
        continue;
      }
      for (const v of values(o.file)) {
        cases.push({
          path,
          args: [...leaf.path, ...withOption(base, o.name, v)],
          what: `${o.name} ${v.slice(0, 30)}`,
        });
      }
      // The option given without its value (at the end of the line).
      if (LONG) cases.push({ path, args: [...leaf.path, ...base, o.name], what: `${o.name} (no value)` });
    }
    if (leaf.positionals.length) {
      const optionPart = base.filter((_, i) =>
        base[i].startsWith("--") || (i > 0 && base[i - 1].startsWith("--"))
      );
      for (const v of values(leaf.positionals[0].name.match(/file|local|path/) !== null)) {
        const rest = leaf.positionals.slice(1).filter((p) => p.required).map(() => "x");
        cases.push({
          path,
          args: [...leaf.path, v, ...rest, ...optionPart],
          what: `<${leaf.positionals[0].name}> ${v.slice(0, 30)}`,
        });
      }
    }
    // Unknown flags and extra positionals: usage errors.
    cases.push({ path, args: [...leaf.path, ...base, "--no-such-flag"], what: "--no-such-flag" });
  }
  return cases;
}

async function judge(s: Served, dir: string, c: FuzzCase, debug: boolean) {
  const args = debug ? ["--debug", ...c.args] : c.args;
  const { r, hung } = await bounded(
    (o) => s.dbxr([...args, "--project-dir", dir], { cwd: dir, ...o }),
    60_000,
  );
  const label = `dbxr ${c.path} ${c.what}${debug ? " --debug" : ""}`;
  assert(!hung, `${label}: still running after 60 s`);
  if (VERBOSE) say(`fuzz: ${label} → ${r.code}`);
  if (r.code !== 0 || r.stdout.trim().startsWith("{") || r.stdout.trim().startsWith("[")) {
    assertCoded(r, label);
  } else {
    assert(!/\n\s+at .+:\d+:\d+/.test(r.stderr), `${label}: a stack trace on stderr`);
  }
  if (debug) {
    // --debug traces requests, never a raw JavaScript stack for an expected failure.
    assert(!/internal error/i.test(r.stderr), `${label}: internal error on stderr`);
  }
}

Deno.test("bad input: every flag, positional and file input of every command, fuzzed from the command tree", async () => {
  await using s = await served();
  const rng = seeded("bad input");
  const started = Date.now();
  const p = await project(s, "fuzz-");
  await fixtures(p.dir);
  assertEquals((await p.create("fuzz")).code, 0);
  const outside = await Deno.makeTempDir({ dir: s.home, prefix: "outside-" });
  await Deno.writeTextFile(`${outside}/keep.txt`, "untouched");
  const skip = [p.dir, `${s.home}/.dbxr`];
  const before = await snapshot(s.home, skip);
  const cases = await fuzzCases(rng, p.cluster);
  // Every fifth case again with --debug (traces must stay coded and secret-free too).
  let i = 0;
  const failures: string[] = [];
  await pool(cases, 3, async (c) => {
    try {
      await judge(s, p.dir, c, i++ % 5 === 0);
    } catch (e) {
      failures.push((e as Error).message.split("\n").slice(0, 4).join(" "));
    }
  });
  assertEquals(failures, [], `${failures.length} of ${cases.length} fuzzed runs failed (seed ${rng.seed})`);
  const after = await snapshot(s.home, skip);
  assertEquals(changed(before, after), [], "nothing written outside the project folder (and ~/.dbxr)");
  for (const where of [p.dir, s.home, "/tmp"]) {
    assertEquals(await Deno.lstat(`${where}/pwned_by_fuzz`).then(() => true, () => false), false);
  }
  await checkSession(p, "after the fuzz pass");
  say(
    `bad input: ${cases.length} fuzzed runs (${LONG ? "long" : "short"}) in ${
      ((Date.now() - started) / 1000).toFixed(1)
    } s`,
  );
});

const HOSTILE_BODIES: Array<{ name: string; body: unknown; status?: number }> = [
  { name: "empty object", body: {} },
  { name: "array", body: [] },
  { name: "null", body: "null" },
  { name: "a number", body: 42 },
  {
    name: "wrong types",
    body: {
      clusters: "nope",
      cluster_id: 5,
      id: { a: 1 },
      status: 7,
      results: "x",
      runs: {},
      objects: 3,
      catalogs: "c",
      choices: "x",
      userName: [],
      state: 9,
    },
  },
  { name: "HTML", body: "<html><body><h1>502 Bad Gateway</h1></body></html>" },
  { name: "HTML 502", body: "<html><body><h1>502 Bad Gateway</h1></body></html>", status: 502 },
  { name: "invalid JSON", body: '{"clusters": [' },
  { name: "truncated", body: '{"clusters": [{"cluster_id": "0116-1', status: 200 },
  { name: "huge", body: { message: "A".repeat(3 * 1024 * 1024), clusters: [] } },
  { name: "deep", body: "[".repeat(5000) + "]".repeat(5000) },
  { name: "invalid JSON 400", body: "{oops", status: 400 },
];

Deno.test("bad input: hostile API bodies give a coded error, never a stack trace, and the session stays true", async () => {
  await using s = await served();
  const rng = seeded("hostile bodies");
  const started = Date.now();
  const p = await project(s, "bodies-");
  await fixtures(p.dir);
  assertEquals((await p.create("bodies")).code, 0);
  const targets: Array<{ route: string; args: string[]; repl?: boolean }> = [
    { route: "GET /api/2.1/clusters/list", args: ["cluster", "list"] },
    { route: "GET /api/2.1/clusters/get", args: ["cluster", "get", p.cluster] },
    { route: "GET /api/2.1/clusters/list", args: ["find-cluster", "--name", "analytics"] },
    { route: "GET /api/2.0/preview/scim/v2/Me", args: ["auth", "whoami"] },
    { route: "GET /api/1.2/contexts/status", args: ["status"], repl: true },
    {
      route: "POST /api/1.2/commands/execute",
      args: ["exec", "--command", "print(1)", "--tag", "b"],
      repl: true,
    },
    {
      route: "GET /api/1.2/commands/status",
      args: ["exec", "--command", "print(2)", "--tag", "b"],
      repl: true,
    },
    { route: "GET /api/2.2/jobs/runs/list", args: ["job", "list"] },
    { route: "POST /api/2.2/jobs/runs/submit", args: ["job", "run", "ok.py", "--cluster-id", p.cluster] },
    { route: "GET /api/2.0/workspace/list", args: ["workspace", "ls", "/Users/dbxr-dev@example.com"] },
    {
      route: "POST /serving-endpoints/*",
      args: ["llm", "ask", "--endpoint", "default-llm-endpoint", "--prompt", "hi"],
    },
    { route: "GET /api/2.1/unity-catalog/catalogs", args: ["uc", "catalogs"] },
    {
      route: "POST /api/1.2/contexts/create",
      args: ["create", "--cluster-id", p.cluster, "--session-name", "b", "--force"],
      repl: true,
    },
  ];
  let n = 0;
  const failures: string[] = [];
  for (const t of targets) {
    const bodies = LONG ? HOSTILE_BODIES : [rng.pick(HOSTILE_BODIES), rng.pick(HOSTILE_BODIES)];
    for (const b of bodies) {
      n++;
      const label = `dbxr ${t.args.join(" ")} with ${b.name} from ${t.route} (seed ${rng.seed})`;
      await s.control("POST", "faults", { match: t.route, status: b.status ?? 200, body: b.body, times: 3 });
      try {
        await oneBody(label, t);
      } catch (e) {
        failures.push((e as Error).message.split("\n").slice(0, 4).join(" "));
      }
      await s.control("DELETE", "faults");
      if (t.repl) {
        let sj = await checkSession(p, label);
        if (sj?.active_command) {
          assertCoded(await p.run(["await", "--timeout", "60"]), `${label}: await`);
          sj = await checkSession(p, `${label}: after await`);
          if (sj?.active_command) assertCoded(await p.run(["cancel"]), `${label}: cancel`);
        }
        if ((await p.session())?.status !== "active") {
          assertEquals((await p.create("again", ["--force"])).code, 0);
        }
      }
    }
  }
  assertEquals(failures, [], `${failures.length} of ${n} runs failed`);
  say(
    `bad input: ${n} runs against hostile bodies (${LONG ? "long" : "short"}) in ${
      ((Date.now() - started) / 1000).toFixed(1)
    } s`,
  );

  async function oneBody(label: string, t: { args: string[] }) {
    const { r, hung } = await bounded(
      (o) => s.dbxr([...t.args, "--project-dir", p.dir], { cwd: p.dir, ...o }),
      90_000,
    );
    assert(!hung, `${label}: still running after 90 s`);
    if (VERBOSE) say(`bodies: ${label} → ${r.code}`);
    const j = assertCoded(r, label);
    if (r.code !== 0) assert(j.error ?? j.status, `${label}: a coded answer`);
  }
});

Deno.test("secrets: --debug runs against every API command family carry no token, even with faults and odd tokens", async () => {
  await using s = await served();
  const p = await project(s, "secrets-");
  assertEquals((await p.create("secrets")).code, 0);
  await s.control("POST", "faults", {
    match: "* /api/*",
    status: 500,
    body: { message: `echo ${s.emulator.token}` },
    times: 2,
  });
  for (
    const args of [["cluster", "list"], ["auth", "whoami"], ["status"], [
      "exec",
      "--command",
      "print(1)",
      "--tag",
      "s",
    ]]
  ) {
    // runCli scans stdout, stderr and every file written in the project for the token: a leak throws.
    const r = await s.dbxr(["--debug", ...args, "--project-dir", p.dir]);
    assertCoded(r, `--debug ${args.join(" ")}`);
  }
  await s.control("DELETE", "faults");
  // A token with a control character is refused by name, never echoed.
  for (
    const bad of [`${s.emulator.token}\r\nX: y`, `${s.emulator.token}\n`, `dapi\u0007${s.emulator.token}`]
  ) {
    const r = await s.dbxr(["--debug", "auth", "whoami"], { env: { DATABRICKS_TOKEN: bad } });
    const j: J = assertCoded(r, "a token with a control character");
    assert(r.code !== 0 || j.user_name, r.stdout);
  }
});
