// What the release binary's permissions allow and refuse, proven on the sources: `deno compile` cannot run
// offline, so main.ts runs here under exactly the run-time flags that scripts/release/compile.ts hands to
// `deno compile` for dbxr (runtimeFlags("dbxr"), read from scripts/permission_flags.txt).
//
// - network: the emulator on 127.0.0.1 answers; any other host is HostNotAllowed before a byte is sent
//   (every HTTP(S) request of the child is routed through a recording proxy, which sees nothing for a
//   refused host and a CONNECT for an allowed one);
// - processes: only `databricks` runs. dbxr's one process start is the databricks-cli auth method, whose
//   program a profile can change (databricks_cli_path): pointed at another program, it is refused and that
//   program never runs; named `databricks` on PATH, the same program runs. A probe under the same flags
//   shows that other programs cannot be started by any code path;
// - the Python dbxr sends (REPL bootstrap, job wrapper) comes from the module graph: a copy of the sources
//   without src/assets/*.py creates, execs and runs a wrapped job, sending exactly the embedded code.

import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { type Served, served } from "../helpers/served.ts";
import { denoDir, ROOT_DIR } from "../../scripts/flags.ts";
import { compileArgs, runtimeFlags } from "../../scripts/release/compile.ts";
import BOOTSTRAP_SOURCE from "../../src/assets/repl_bootstrap_py.ts";
import JOB_WRAP_SOURCE from "../../src/assets/job_wrap_py.ts";
import { BOOTSTRAP_VERSION } from "../../src/assets/repl_protocol.ts";

const FLAGS = runtimeFlags("dbxr");
const dec = new TextDecoder();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  // deno-lint-ignore no-explicit-any
  json(): any;
}

/** Runs `entry` (main.ts by default) under FLAGS with a clean environment: PATH, HOME and what is given. */
async function scoped(
  args: string[],
  opts: { env?: Record<string, string>; entry?: string; cwd?: string; signal?: AbortSignal } = {},
): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...FLAGS, opts.entry ?? `${ROOT_DIR}main.ts`, ...args],
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", DENO_DIR: denoDir(), NO_COLOR: "1", ...opts.env },
    clearEnv: true,
    cwd: opts.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: opts.signal,
  }).spawn();
  const out = await child.output();
  const stdout = dec.decode(out.stdout);
  const stderr = dec.decode(out.stderr);
  return {
    code: out.code,
    stdout,
    stderr,
    json() {
      try {
        return JSON.parse(stdout);
      } catch {
        throw new Error(`not JSON (exit ${out.code}):\n${stdout}\n${stderr}`);
      }
    },
  };
}

const env = (s: Served, more: Record<string, string> = {}) => ({
  HOME: s.home,
  DATABRICKS_HOST: s.host,
  DATABRICKS_TOKEN: s.emulator.token,
  ...more,
});

Deno.test("the flags under test are the ones deno compile gets for dbxr, for every target", () => {
  for (const target of [undefined, "x86_64-unknown-linux-gnu", "x86_64-pc-windows-msvc"] as const) {
    const args = compileArgs("dbxr", target);
    assertEquals(args.slice(1, 1 + FLAGS.length), FLAGS);
    // Nothing else that grants a permission.
    assertEquals(args.slice(1 + FLAGS.length).filter((a) => a.startsWith("--allow") || a === "-A"), []);
  }
  assert(FLAGS.includes("--allow-run=databricks"));
  assert(FLAGS.some((f) => f.startsWith("--allow-net=") && f.includes("127.0.0.1")));
});

Deno.test("network: the emulator on 127.0.0.1 answers under the release flags", async () => {
  await using s = await served();
  assert(s.host.startsWith("http://127.0.0.1:"), s.host);
  const list = await scoped(["cluster", "list", "--json"], { env: env(s) });
  assertEquals(list.code, 0, list.stdout + list.stderr);
  assert(Array.isArray(list.json()) && list.json().length > 0, list.stdout);
  const doctor = await scoped(["doctor", "--json"], { env: env(s) });
  assertEquals(doctor.code, 0, doctor.stdout + doctor.stderr);
  assertEquals(doctor.json().status, "ok");
  // Deno prints no "Failed to resolve 'databricks'" notice: --quiet is part of the flags.
  assertEquals(list.stderr, "");
});

/** A forward proxy on 127.0.0.1 that records the first line of each connection and answers 502. */
function recordingProxy() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const seen: string[] = [];
  let onSeen: () => void = () => {};
  (async () => {
    for await (const conn of listener) {
      (async () => {
        const buf = new Uint8Array(4096);
        const n = await conn.read(buf).catch(() => null);
        if (n) {
          seen.push(dec.decode(buf.subarray(0, n)).split("\r\n")[0]);
          onSeen();
        }
        await conn.write(new TextEncoder().encode("HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n"))
          .catch(() => {});
        conn.close();
      })();
    }
  })().catch(() => {});
  const url = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  return {
    seen,
    env: { HTTPS_PROXY: url, HTTP_PROXY: url, https_proxy: url, http_proxy: url },
    firstSeen: () => new Promise<void>((resolve) => (onSeen = resolve)),
    close: () => listener.close(),
  };
}

