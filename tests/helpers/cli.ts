// Runs the real dbxr CLI as a subprocess, under exactly the permission flags of the release binary
// (scripts/permission_flags.txt), with HOME and DATABRICKS_* pointed at a temp dir and the emulator.

import { denoDir, permissionFlags, ROOT_DIR as ROOT } from "../../scripts/flags.ts";

export { permissionFlags };

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (throws with the raw output when it is not JSON). */
  json<T = Record<string, unknown>>(): T;
}

export interface CliOptions {
  env?: Record<string, string>;
  cwd?: string;
  stdin?: string;
  /** Called with the child once it runs (to send signals). */
  onSpawn?: (child: Deno.ChildProcess) => void;
}

function result(code: number, stdout: string, stderr: string): CliResult {
  return {
    code,
    stdout,
    stderr,
    json<T>() {
      try {
        return JSON.parse(stdout) as T;
      } catch {
        throw new Error(`stdout is not JSON (exit ${code}):\n${stdout}\nstderr:\n${stderr}`);
      }
    },
  };
}

export async function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    DENO_DIR: denoDir(),
    NO_COLOR: "1",
    TZ: "UTC",
    ...opts.env,
  };
  for (const [k, v] of Object.entries(env)) if (v === "") delete env[k];
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...permissionFlags(), `${ROOT}main.ts`, ...args],
    cwd: opts.cwd,
    env,
    clearEnv: true,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(opts.stdin));
    await w.close();
  }
  opts.onSpawn?.(child);
  const startedAt = Date.now();
  const out = await child.output();
  const dec = new TextDecoder();
  const r = result(out.code, dec.decode(out.stdout), dec.decode(out.stderr));
  await assertNoSecretWritten(env, args, opts.cwd, r, startedAt);
  return r;
}

/**
 * Every run of the CLI in the test suite is checked for leaked credentials: the token and client secret it
 * was given must not appear in its stdout, its stderr (--debug included), or any file it wrote in the
 * project folder during the run (session.json, repl_outputs/, job_outputs/). A leak fails the test that ran
 * it, naming where, never the value.
 */
async function assertNoSecretWritten(
  env: Record<string, string>,
  args: string[],
  cwd: string | undefined,
  r: CliResult,
  since: number,
): Promise<void> {
  const secrets = [env.DATABRICKS_TOKEN, env.DATABRICKS_CLIENT_SECRET].filter((s): s is string =>
    typeof s === "string" && s.trim().length >= 8
  ).map((s) => s.trim());
  if (!secrets.length) return;
  const leaks: string[] = [];
  const check = (where: string, text: string) => {
    if (secrets.some((s) => text.includes(s))) leaks.push(where);
  };
  check("stdout", r.stdout);
  check("stderr", r.stderr);
  const i = args.indexOf("--project-dir");
  const project = i >= 0 ? args[i + 1] : cwd;
  if (project) {
    const base = project.startsWith("/") || !cwd ? project : `${cwd}/${project}`;
    for (const rel of await recentFiles(base, since)) {
      check(rel, await Deno.readTextFile(`${base}/${rel}`).catch(() => ""));
    }
  }
  if (leaks.length) {
    throw new Error(`dbxr ${args.join(" ")} wrote a credential it was given into: ${leaks.join(", ")}`);
  }
}

/** session.json and the files under repl_outputs/ and job_outputs/ modified since `since`. */
async function recentFiles(base: string, since: number): Promise<string[]> {
  const out: string[] = [];
  const visit = async (rel: string, depth: number) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(rel ? `${base}/${rel}` : base));
    } catch {
      return;
    }
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory && depth < 2 && (rel || ["repl_outputs", "job_outputs"].includes(e.name))) {
        await visit(path, depth + 1);
      } else if (e.isFile && (rel || /^session.*\.json$/.test(e.name) || e.name.endsWith(".py"))) {
        const info = await Deno.stat(`${base}/${path}`).catch(() => undefined);
        if (info?.mtime && info.mtime.getTime() >= since - 1000 && info.size < 50 * 1024 * 1024) {
          out.push(path);
        }
      }
    }
  };
  await visit("", 0);
  return out;
}
