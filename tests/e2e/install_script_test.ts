// scripts/install.sh against a fake release served on 127.0.0.1 (the GitHub layout: latest/download/FILE and
// download/vX.Y.Z/FILE), with small shell scripts as the "binaries" and a SHA256SUMS, including releases
// whose files do not match it. Run by /bin/sh, as `curl … | sh` runs it.

import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { ROOT_DIR } from "../../scripts/flags.ts";

const enc = new TextEncoder();
const SCRIPT = `${ROOT_DIR}scripts/install.sh`;
const PS1 = `${ROOT_DIR}scripts/install.ps1`;
const TARGET = Deno.build.target; // what the script detects with uname on this machine
const WINDOWS = "x86_64-pc-windows-msvc";

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const fake = (name: string, version: string) => `#!/bin/sh\necho "${name} ${version} (fake)"\n`;
const fakeBinary = (name: string, version: string) => enc.encode(fake(name, version));

/** One release's files. `corrupt` names an asset whose bytes change after SHA256SUMS was written;
 * `unlisted` one that SHA256SUMS leaves out. */
async function release(version: string, opts: { corrupt?: string; unlisted?: string } = {}) {
  const files = new Map<string, Uint8Array<ArrayBuffer>>();
  const sums: string[] = [];
  for (const name of ["dbxr", "dbxr-emulator"]) {
    for (const asset of [`${name}-${TARGET}`, `${name}-${WINDOWS}.exe`]) {
      const bytes = fakeBinary(name, version);
      if (opts.unlisted !== name) sums.push(`${await sha256(bytes)}  ${asset}`);
      files.set(asset, opts.corrupt === name ? enc.encode(`#!/bin/sh\necho "tampered ${name}"\n`) : bytes);
    }
  }
  files.set("SHA256SUMS", enc.encode(sums.join("\n") + "\n"));
  files.set("install.sh", new Uint8Array(await Deno.readFile(SCRIPT)));
  files.set("install.ps1", new Uint8Array(await Deno.readFile(PS1)));
  return files;
}

