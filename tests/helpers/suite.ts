// What the suites under tests/suites/ share: the seed (printed, settable through DBXR_SUITE_SEED), the short
// or long variant (DBXR_SUITES=long), a project folder with a session, and the checks that every suite makes
// after every step: session.json still tells the truth, the emulator agrees with it, no context is untracked,
// and a failure is a coded JSON error.

import { assert, assertEquals } from "./assert.ts";
import type { CliResult } from "./cli.ts";
import type { Served } from "./served.ts";
import { EXIT_CODES } from "../../src/errors.ts";
import { mulberry32 } from "../../src/emulator/random.ts";

type J = Record<string, unknown>;

/** DBXR_SUITES=long: more rounds and the slow cases (budgets spent without Retry-After, ...). */
export const LONG = Deno.env.get("DBXR_SUITES") === "long";

/** DBXR_SUITES_VERBOSE=1: a line per case with its outcome and time. */
export const VERBOSE = Deno.env.get("DBXR_SUITES_VERBOSE") === "1";

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function say(line: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));
}

export interface Rng {
  seed: number;
  /** 0..n-1 */
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
}

/** mulberry32 from DBXR_SUITE_SEED or the clock; the seed is printed so that a failing round can be replayed. */
export function seeded(suite: string): Rng {
  const fromEnv = Deno.env.get("DBXR_SUITE_SEED");
  const seed = fromEnv !== undefined && /^\d+$/.test(fromEnv) ? Number(fromEnv) : Date.now() % 1_000_000;
  say(`${suite}: seed ${seed} (DBXR_SUITE_SEED=${seed} replays it)`);
  const next = mulberry32(seed);
  return {
    seed,
    int: (n) => Math.floor(next() * n),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    chance: (p) => next() < p,
  };
}

export interface Project {
  dir: string;
  cluster: string;
  create(name: string, more?: string[]): Promise<CliResult>;
  run(args: string[], opts?: Parameters<Served["dbxr"]>[1]): Promise<CliResult>;
  exec(code: string, tag: string, more?: string[], opts?: Parameters<Served["dbxr"]>[1]): Promise<CliResult>;
  /** session.json parsed, or undefined when there is none. */
  session(): Promise<J | undefined>;
}

let clusterCache = new WeakMap<Served, string>();

export async function project(s: Served, prefix = "proj-"): Promise<Project> {
  const dir = await Deno.makeTempDir({ dir: s.home, prefix });
  let cluster = clusterCache.get(s);
  if (!cluster) {
    const found = await s.dbxr(["find-cluster", "--name", "analytics"]);
    cluster = found.json().cluster_id as string;
    clusterCache.set(s, cluster);
  }
  const run = (args: string[], opts = {}) => s.dbxr([...args, "--project-dir", dir], opts);
  return {
    dir,
    cluster,
    create: (name, more = []) => run(["create", "--cluster-id", cluster!, "--session-name", name, ...more]),
    run,
    exec: (code, tag, more = [], opts = {}) => run(["exec", "--command", code, "--tag", tag, ...more], opts),
    async session() {
      let text: string;
      try {
        text = await Deno.readTextFile(`${dir}/session.json`);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return undefined;
        throw e;
      }
      try {
        return JSON.parse(text);
      } catch {
        throw new Error(`session.json is not valid JSON (${text.length} bytes): ${text.slice(0, 200)}`);
      }
    },
  };
}

export function resetClusterCache(): void {
  clusterCache = new WeakMap();
}

const exists = (p: string) => Deno.lstat(p).then(() => true, () => false);

/** Statuses whose step has ended with output files (.stdout and .stderr always written, maybe empty). */
const ENDED = new Set(["Finished", "Error", "Cancelled"]);

/**
 * session.json tells the truth on disk: valid JSON, unique step numbers below the counter, every recorded
 * step's command file and output files present, an active command that is not also a step.
 */
