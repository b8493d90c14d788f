// The `dbxr` and `dbxr-emulator` launchers that scripts/setup.sh writes into .tools/bin/: dbxr from source,
// callable from any folder, run as the release binary runs. Each launcher reads its permission flags from
// scripts/permission_flags.txt or scripts/emulator_permission_flags.txt when it starts (so that file stays
// the one place for them) and passes the repository's deno.json by absolute path, because `deno task` and
// config discovery would tie the run to the repository's folder instead of the caller's.
//
// Usage: deno run --allow-read --allow-write scripts/launchers.ts OUT_DIR [DENO]

import { shellQuote } from "../src/shell.ts";
import { ROOT_DIR } from "./flags.ts";

export interface Launcher {
  name: "dbxr" | "dbxr-emulator";
  /** Entry module, relative to the repository root. */
  entry: string;
  flagsFile: "permission_flags.txt" | "emulator_permission_flags.txt";
}

export const LAUNCHERS: Launcher[] = [
  { name: "dbxr", entry: "main.ts", flagsFile: "permission_flags.txt" },
  { name: "dbxr-emulator", entry: "src/emulator/main.ts", flagsFile: "emulator_permission_flags.txt" },
];

// `--no-prompt`: a compiled binary never prompts, so a host outside the list is HostNotAllowed here too,
// not a question on the terminal. `--quiet`: no download or permission-info lines on stderr.
const DENO_ARGS = ["run", "--quiet", "--no-prompt"];

/** The POSIX sh launcher. `root` and `deno` are absolute paths, written in (setup.sh runs again after a move). */
export function shLauncher(l: Launcher, root: string, deno: string): string {
  const r = root.replace(/\/+$/, "");
  return `#!/bin/sh
# ${l.name} from source, written by scripts/setup.sh (run it again after moving the repository).
# Runs ${l.entry} in the caller's folder with the release binary's flags from scripts/${l.flagsFile}.
root=${shellQuote(r)}
set -f # the flags hold * and [::1], which are not file patterns
IFS=' 	
'
flags=$(grep -v '^[[:space:]]*#' "$root/scripts/${l.flagsFile}") || {
  echo "${l.name}: cannot read $root/scripts/${l.flagsFile}; run scripts/setup.sh in the dbxr repository" >&2
  exit 2
}
DENO_NO_UPDATE_CHECK=1 exec ${shellQuote(deno)} ${
    DENO_ARGS.join(" ")
  } --config "$root/deno.json" $flags "$root/${l.entry}" "$@"
`;
}

/**
 * The Windows cmd launcher. It lives in .tools\bin, so the repository is two folders up. Deno is
 * .tools\bin\deno.exe when setup put one there, else the deno on PATH. No delayed expansion, so that `!` in
 * the caller's arguments (Python code) passes through unchanged.
 */
export function cmdLauncher(l: Launcher): string {
  const entry = l.entry.replaceAll("/", "\\");
  return [
    "@echo off",
    `rem ${l.name} from source, written by scripts/setup.sh: runs ${l.entry} in the caller's folder`,
    `rem with the release binary's flags from scripts\\${l.flagsFile}.`,
    "setlocal",
    'for %%i in ("%~dp0..\\..") do set "DBXR_ROOT=%%~fi"',
    'set "DBXR_DENO=deno"',
    'if exist "%~dp0deno.exe" set "DBXR_DENO=%~dp0deno.exe"',
    'set "DBXR_FLAGS="',
    `for /f "usebackq eol=# tokens=*" %%f in ("%DBXR_ROOT%\\scripts\\${l.flagsFile}") do call set "DBXR_FLAGS=%%DBXR_FLAGS%% %%f"`,
    'set "DENO_NO_UPDATE_CHECK=1"',
    `"%DBXR_DENO%" ${
      DENO_ARGS.join(" ")
    } --config "%DBXR_ROOT%\\deno.json" %DBXR_FLAGS% "%DBXR_ROOT%\\${entry}" %*`,
    "exit /b %ERRORLEVEL%",
    "",
  ].join("\r\n");
}

/** The PowerShell launcher, the same as the cmd one. */
export function ps1Launcher(l: Launcher): string {
  const denoArgs = DENO_ARGS.join(" ");
  return `# ${l.name} from source, written by scripts/setup.sh: runs ${l.entry} in the caller's folder
# with the release binary's flags from scripts/${l.flagsFile}.
$root = (Resolve-Path (Join-Path $PSScriptRoot '..\\..')).Path
$deno = Join-Path $PSScriptRoot 'deno.exe'
if (-not (Test-Path $deno)) { $deno = 'deno' }
$flags = @(Get-Content (Join-Path $root 'scripts\\${l.flagsFile}') |
  ForEach-Object { $_.Trim() } | Where-Object { $_ -and -not $_.StartsWith('#') })
# A script shares the caller's session, so the variable is put back afterwards.
$saved = $env:DENO_NO_UPDATE_CHECK
$env:DENO_NO_UPDATE_CHECK = '1'
try {
  & $deno ${denoArgs} --config (Join-Path $root 'deno.json') @flags (Join-Path $root '${l.entry}') @args
} finally {
  $env:DENO_NO_UPDATE_CHECK = $saved
}
exit $LASTEXITCODE
`;
}

/** Every launcher file by name: `dbxr`, `dbxr.cmd`, `dbxr.ps1`, and the same for `dbxr-emulator`. */
export function launcherFiles(root: string, deno: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const l of LAUNCHERS) {
    files.set(l.name, shLauncher(l, root, deno));
    files.set(`${l.name}.cmd`, cmdLauncher(l));
    files.set(`${l.name}.ps1`, ps1Launcher(l));
  }
  return files;
}

/** Writes the launchers into `dir` (created if missing); the sh ones executable. Returns their paths. */
export async function writeLaunchers(dir: string, deno: string, root = ROOT_DIR): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, text] of launcherFiles(root, deno)) {
    const path = `${dir.replace(/\/+$/, "")}/${name}`;
    // Replace, never write through: an old launcher may be a link to somewhere else.
    await Deno.remove(path).catch(() => {});
    await Deno.writeTextFile(path, text, { mode: name.includes(".") ? 0o644 : 0o755 });
    if (!name.includes(".")) await Deno.chmod(path, 0o755);
    written.push(path);
  }
  return written;
}

if (import.meta.main) {
  const [dir, deno] = Deno.args;
  if (!dir) {
    // deno-lint-ignore no-console
    console.error("usage: deno run --allow-read --allow-write scripts/launchers.ts OUT_DIR [DENO]");
    Deno.exit(2);
  }
  const toAbs = (p: string) => p.startsWith("/") ? p : `${Deno.cwd()}/${p}`;
  await writeLaunchers(toAbs(dir), toAbs(deno ?? `${ROOT_DIR}.tools/bin/deno`));
}
