// The `dbxr` launchers of scripts/setup.sh: dbxr from source in any folder, as the release binary runs it.

import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { denoDir, ROOT_DIR } from "../../scripts/flags.ts";
import { versionText } from "../../src/about.ts";
import { served } from "../helpers/served.ts";
import { launched } from "../helpers/shell_blocks.ts";

const dec = new TextDecoder();

async function run(cmd: string, args: string[], cwd: string, env: Record<string, string>) {
  const out = await new Deno.Command(cmd, { args, cwd, env, clearEnv: true, stdin: "null" }).output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("launcher: dbxr runs in the caller's folder, writes there (or --project-dir), never into the repository", async () => {
  await using emu = await served({ seed: 1 });
  await using sh = await launched();
  const env = sh.env({ DATABRICKS_HOST: emu.host, DATABRICKS_TOKEN: emu.emulator.token });
  const id = (await emu.dbxr(["cluster", "find", "--name", "analytics", "--json"])).json<
    Array<{ cluster_id: string }>
  >()[0].cluster_id;

  const create = await run(
    `${sh.bin}/dbxr`,
    ["create", "--cluster-id", id, "--session-name", "here"],
    sh.work,
    env,
  );
  assertEquals(create.code, 0, create.stdout + create.stderr);
  assertEquals(create.stderr, "", "the launcher is quiet: no Task line, no Deno notes");
  assertEquals(JSON.parse(create.stdout).project_dir, ".");
  assert(Deno.statSync(`${sh.work}/session.json`).isFile);
  let repoSession = true;
  try {
    Deno.statSync(`${ROOT_DIR}session.json`);
  } catch {
    repoSession = false;
  }
  assert(!repoSession, "session.json was written into the repository");

  // --project-dir is relative to the caller's folder, as with the binary.
  await Deno.mkdir(`${sh.work}/sub`);
  const other = await run(
    `${sh.bin}/dbxr`,
    ["--project-dir", "sub", "create", "--cluster-id", id, "--session-name", "sub"],
    sh.work,
    env,
  );
  assertEquals(other.code, 0, other.stdout + other.stderr);
  assert(Deno.statSync(`${sh.work}/sub/session.json`).isFile);
  for (const dir of [sh.work, `${sh.work}/sub`]) {
    assertEquals((await run(`${sh.bin}/dbxr`, ["destroy"], dir, env)).code, 0);
  }
});

Deno.test("launcher: the release binary's permission flags, without prompts", async () => {
  await using sh = await launched();
  const version = await run(`${sh.bin}/dbxr`, ["--version"], sh.work, sh.env());
  assertEquals([version.code, version.stdout.trim(), version.stderr], [0, versionText(), ""]);
  // A host outside scripts/permission_flags.txt's --allow-net is refused, not asked about.
  const r = await run(
    `${sh.bin}/dbxr`,
    ["--host", "https://example.com", "auth", "whoami"],
    sh.work,
    sh.env({ DATABRICKS_TOKEN: "dapi-x" }),
  );
  assertEquals(r.code, 7, r.stdout + r.stderr);
  assertEquals(JSON.parse(r.stdout).error, "HostNotAllowed");
  const help = await run(`${sh.bin}/dbxr-emulator`, ["--help"], sh.work, sh.env());
  assertEquals(help.code, 0);
  assert(help.stdout.startsWith("dbxr-emulator:"), help.stdout);
});

Deno.test("setup.sh --install --prefix links the launchers; stdout stays the deno path alone", async () => {
  const prefix = await Deno.makeTempDir({ prefix: "dbxr-prefix-" });
  try {
    const env = {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: Deno.env.get("HOME") ?? prefix,
      DENO_DIR: denoDir(),
    };
    const r = await run(
      "bash",
      [`${ROOT_DIR}scripts/setup.sh`, "--install", "--prefix", prefix],
      prefix,
      env,
    );
    assertEquals(r.code, 0, r.stderr);
    // scripts/test.sh and scripts/demo.sh read the deno path from stdout.
    assertEquals(r.stdout, `${ROOT_DIR}.tools/bin/deno\n`);
    assert(r.stderr.trimEnd().split("\n").at(-1)!.includes(`export PATH="${prefix}:$PATH"`), r.stderr);
    for (const name of ["dbxr", "dbxr-emulator"]) {
      assertEquals(Deno.readLinkSync(`${prefix}/${name}`), `${ROOT_DIR}.tools/bin/${name}`);
    }
    for (const name of ["dbxr.cmd", "dbxr.ps1", "dbxr-emulator.cmd", "dbxr-emulator.ps1"]) {
      assert(Deno.statSync(`${ROOT_DIR}.tools/bin/${name}`).isFile, name);
    }
    const v = await run(`${prefix}/dbxr`, ["--version"], prefix, env);
    // Without --install, the last thing setup says is how to put .tools/bin on PATH.
    const plain = await run("bash", [`${ROOT_DIR}scripts/setup.sh`], prefix, env);
    assertEquals([plain.code, plain.stdout], [0, `${ROOT_DIR}.tools/bin/deno\n`], plain.stderr);
    assert(
      plain.stderr.trimEnd().split("\n").at(-1)!.includes(`export PATH="${ROOT_DIR}.tools/bin:$PATH"`),
      plain.stderr,
    );
    assertEquals([v.code, v.stdout.trim(), v.stderr], [0, versionText(), ""]);

    // Anything but a link (a release binary, say) stays where it is.
    await Deno.remove(`${prefix}/dbxr`);
    await Deno.writeTextFile(`${prefix}/dbxr`, "#!/bin/sh\necho release\n");
    const again = await run(
      "bash",
      [`${ROOT_DIR}scripts/setup.sh`, "--install", "--prefix", prefix],
      prefix,
      env,
    );
    assertEquals(again.code, 1);
    assert(again.stderr.includes("is not a link"), again.stderr);
    assertEquals(await Deno.readTextFile(`${prefix}/dbxr`), "#!/bin/sh\necho release\n");
  } finally {
    await Deno.remove(prefix, { recursive: true });
  }
});