export async function checkSession(p: Project, label: string): Promise<J | undefined> {
  const sj = await p.session();
  if (!sj) return undefined;
  assert(Array.isArray(sj.steps), `${label}: session.json has steps`);
  const steps = sj.steps as J[];
  const numbers = steps.map((x) => x.step as number);
  assertEquals(new Set(numbers).size, numbers.length, `${label}: step numbers are unique: ${numbers}`);
  for (const x of steps) {
    assert(
      typeof x.step === "number" && x.step <= (sj.step_counter as number),
      `${label}: step ${x.step} within step_counter ${sj.step_counter}`,
    );
    const cmd = String(x.command_file).replace(/^\.\//, "");
    assert(await exists(`${p.dir}/${cmd}`), `${label}: step ${x.step} has its command file ${cmd}`);
    if (ENDED.has(String(x.status))) {
      const base = cmd.replace(/\.cmd\.[a-z]+$/, "");
      for (const ext of ["stdout", "stderr"]) {
        assert(await exists(`${p.dir}/${base}.${ext}`), `${label}: step ${x.step} (${x.status}) has .${ext}`);
      }
    }
  }
  const active = sj.active_command as J | undefined;
  if (active) {
    assert(
      ["submitting", "submitted"].includes(String(active.state)),
      `${label}: active state ${active.state}`,
    );
    assert(
      !numbers.includes(active.step as number),
      `${label}: the active step ${active.step} is not recorded`,
    );
    if (active.state === "submitted") assert(active.command_id, `${label}: a submitted command has its id`);
  }
  return sj;
}

interface Ctx {
  id: string;
  running_command: { id: string; status: string } | null;
  queued_commands: number;
}

export async function liveContexts(s: Served): Promise<Ctx[]> {
  return ((await s.control("GET", "contexts")) as { contexts: Ctx[] }).contexts;
}

/**
 * The remote side agrees with session.json: at most one command runs in the session's context and nothing
 * queues behind it; with no active command recorded, none runs there (a cancel may take a moment to settle).
 */
export async function checkRemote(s: Served, sj: J | undefined, label: string): Promise<void> {
  if (!sj || sj.status !== "active") return;
  for (let i = 0;; i++) {
    const ctx = (await liveContexts(s)).find((c) => c.id === sj.context_id);
    if (!ctx) return; // evicted or gone: the next command answers ContextEvicted, which the suites check
    assert(ctx.queued_commands === 0, `${label}: ${ctx.queued_commands} command(s) queued in the context`);
    const active = sj.active_command as J | undefined;
    if (active || !ctx.running_command || i >= 40) {
      if (!active) {
        assertEquals(
          ctx.running_command,
          null,
          `${label}: no active command recorded, yet one runs in the context`,
        );
      }
      return;
    }
    await sleep(100);
  }
}

/** Live contexts that neither the per-user registry (~/.dbxr/contexts.jsonl) nor any session knows. */
export async function untrackedContexts(s: Served): Promise<string[]> {
  let text = "";
  try {
    text = await Deno.readTextFile(`${s.home}/.dbxr/contexts.jsonl`);
  } catch { /* none recorded */ }
  const known = new Set<string>();
  for (const line of text.split("\n")) {
    try {
      known.add(JSON.parse(line).context_id);
    } catch { /* torn or empty line */ }
  }
  return (await liveContexts(s)).map((c) => c.id).filter((id) => !known.has(id));
}

/**
 * A run either succeeded or failed with a coded JSON answer: `error` one of the contract's codes (or the
 * seed's step statuses), never "internal error", never a stack trace on stderr.
 */
export function assertCoded(r: CliResult, label: string): J {
  let j: J;
  try {
    j = JSON.parse(r.stdout);
  } catch {
    throw new Error(`${label}: stdout is not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  assert(!/\n\s+at .+:\d+:\d+/.test(r.stderr), `${label}: a stack trace on stderr:\n${r.stderr}`);
  assert(!/internal error/i.test(r.stdout + r.stderr), `${label}: "internal error": ${r.stdout}${r.stderr}`);
  if (r.code !== 0 && j.error !== undefined) {
    assert(String(j.error) in EXIT_CODES, `${label}: ${j.error} is not a contract code`);
    assertEquals(r.code, EXIT_CODES[j.error as keyof typeof EXIT_CODES], `${label}: exit code of ${j.error}`);
  }
  return j;
}

interface Entry {
  method: string;
  path: string;
  body?: unknown;
  fault?: string;
}

/** Requests to `path` that reached the API (not turned away by a fault in front of it), optionally with `marker` in the body. */
export async function reached(s: Served, method: string, path: string, marker?: string): Promise<number> {
  const { requests } = (await s.control("GET", "requests")) as { requests: Entry[] };
  return requests.filter((e) =>
    e.method === method && e.path === path && e.fault !== "drop" && e.fault !== "status" &&
    (marker === undefined || JSON.stringify(e.body ?? "").includes(marker))
  ).length;
}

/** Waits until session.json shows the active command in `state` (a loaded machine starts dbxr slowly). */
export async function waitForActive(
  p: Project,
  state: "submitting" | "submitted",
  ms = 20_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const sj = await p.session().catch(() => undefined);
    if ((sj?.active_command as J | undefined)?.state === state) return;
    await sleep(25);
  }
  throw new Error(`no active command in state ${state} within ${ms} ms`);
}