Deno.test("network: any other host is HostNotAllowed and nothing is sent; an allowed host goes out", async () => {
  await using s = await served();
  const proxy = recordingProxy();
  try {
    const refused = [
      "https://example.com",
      "http://example.com",
      "https://10.1.2.3",
      "https://adb-1.cloud.databricks.com.example.org", // a look-alike
      "http://127.0.0.2:8443", // loopback, but not a listed address
    ];
    for (const host of refused) {
      const r = await scoped(["--host", host, "cluster", "list", "--json"], {
        env: { HOME: s.home, DATABRICKS_TOKEN: "dapi-x", ...proxy.env },
      });
      assertEquals(r.code, 7, `${host}: ${r.stdout}${r.stderr}`);
      const e = r.json();
      assertEquals(e.error, "HostNotAllowed", host);
      assertStringIncludes(e.message, new URL(host).hostname);
    }
    // doctor says so too, with the same code.
    const doctor = await scoped(["--host", "https://example.com", "doctor", "--json"], {
      env: { HOME: s.home, DATABRICKS_TOKEN: "dapi-x", ...proxy.env },
    });
    assertStringIncludes(doctor.stdout, "HostNotAllowed");
    assertEquals(proxy.seen, [], "a refused host reached the proxy");

    // The control: a Databricks host is let through, so the proxy sees it (then answers 502).
    const seen = proxy.firstSeen();
    const ac = new AbortController();
    const allowed = scoped(["--host", "https://adb-1.cloud.databricks.com", "cluster", "list", "--json"], {
      env: { HOME: s.home, DATABRICKS_TOKEN: "dapi-x", ...proxy.env },
      signal: ac.signal,
    });
    const timeout = setTimeout(() => ac.abort(), 30_000);
    await Promise.race([seen, allowed]);
    ac.abort(); // its retries after the 502 are not what this test is about
    clearTimeout(timeout);
    await allowed.catch(() => {});
    assertEquals(proxy.seen[0], "CONNECT adb-1.cloud.databricks.com:443 HTTP/1.1");
  } finally {
    proxy.close();
  }
});

/** A stand-in for a CLI that prints a token: it leaves a marker file when it runs. */
async function tokenProgram(dir: string, name: string, token: string, marker: string) {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(
    path,
    `#!/bin/sh\necho "$0 $*" >> '${marker}'\n` +
      `printf '{"access_token": "${token}", "token_type": "Bearer", "expiry": "2099-01-01T00:00:00Z"}\\n'\n`,
    { mode: 0o755 },
  );
  return path;
}

const exists = (p: string) => Deno.stat(p).then(() => true, () => false);

Deno.test("processes: a profile's databricks_cli_path to another program is refused and it never runs", async () => {
  await using s = await served();
  const bin = await Deno.makeTempDir({ dir: s.home, prefix: "bin-" });
  const marker = `${s.home}/ran.txt`;
  const other = await tokenProgram(bin, "my-token-helper", s.emulator.token, marker);
  await tokenProgram(bin, "databricks", s.emulator.token, marker);
  await Deno.writeTextFile(
    `${s.home}/.databrickscfg`,
    `[other]\nhost = ${s.host}\nauth_type = databricks-cli\ndatabricks_cli_path = ${other}\n\n` +
      `[cli]\nhost = ${s.host}\nauth_type = databricks-cli\n\n` +
      `[az]\nhost = ${s.host}\nauth_type = azure-cli\n`,
  );
  // PATH holds the stand-in `databricks` (and `az`, also a marker-leaving stand-in).
  await tokenProgram(bin, "az", s.emulator.token, marker);
  const path = `${bin}:${Deno.env.get("PATH")}`;

  const refused = await scoped(["--profile", "other", "cluster", "list", "--json"], {
    env: { HOME: s.home, PATH: path },
  });
  assertEquals(refused.code, 3, refused.stdout + refused.stderr);
  assertEquals(refused.json().error, "AuthError");
  assertStringIncludes(refused.json().message, "outside dbxr's permission scope (--allow-run=databricks)");
  assertEquals(await exists(marker), false, "the other program ran");

  // An auth method that other tools serve by running a program (az) is refused before anything runs.
  const az = await scoped(["--profile", "az", "cluster", "list", "--json"], {
    env: { HOME: s.home, PATH: path },
  });
  assertEquals(az.code, 3, az.stdout + az.stderr);
  assertEquals(az.json().error, "AuthError");
  assertEquals(await exists(marker), false, "az ran");

  // The control: the same kind of program, as `databricks` on PATH, runs and its token works.
  const ok = await scoped(["--profile", "cli", "cluster", "list", "--json"], {
    env: { HOME: s.home, PATH: path },
  });
  assertEquals(ok.code, 0, ok.stdout + ok.stderr);
  assertEquals((await Deno.readTextFile(marker)).trim(), `${bin}/databricks auth token --profile cli`);
});

