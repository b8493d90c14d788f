// The release plumbing (scripts/release/compile.ts, installers.ts): the flags each binary is compiled with,
// the asset names, the deno.json tasks, the version stamp, the installers' repository. `deno compile` itself
// cannot run offline; what it is handed is checked here, and tests/e2e/permission_scope_test.ts runs main.ts
// under the same flags.

import { assert, assertEquals, assertMatch, assertStringIncludes, assertThrows } from "../helpers/assert.ts";
import {
  assetName,
  BINARIES,
  compileArgs,
  runtimeFlags,
  stampVersion,
  TARGETS,
  versionFromDescribe,
} from "../../scripts/release/compile.ts";
import { stampRepo } from "../../scripts/release/installers.ts";
import { permissionFlags, ROOT_DIR } from "../../scripts/flags.ts";

Deno.test("each binary is compiled with its flag file's lines, for the target, into dist/<asset>", () => {
  assertEquals(compileArgs("dbxr", "aarch64-apple-darwin"), [
    "compile",
    "--quiet",
    ...permissionFlags("permission_flags.txt"),
    "--target",
    "aarch64-apple-darwin",
    "--output",
    "dist/dbxr-aarch64-apple-darwin",
    "main.ts",
  ]);
  assertEquals(compileArgs("dbxr-emulator", "x86_64-pc-windows-msvc"), [
    "compile",
    "--quiet",
    ...permissionFlags("emulator_permission_flags.txt"),
    "--target",
    "x86_64-pc-windows-msvc",
    "--output",
    "dist/dbxr-emulator-x86_64-pc-windows-msvc.exe",
    "src/emulator/main.ts",
  ]);
  // This machine: no --target, plain names.
  assertEquals(compileArgs("dbxr").slice(-3), ["--output", "dist/dbxr", "main.ts"]);
  // The CLI's list is the scoped one; the emulator's is its own.
  assert(runtimeFlags("dbxr").includes("--allow-run=databricks"));
  assert(!runtimeFlags("dbxr").some((f) => f === "--allow-net" || f === "--allow-run" || f === "-A"));
  assert(runtimeFlags("dbxr-emulator").includes("--allow-run=python3"));
  for (const b of Object.values(BINARIES)) assert(Deno.statSync(`${ROOT_DIR}${b.entry}`).isFile);
});

Deno.test("deno.json has compile:<target> for the five targets, each running compile.ts for it", () => {
  const tasks = JSON.parse(Deno.readTextFileSync(`${ROOT_DIR}deno.json`)).tasks as Record<
    string,
    { command: string }
  >;
  assertEquals(TARGETS.length, 5);
  const names = Object.keys(tasks).filter((k) => k.startsWith("compile:")).sort();
  assertEquals(names, TARGETS.map((t) => `compile:${t}`).sort());
  for (const t of TARGETS) {
    assert(tasks[`compile:${t}`].command.endsWith(`scripts/release/compile.ts ${t}`), t);
  }
  assert(tasks.compile.command.endsWith("scripts/release/compile.ts"));
  assertEquals(
    TARGETS.map((t) => assetName("dbxr", t)),
    [
      "dbxr-x86_64-unknown-linux-gnu",
      "dbxr-aarch64-unknown-linux-gnu",
      "dbxr-x86_64-apple-darwin",
      "dbxr-aarch64-apple-darwin",
      "dbxr-x86_64-pc-windows-msvc.exe",
    ],
  );
});

Deno.test("the version comes from git describe: the tag, commits past it, or a dev build of deno.json's", () => {
  assertEquals(versionFromDescribe("v1.2.3", "0.1.0"), "1.2.3");
  assertEquals(versionFromDescribe("v1.2.3\n", "0.1.0"), "1.2.3");
  assertEquals(versionFromDescribe("v1.2.3-4-gabc1234", "0.1.0"), "1.2.3-4-gabc1234");
  assertEquals(versionFromDescribe("v2.0.0-rc.1-dirty", "0.1.0"), "2.0.0-rc.1-dirty");
  assertEquals(versionFromDescribe(undefined, "0.1.0", "abc1234"), "0.1.0-dev+gabc1234");
  assertEquals(versionFromDescribe("", "0.1.0", undefined), "0.1.0");
  // A tag that is not a version is not a version.
  assertEquals(versionFromDescribe("nightly", "0.1.0", "abc1234"), "0.1.0-dev+gabc1234");
});

