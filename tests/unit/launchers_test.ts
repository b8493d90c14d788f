// The launcher texts of scripts/launchers.ts. The sh ones also run in tests/e2e; the Windows twins cannot run
// here, so these check what they must contain.

import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { cmdLauncher, launcherFiles, LAUNCHERS, ps1Launcher, shLauncher } from "../../scripts/launchers.ts";

Deno.test("launchers: one sh, cmd and ps1 file per program", () => {
  assertEquals([...launcherFiles("/r", "/r/.tools/bin/deno").keys()].sort(), [
    "dbxr",
    "dbxr-emulator",
    "dbxr-emulator.cmd",
    "dbxr-emulator.ps1",
    "dbxr.cmd",
    "dbxr.ps1",
  ]);
});

Deno.test("launchers: the flags come from the flag file at start, with the repository's deno.json", () => {
  for (const l of LAUNCHERS) {
    const sh = shLauncher(l, "/opt/my repo/", "/opt/my repo/.tools/bin/deno");
    assert(sh.startsWith("#!/bin/sh\n"));
    assert(sh.includes(`root='/opt/my repo'\n`), sh);
    assert(sh.includes(`"$root/scripts/${l.flagsFile}"`), sh);
    assert(
      sh.includes(
        `exec '/opt/my repo/.tools/bin/deno' run --quiet --no-prompt --config "$root/deno.json" $flags "$root/${l.entry}" "$@"`,
      ),
      sh,
    );
    assert(sh.includes("set -f"), "the flags hold glob characters");

    const cmd = cmdLauncher(l);
    assert(cmd.includes("\r\n") && !/[^\r]\n/.test(cmd), "cmd files use CRLF");
    assert(!/EnableDelayedExpansion/i.test(cmd), "delayed expansion would eat ! in the arguments");
    assert(cmd.includes(`scripts\\${l.flagsFile}`), cmd);
    assert(cmd.includes(`--config "%DBXR_ROOT%\\deno.json"`), cmd);
    assert(cmd.includes(`"%DBXR_ROOT%\\${l.entry.replaceAll("/", "\\")}" %*`), cmd);
    assert(cmd.includes("exit /b %ERRORLEVEL%"));

    const ps1 = ps1Launcher(l);
    assert(ps1.includes(`'scripts\\${l.flagsFile}'`), ps1);
    assert(ps1.includes(`@flags (Join-Path $root '${l.entry}') @args`), ps1);
    assert(ps1.includes("exit $LASTEXITCODE"));
  }
});