Deno.test("processes: under the release flags no code can start any program but databricks", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dbxr-run-probe-" });
  try {
    await tokenProgram(dir, "databricks", "t", `${dir}/ran.txt`);
    const probe = `${dir}/probe.ts`;
    await Deno.writeTextFile(
      probe,
      `const out: Record<string, string> = {};
for (const cmd of Deno.args) {
  try {
    const r = await new Deno.Command(cmd, { args: ["--version"], stdout: "null", stderr: "null" }).output();
    out[cmd] = "ran, exit " + r.code;
  } catch (e) {
    out[cmd] = (e as Error).name;
  }
}
console.log(JSON.stringify(out));
`,
    );
    // Programs that exist on any machine that runs these tests (a missing one is NotFound, not refused).
    const programs = [
      "sh",
      "/bin/sh",
      "python3",
      Deno.execPath(),
      `${dir}/databricks`,
    ];
    const r = await scoped([...programs, "databricks"], {
      entry: probe,
      env: { PATH: `${dir}:/usr/bin:/bin` },
    });
    assertEquals(r.code, 0, r.stdout + r.stderr);
    const res = r.json();
    for (const p of programs.slice(0, -1)) assertEquals(res[p], "NotCapable", p);
    // databricks, by name or by the path it resolves to on PATH, is the one that runs.
    assertEquals(res[`${dir}/databricks`], "ran, exit 0");
    assertEquals(res["databricks"], "ran, exit 0");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function copyTree(from: string, to: string) {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyTree(`${from}/${e.name}`, `${to}/${e.name}`);
    else if (e.isFile) await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

Deno.test("the REPL bootstrap and the job wrapper come from the module graph, not from src/assets/*.py", async () => {
  await using s = await served();
  // The sources a binary is compiled from, minus the Python files.
  const copy = await Deno.makeTempDir({ dir: s.home, prefix: "src-" });
  for (const f of ["main.ts", "deno.json", "deno.lock"]) {
    await Deno.copyFile(`${ROOT_DIR}${f}`, `${copy}/${f}`);
  }
  await copyTree(`${ROOT_DIR}src`, `${copy}/src`);
  const removed: string[] = [];
  for await (const e of Deno.readDir(`${copy}/src/assets`)) {
    if (e.name.endsWith(".py")) {
      await Deno.remove(`${copy}/src/assets/${e.name}`);
      removed.push(e.name);
    }
  }
  assertEquals(removed.sort(), ["job_wrap.py", "repl_bootstrap.py"]);

  const project = await Deno.makeTempDir({ dir: s.home, prefix: "proj-" });
  await Deno.writeTextFile(
    `${project}/report.py`,
    "import pathlib\nprint('report from', pathlib.Path(__file__).name)\n",
  );
  const dbxr = (args: string[]) =>
    scoped(["--project-dir", project, ...args], { entry: `${copy}/main.ts`, cwd: project, env: env(s) });

  const cluster = (await dbxr(["find-cluster", "--name", "analytics", "--json"])).json().cluster_id;
  const created = await dbxr(["create", "--cluster-id", cluster, "--session-name", "graph"]);
  assertEquals(created.code, 0, created.stdout + created.stderr);
  // The bootstrap ran in the context: sub_llm exists, and the command sent was the embedded module's text.
  const exec = await dbxr(["exec", "--tag", "probe", "--command", "print(callable(sub_llm), _dbxr.version)"]);
  assertEquals(exec.code, 0, exec.stdout + exec.stderr);
  assertEquals(exec.json().stdout_preview, `True ${BOOTSTRAP_VERSION}`);
  const sent = (s.emulator.control.requests() as Array<{ method: string; path: string; body?: unknown }>)
    .filter((r) => r.method === "POST" && r.path === "/api/1.2/commands/execute")
    .map((r) => (r.body as { command?: string }).command);
  assertEquals(sent.filter((c) => c === BOOTSTRAP_SOURCE).length, 1);
  assertEquals((await dbxr(["destroy"])).code, 0);

  const job = await dbxr(["job", "run", `${project}/report.py`, "--cluster-id", cluster, "--wrap"]);
  assertEquals(job.code, 0, job.stdout + job.stderr);
  assertEquals(job.json().status, "SUCCESS");
  const wrappers = s.emulator.state.workspace.list("/").filter((o) => o.path.endsWith("/_dbxr_wrap.py"));
  assertEquals(wrappers.length, 1);
  assertEquals(dec.decode(wrappers[0].bytes), JOB_WRAP_SOURCE);
});