Deno.test("stampVersion rewrites only the VERSION line of src/version.ts, and refuses what it cannot stamp", () => {
  const real = Deno.readTextFileSync(`${ROOT_DIR}src/version.ts`);
  const stamped = stampVersion(real, "9.8.7");
  assert(stamped.includes('export const VERSION = "9.8.7";'));
  assertEquals(stamped.split("\n").length, real.split("\n").length);
  const other = '// v\nexport const VERSION = "0.1.0";\nexport const OTHER = "0.1.0";\n';
  assertEquals(
    stampVersion(other, "1.0.0"),
    '// v\nexport const VERSION = "1.0.0";\nexport const OTHER = "0.1.0";\n',
  );
  assertThrows(
    () => stampVersion("export const V = 1;\n", "1.0.0"),
    (e) => assertMatch((e as Error).message, /no line/),
  );
  assertThrows(
    () => stampVersion(other, '1.0.0"; evil()'),
    (e) => assertMatch((e as Error).message, /odd version/),
  );
});

Deno.test("the release's install.sh and install.ps1 get the repository written into their one default line", () => {
  const sh = Deno.readTextFileSync(`${ROOT_DIR}scripts/install.sh`);
  const ps1 = Deno.readTextFileSync(`${ROOT_DIR}scripts/install.ps1`);
  const stampedSh = stampRepo("sh", sh, "acme/dbxr");
  const stampedPs1 = stampRepo("ps1", ps1, "acme/dbxr");
  assertMatch(stampedSh, /^DEFAULT_REPO="acme\/dbxr"$/m);
  assertEquals(stampedSh.replace('DEFAULT_REPO="acme/dbxr"', 'DEFAULT_REPO=""'), sh);
  assertMatch(stampedPs1, /^ {2}\$DefaultRepo = "acme\/dbxr"$/m);
  assertEquals(stampedPs1.replace('$DefaultRepo = "acme/dbxr"', '$DefaultRepo = ""'), ps1);
  // Still valid sh.
  assert(new Deno.Command("sh", { args: ["-n", "-c", stampedSh] }).outputSync().success);
  assertThrows(() => stampRepo("sh", stampedSh, "x/y"), (e) => assertMatch((e as Error).message, /no empty/));
  assertThrows(
    () => stampRepo("sh", sh, "x y; rm -rf /"),
    (e) => assertMatch((e as Error).message, /owner\/name/),
  );
});

Deno.test("release.yml: actions pinned to commits, every target built, Linux binaries smoke-tested, checksums", () => {
  const yml = Deno.readTextFileSync(`${ROOT_DIR}.github/workflows/release.yml`);
  const uses = [...yml.matchAll(/^\s*(?:- )?uses: (\S+)(.*)$/gm)];
  assert(uses.length >= 5);
  for (const [, ref, comment] of uses) {
    assertMatch(ref, /^actions\/[a-z-]+@[0-9a-f]{40}$/);
    assertMatch(comment, /^ # v\d+\.\d+\.\d+$/);
  }
  const build = yml.slice(yml.indexOf("\n  build:"), yml.indexOf("\n  smoke:"));
  const targets = [...build.matchAll(/^ {10}- ([a-z0-9_-]+)$/gm)].map((m) => m[1]);
  assertEquals(targets, [...TARGETS]);
  assertStringIncludes(build, 'deno task compile:${{ matrix.target }} --expect-version "$GITHUB_REF_NAME"');
  const smoke = yml.slice(yml.indexOf("\n  smoke:"), yml.indexOf("\n  publish:"));
  for (const t of TARGETS.filter((t) => t.includes("linux"))) assertStringIncludes(smoke, `target: ${t}`);
  assertStringIncludes(smoke, "scripts/release/smoke.sh");
  const publish = yml.slice(yml.indexOf("\n  publish:"));
  assertStringIncludes(publish, "needs: [test, build, smoke]");
  assertStringIncludes(publish, "scripts/release/installers.ts");
  assertStringIncludes(publish, "sha256sum dbxr-* install.sh install.ps1 > SHA256SUMS");
});
