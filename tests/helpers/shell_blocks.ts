// Runs documentation as written: the fenced shell blocks of README.md, and bash scripts in general, with the
// `dbxr` launchers on PATH (written by the same generator as scripts/setup.sh's) and a private HOME.

import { writeLaunchers } from "../../scripts/launchers.ts";
import { denoDir, ROOT_DIR } from "../../scripts/flags.ts";

export const README = `${ROOT_DIR}README.md`;

/** The first ```sh block after the line that is exactly `heading` (e.g. "## Quick start"). */
export function shellBlockAfter(markdown: string, heading: string): string {
  const lines = markdown.split("\n");
  const at = lines.indexOf(heading);
  if (at < 0) throw new Error(`README.md has no heading "${heading}"`);
  const open = lines.findIndex((l, i) => i > at && /^```(sh|bash)\s*$/.test(l));
  if (open < 0) throw new Error(`no sh block after "${heading}"`);
  const close = lines.findIndex((l, i) => i > open && l === "```");
  if (close < 0) throw new Error(`the sh block after "${heading}" is not closed`);
  return lines.slice(open + 1, close).join("\n") + "\n";
}

export interface Launched {
  /** The folder with dbxr, dbxr-emulator (and the Windows twins). */
  bin: string;
  home: string;
  /** A working folder to run blocks in. */
  work: string;
  /** The environment a user has after set-up: the launchers first on PATH, nothing from DATABRICKS_*. */
  env(extra?: Record<string, string>): Record<string, string>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function launched(): Promise<Launched> {
  const base = await Deno.makeTempDir({ prefix: "dbxr-readme-" });
  const bin = `${base}/bin`, home = `${base}/home`, work = `${base}/work`;
  await Deno.mkdir(home);
  await Deno.mkdir(work);
  await writeLaunchers(bin, Deno.execPath());
  const python = Deno.env.get("DBXR_EMULATOR_PYTHON");
  return {
    bin,
    home,
    work,
    env: (extra = {}) => ({
      PATH: `${bin}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
      HOME: home,
      // The launchers run deno, which would otherwise fill an empty cache under the temp HOME.
      DENO_DIR: denoDir(),
      NO_COLOR: "1",
      TZ: "UTC",
      ...(python ? { DBXR_EMULATOR_PYTHON: python } : {}),
      ...extra,
    }),
    async [Symbol.asyncDispose]() {
      await Deno.remove(base, { recursive: true });
    },
  };
}

export interface BashResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `script` with bash as a user's shell would, but stopping at the first failing command (-e, pipefail).
 * Background jobs the script leaves (the emulator) are stopped when it ends, and all of it when it overruns.
 */
export async function runBash(
  script: string,
  opts: { cwd: string; env: Record<string, string>; timeoutMs?: number },
): Promise<BashResult> {
  const wrapped = "set -eo pipefail\n" +
    "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n" +
    "trap 'exit 143' TERM\n" +
    script;
  const child = new Deno.Command("bash", {
    args: ["-c", wrapped],
    cwd: opts.cwd,
    env: opts.env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGTERM"), opts.timeoutMs ?? 120_000);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}