async function fakeReleases() {
  const releases: Record<string, Map<string, Uint8Array<ArrayBuffer>>> = {
    "v1.0.0": await release("1.0.0"),
    "v0.9.0": await release("0.9.0"),
    "v6.6.6": await release("6.6.6", { corrupt: "dbxr" }),
    "v6.6.7": await release("6.6.7", { corrupt: "dbxr-emulator" }),
    "v7.0.0": await release("7.0.0", { unlisted: "dbxr" }),
  };
  const requests: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    requests.push(path);
    const m = path.match(/^\/releases\/(?:latest\/download|download\/([^/]+))\/([^/]+)$/);
    const files = m && releases[m[1] ?? "v1.0.0"];
    const body = files?.get(m![2]);
    return body ? new Response(body) : new Response("Not Found", { status: 404 });
  });
  return {
    base: `http://127.0.0.1:${server.addr.port}/releases`,
    requests,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

interface Result {
  code: number;
  stderr: string;
}

async function sh(args: string[], env: Record<string, string>, cwd?: string): Promise<Result> {
  const out = await new Deno.Command("sh", {
    args,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...env },
    clearEnv: true,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stderr: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

const install = (args: string[], env: Record<string, string>) => sh([SCRIPT, ...args], env);

async function runInstalled(path: string): Promise<string> {
  const out = await new Deno.Command(path, { stdout: "piped", stderr: "null" }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

const exists = (p: string) => Deno.stat(p).then(() => true, () => false);

Deno.test("install.sh: `curl … | sh` installs the latest dbxr for this machine, verified, into --prefix", async () => {
  await using rel = await fakeReleases();
  const home = await Deno.makeTempDir({ prefix: "dbxr-install-" });
  try {
    const prefix = `${home}/bin`;
    const r = await sh(
      [
        "-c",
        `curl -fsSL "$DBXR_INSTALL_BASE_URL/latest/download/install.sh" | sh -s -- --prefix '${prefix}'`,
      ],
      { HOME: home, DBXR_INSTALL_BASE_URL: rel.base },
    );
    assertEquals(r.code, 0, r.stderr);
    assertEquals(await runInstalled(`${prefix}/dbxr`), "dbxr 1.0.0 (fake)");
    assertEquals((await Deno.stat(`${prefix}/dbxr`)).mode! & 0o777, 0o755);
    assertEquals(await exists(`${prefix}/dbxr-emulator`), false);
    assertStringIncludes(r.stderr, `verified dbxr-${TARGET}`);
    assertStringIncludes(r.stderr, "dbxr 1.0.0 (fake)"); // it ran the installed binary's --version
    assertEquals(rel.requests, [
      "/releases/latest/download/install.sh",
      "/releases/latest/download/SHA256SUMS",
      `/releases/latest/download/dbxr-${TARGET}`,
    ]);
    assertEquals([...Deno.readDirSync(prefix)].map((e) => e.name), ["dbxr"]);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("install.sh: --version and --emulator into ~/.local/bin; a corrupted or unlisted asset installs nothing", async () => {
  await using rel = await fakeReleases();
  const home = await Deno.makeTempDir({ prefix: "dbxr-install-" });
  try {
    const bin = `${home}/.local/bin`;
    const env = { HOME: home, DBXR_INSTALL_BASE_URL: rel.base };
    const ok = await install(["--version", "0.9.0", "--emulator"], env);
    assertEquals(ok.code, 0, ok.stderr);
    assertEquals(await runInstalled(`${bin}/dbxr`), "dbxr 0.9.0 (fake)");
    assertEquals(await runInstalled(`${bin}/dbxr-emulator`), "dbxr-emulator 0.9.0 (fake)");
    assertStringIncludes(ok.stderr, `${bin} is not on PATH`);
    assert(rel.requests.includes(`/releases/download/v0.9.0/dbxr-emulator-${TARGET}`), rel.requests.join());

    // dbxr's bytes do not match SHA256SUMS: refused, the installed 0.9.0 stays.
    const bad = await install(["--version", "v6.6.6"], env);
    assertEquals(bad.code, 1, bad.stderr);
    assertStringIncludes(bad.stderr, `checksum mismatch for dbxr-${TARGET}`);
    assertStringIncludes(bad.stderr, "nothing was installed");
    assertEquals(await runInstalled(`${bin}/dbxr`), "dbxr 0.9.0 (fake)");

    // Only the emulator is bad: dbxr is not updated either (all files are checked before any is installed).
    const badEmu = await install(["--version", "v6.6.7", "--emulator"], env);
    assertEquals(badEmu.code, 1, badEmu.stderr);
    assertStringIncludes(badEmu.stderr, `checksum mismatch for dbxr-emulator-${TARGET}`);
    assertEquals(await runInstalled(`${bin}/dbxr`), "dbxr 0.9.0 (fake)");
    assertEquals(await runInstalled(`${bin}/dbxr-emulator`), "dbxr-emulator 0.9.0 (fake)");

    // No checksum line for the asset: refused.
    const unlisted = await install(["--version", "v7.0.0"], env);
    assertEquals(unlisted.code, 1, unlisted.stderr);
    assertStringIncludes(unlisted.stderr, `SHA256SUMS has no line for dbxr-${TARGET}`);

    // A release that does not exist.
    const missing = await install(["--version", "v8.8.8"], env);
    assertEquals(missing.code, 1, missing.stderr);
    assertStringIncludes(missing.stderr, "cannot download");

    assertEquals(await runInstalled(`${bin}/dbxr`), "dbxr 0.9.0 (fake)");
    assertEquals([...Deno.readDirSync(bin)].map((e) => e.name).sort(), ["dbxr", "dbxr-emulator"]);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

const SYSTEM_BIN = ["/usr/local/bin", "/usr/bin", "/bin"];
const onSystem = (name: string) =>
  SYSTEM_BIN.some((d) => {
    try {
      return Deno.statSync(`${d}/${name}`).isFile;
    } catch {
      return false;
    }
  });

Deno.test({
  name: "install.sh: with wget and shasum instead of curl and sha256sum",
  ignore: !onSystem("wget") || !onSystem("shasum"),
}, async () => {
  await using rel = await fakeReleases();
  const home = await Deno.makeTempDir({ prefix: "dbxr-install-" });
  try {
    // A PATH of the system's commands minus curl and sha256sum.
    const tools = `${home}/tools`;
    await Deno.mkdir(tools);
    const have = new Set<string>();
    for (const dir of SYSTEM_BIN) {
      if (!await exists(dir)) continue;
      for await (const e of Deno.readDir(dir)) {
        if (e.name === "curl" || e.name === "sha256sum" || have.has(e.name)) continue;
        have.add(e.name);
        await Deno.symlink(`${dir}/${e.name}`, `${tools}/${e.name}`);
      }
    }
    const env = { HOME: home, PATH: tools, DBXR_INSTALL_BASE_URL: rel.base };
    const ok = await sh([SCRIPT, "--prefix", `${home}/bin`], env);
    assertEquals(ok.code, 0, ok.stderr);
    assertEquals(await runInstalled(`${home}/bin/dbxr`), "dbxr 1.0.0 (fake)");
    const bad = await sh([SCRIPT, "--prefix", `${home}/bin`, "--version", "v6.6.6"], env);
    assertEquals(bad.code, 1, bad.stderr);
    assertStringIncludes(bad.stderr, "checksum mismatch");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("install.sh: bad usage and no repository are refused", async () => {
  await using rel = await fakeReleases();
  const home = await Deno.makeTempDir({ prefix: "dbxr-install-" });
  try {
    const unknown = await install(["--frobnicate"], { HOME: home, DBXR_INSTALL_BASE_URL: rel.base });
    assertEquals(unknown.code, 1);
    assertStringIncludes(unknown.stderr, "unknown option: --frobnicate");
    const noRepo = await install(["--prefix", `${home}/x`], { HOME: home });
    assertEquals(noRepo.code, 1);
    assertStringIncludes(noRepo.stderr, "set DBXR_REPO=owner/name");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

// install.ps1 needs PowerShell (pwsh), which GitHub's Linux runners have; where it is missing these are
// skipped (the script is then untested on that machine).
const PWSH = (() => {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (dir && Deno.statSync(`${dir}/pwsh`).isFile) return `${dir}/pwsh`;
    } catch { /* not here */ }
  }
  return undefined;
})();

// On Linux the installed .exe is a downloaded file without the exec bit (as on Windows): compare bytes.
async function pwsh(args: string[], env: Record<string, string>): Promise<Result> {
  const out = await new Deno.Command(PWSH!, {
    args: ["-NoLogo", "-NoProfile", "-NonInteractive", ...args],
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stderr: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

Deno.test({
  name:
    "install.ps1: `irm … | iex` installs dbxr.exe; -Version -Emulator; a corrupted asset installs nothing",
  ignore: PWSH === undefined,
}, async () => {
  await using rel = await fakeReleases();
  const home = await Deno.makeTempDir({ prefix: "dbxr-install-ps1-" });
  try {
    const env = {
      HOME: home,
      LOCALAPPDATA: home,
      PROCESSOR_ARCHITECTURE: "AMD64",
      DBXR_INSTALL_BASE_URL: rel.base,
    };
    const dir = `${home}/Programs/dbxr`;
    const piped = await pwsh(["-Command", `irm '${rel.base}/latest/download/install.ps1' | iex`], env);
    assertEquals(piped.code, 0, piped.stderr);
    assertEquals(await Deno.readTextFile(`${dir}/dbxr.exe`), fake("dbxr", "1.0.0"));
    assertEquals(await exists(`${dir}/dbxr-emulator.exe`), false);
    assertStringIncludes(piped.stderr, `verified dbxr-${WINDOWS}.exe`);

    const prefix = `${home}/bin`;
    const ok = await pwsh(["-File", PS1, "-Version", "0.9.0", "-Emulator", "-Prefix", prefix], env);
    assertEquals(ok.code, 0, ok.stderr);
    assertEquals(await Deno.readTextFile(`${prefix}/dbxr.exe`), fake("dbxr", "0.9.0"));
    assertEquals(await Deno.readTextFile(`${prefix}/dbxr-emulator.exe`), fake("dbxr-emulator", "0.9.0"));

    const bad = await pwsh(["-File", PS1, "-Version", "v6.6.7", "-Emulator", "-Prefix", prefix], env);
    assert(bad.code !== 0, bad.stderr);
    assertStringIncludes(bad.stderr, `checksum mismatch for dbxr-emulator-${WINDOWS}.exe`);
    assertEquals(await Deno.readTextFile(`${prefix}/dbxr.exe`), fake("dbxr", "0.9.0"));
    assertEquals([...Deno.readDirSync(prefix)].map((e) => e.name).sort(), ["dbxr-emulator.exe", "dbxr.exe"]);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
