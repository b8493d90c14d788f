// Release builds: `deno compile` of dbxr and dbxr-emulator, for one target or for this machine, with the flag
// lists of scripts/permission_flags.txt and scripts/emulator_permission_flags.txt, and the version stamped
// into src/version.ts from `git describe --tags` for the length of the build (put back afterwards, so a
// build never leaves the work tree changed).
//
//   deno task compile                      # this machine: dist/dbxr, dist/dbxr-emulator
//   deno task compile:<target>             # dist/dbxr-<target>, dist/dbxr-emulator-<target> (.exe on Windows)
//   ... compile.ts <target> --expect-version 1.2.3   # fail unless the stamped version is exactly that
//
// `deno compile` downloads the runtime for the target from Deno's download host, so it runs on release
// machines (.github/workflows/release.yml), not in an offline sandbox. The tests run main.ts under
// runtimeFlags("dbxr"), the very list compileArgs() hands to `deno compile`.

import { permissionFlags, ROOT_DIR } from "../flags.ts";

export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
] as const;
export type Target = typeof TARGETS[number];

export type BinaryName = "dbxr" | "dbxr-emulator";

export const BINARIES: Record<
  BinaryName,
  { entry: string; flagsFile: "permission_flags.txt" | "emulator_permission_flags.txt" }
> = {
  "dbxr": { entry: "main.ts", flagsFile: "permission_flags.txt" },
  "dbxr-emulator": { entry: "src/emulator/main.ts", flagsFile: "emulator_permission_flags.txt" },
};

/** The run-time flags baked into a binary: `deno run` with these behaves as the binary does. `--quiet`
 * is baked in too (the binary keeps the compile-time log level): without it every run of dbxr on a machine
 * without the Databricks CLI printed Deno's "Failed to resolve 'databricks' for allow-run" line. */
export function runtimeFlags(binary: BinaryName): string[] {
  return ["--quiet", ...permissionFlags(BINARIES[binary].flagsFile)];
}

/** The release asset's file name: `dbxr-<target>`, `.exe` for Windows; plain `dbxr` for this machine. */
export function assetName(binary: BinaryName, target?: Target): string {
  if (!target) return binary;
  return `${binary}-${target}${target.includes("windows") ? ".exe" : ""}`;
}

/** The `deno compile` arguments for one binary (relative paths: run from the repository root). */
export function compileArgs(binary: BinaryName, target?: Target, outDir = "dist"): string[] {
  return [
    "compile",
    ...runtimeFlags(binary),
    ...(target ? ["--target", target] : []),
    "--output",
    `${outDir}/${assetName(binary, target)}`,
    BINARIES[binary].entry,
  ];
}

/**
 * The version to stamp, from `git describe --tags --match v* --dirty` output: `v1.2.3` → `1.2.3`;
 * commits past a tag keep git's suffix (`1.2.3-4-gabc1234`, `-dirty`). With no tag, the version of
 * deno.json marked as a development build with the commit (`0.1.0-dev+gabc1234`), or just that version
 * outside a git checkout.
 */
export function versionFromDescribe(describe: string | undefined, fallback: string, sha?: string): string {
  const d = describe?.trim();
  if (d && /^v\d/.test(d)) return d.slice(1);
  if (sha?.trim()) return `${fallback}-dev+g${sha.trim()}`;
  return fallback;
}

const VERSION_LINE = /^export const VERSION = "[^"\n]*";$/m;

/** src/version.ts with its VERSION line set to `version`; everything else in the file is left alone. */
export function stampVersion(source: string, version: string): string {
  if (!VERSION_LINE.test(source)) {
    throw new Error('src/version.ts has no line `export const VERSION = "...";` to stamp');
  }
  if (!/^[0-9A-Za-z.+-]+$/.test(version)) throw new Error(`refusing to stamp an odd version: ${version}`);
  return source.replace(VERSION_LINE, `export const VERSION = "${version}";`);
}

async function git(args: string[]): Promise<string | undefined> {
  try {
    const r = await new Deno.Command("git", { args, cwd: ROOT_DIR, stdout: "piped", stderr: "null" })
      .output();
    return r.success ? new TextDecoder().decode(r.stdout).trim() : undefined;
  } catch {
    return undefined; // no git on this machine
  }
}

export async function currentVersion(): Promise<string> {
  const fallback = JSON.parse(await Deno.readTextFile(`${ROOT_DIR}deno.json`)).version as string;
  const describe = await git(["describe", "--tags", "--match", "v[0-9]*", "--dirty"]);
  const sha = describe ? undefined : await git(["rev-parse", "--short", "HEAD"]);
  return versionFromDescribe(describe, fallback, sha);
}

function usage(msg: string): never {
  throw new Error(
    `${msg}\nusage: compile.ts [TARGET] [--expect-version X.Y.Z]\ntargets: ${TARGETS.join(", ")}`,
  );
}

async function main(args: string[]) {
  let target: Target | undefined;
  let expect: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--expect-version") expect = args[++i] ?? usage("--expect-version needs a value");
    else if ((TARGETS as readonly string[]).includes(a)) target = a as Target;
    else usage(`unknown argument: ${a}`);
  }
  const version = await currentVersion();
  if (expect !== undefined && version !== expect.replace(/^v/, "")) {
    throw new Error(`the version from git is ${version}, expected ${expect.replace(/^v/, "")}`);
  }
  const versionFile = `${ROOT_DIR}src/version.ts`;
  const original = await Deno.readTextFile(versionFile);
  await Deno.writeTextFile(versionFile, stampVersion(original, version));
  try {
    for (const binary of Object.keys(BINARIES) as BinaryName[]) {
      const args = compileArgs(binary, target);
      const out = `dist/${assetName(binary, target)}`;
      // deno-lint-ignore no-console
      console.error(`compile: ${out} (version ${version})`);
      const r = await new Deno.Command(Deno.execPath(), {
        args,
        cwd: ROOT_DIR,
        stdin: "null",
        stdout: "inherit",
        stderr: "inherit",
      }).output();
      if (!r.success) throw new Error(`deno ${args.join(" ")} failed (exit ${r.code})`);
    }
  } finally {
    await Deno.writeTextFile(versionFile, original);
  }
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (e) {
    // deno-lint-ignore no-console
    console.error(`compile: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
