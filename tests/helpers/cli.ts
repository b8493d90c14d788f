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
  const out = await child.output();
  const dec = new TextDecoder();
  return result(out.code, dec.decode(out.stdout), dec.decode(out.stderr));
}
