// scripts/release/smoke.sh, which the release workflow runs on each Linux binary, run here against
// stand-ins for the two binaries: shell scripts that run the sources under the flags the binaries are
// compiled with (scripts/release/compile.ts). `deno compile` cannot run offline; the script's steps can.

import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { denoDir, ROOT_DIR } from "../../scripts/flags.ts";
import { BINARIES, type BinaryName, runtimeFlags } from "../../scripts/release/compile.ts";
import { VERSION } from "../../src/version.ts";

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

async function standIns(dir: string) {
  const paths: Record<BinaryName, string> = {
    "dbxr": `${dir}/dbxr`,
    "dbxr-emulator": `${dir}/dbxr-emulator`,
  };
  for (const name of Object.keys(BINARIES) as BinaryName[]) {
    const argv = [Deno.execPath(), "run", ...runtimeFlags(name), `${ROOT_DIR}${BINARIES[name].entry}`];
    // The smoke test gives dbxr a temp HOME; the stand-in keeps this process's Deno cache (a binary has
    // its dependencies inside).
    await Deno.writeTextFile(
      paths[name],
      `#!/bin/sh\nDENO_DIR=${q(denoDir())} exec ${argv.map(q).join(" ")} "$@"\n`,
      { mode: 0o755 },
    );
  }
  return paths;
}

async function smoke(paths: Record<BinaryName, string>, version: string) {
  const out = await new Deno.Command("bash", {
    args: [`${ROOT_DIR}scripts/release/smoke.sh`, paths["dbxr"], paths["dbxr-emulator"], version],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("release smoke test: --version, emulator, doctor, create/exec/destroy pass; a wrong version fails", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dbxr-smoke-" });
  try {
    const paths = await standIns(dir);
    const ok = await smoke(paths, `v${VERSION}`);
    assertEquals(ok.code, 0, ok.stdout + ok.stderr);
    assertStringIncludes(ok.stdout, `smoke: passed`);
    for (const s of ["dbxr doctor: ok", "6 * 7 = 42", "dbxr destroy: ok"]) assertStringIncludes(ok.stderr, s);

    const wrong = await smoke(paths, "v99.0.0");
    assertEquals(wrong.code, 1);
    assertStringIncludes(wrong.stderr, "expected it to name 99.0.0");
    assert(!wrong.stdout.includes("passed"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
