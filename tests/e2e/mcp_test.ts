// `dbxr mcp` end to end: an MCP client of the official SDK drives the server, started as a subprocess under
// scripts/permission_flags.txt, against the emulator. The session files are the CLI's: the tests check them
// with the CLI too.

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { denoDir, permissionFlags, ROOT_DIR } from "../../scripts/flags.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { type Served, served } from "../helpers/served.ts";

type J = Record<string, unknown>;
type Progress = { progress: number; message?: string };

interface Answer {
  isError: boolean;
  /** The first text block parsed: the CLI's JSON, or the dbxr error. */
  json: J & { [k: string]: unknown };
  structured?: J;
  exitCode: number;
  texts: string[];
}

function env(s: Served): Record<string, string> {
  return {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    DENO_DIR: denoDir(),
    NO_COLOR: "1",
    TZ: "UTC",
    HOME: s.home,
    DATABRICKS_HOST: s.host,
    DATABRICKS_TOKEN: s.emulator.token,
  };
}

function serverArgs(dir: string, flags = permissionFlags()): string[] {
  return ["run", "--quiet", "--no-prompt", ...flags, `${ROOT_DIR}main.ts`, "mcp", "--project-dir", dir];
}

async function mcp(s: Served, flags = permissionFlags()) {
  const dir = await Deno.makeTempDir({ dir: s.home, prefix: "mcp-" });
  const transport = new StdioClientTransport({
    command: Deno.execPath(),
    args: serverArgs(dir, flags),
    env: env(s),
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (d: Uint8Array) => stderr += new TextDecoder().decode(d));
  const client = new Client({ name: "dbxr-test", version: "0" });
  const errors: unknown[] = [];
  client.onerror = (e: unknown) => errors.push(e);
  await client.connect(transport);
  const call = async (
    name: string,
    args: J,
    opts: { onprogress?: (p: Progress) => void; signal?: AbortSignal } = {},
  ): Promise<Answer> => {
    const r = await client.callTool({ name, arguments: args }, undefined, { ...opts, timeout: 120_000 });
    const texts = (r.content as Array<{ type: string; text: string }>).map((c) => c.text);
    return {
      isError: Boolean(r.isError),
      json: JSON.parse(texts[0]),
      structured: r.structuredContent as J | undefined,
      exitCode: (r._meta as J)?.["dbxr/exit_code"] as number,
      texts,
    };
  };
  const cluster = async () => {
    const found = await call("cluster", { action: "find", name: "analytics" });
    assertEquals(found.isError, false, found.texts[0]);
    return (found.json as unknown as J[])[0].cluster_id as string;
  };
  return {
    dir,
    client,
    call,
    cluster,
    stderr: () => stderr,
    cli: (args: string[]) => s.dbxr([...args, "--project-dir", dir]),
    /**
     * Set by a test that aborts a call with progress: a notification the server sent before the cancel
     * reached it arrives after the client dropped the token, which the client reports as an error.
     */
    abortedWithProgress: false,
    async [Symbol.asyncDispose]() {
      await client.close();
      // A line on stdout that is not JSON-RPC reaches the client as a parse error.
      const real = errors.filter((e) => !(this.abortedWithProgress && /unknown token/.test(String(e))));
      assertEquals(real, [], `client errors; server stderr:\n${stderr}`);
    },
  };
}

Deno.test("mcp: tools/list has the five tools, each with a description and an object schema", async () => {
  await using s = await served();
  await using m = await mcp(s);
  const { tools } = await m.client.listTools();
  assertEquals(tools.map((t: { name: string }) => t.name), [
    "repl",
    "read_output",
    "job",
    "cluster",
    "llm_ask",
  ]);
  for (const t of tools) {
    assert((t.description ?? "").length > 20, t.name);
    assertEquals(t.inputSchema.type, "object");
  }
  const repl = tools[0].inputSchema.properties as Record<string, { enum?: string[] }>;
  assertEquals(repl.action.enum, [
    "create",
    "exec",
    "await",
    "cancel",
    "status",
    "destroy",
    "history",
    "replay",
    "consolidate",
  ]);
  assertEquals(m.client.getServerVersion()?.name, "dbxr");
});

Deno.test("mcp: the SDK reads no environment variable: without --allow-env the server lists and calls tools", async () => {
  await using s = await served();
  // Any read of a variable outside the scope would throw NotCapable here (--no-prompt), and the server die.
  await using m = await mcp(s, permissionFlags().filter((f) => !f.startsWith("--allow-env")));
  assertEquals((await m.client.listTools()).tools.length, 5);
  await Deno.mkdir(`${m.dir}/repl_outputs`);
  await Deno.writeTextFile(`${m.dir}/repl_outputs/001_x.stdout`, "one\ntwo\n");
  const r = await m.call("read_output", { cmd_id: "001_x", offset: 1 });
  assertEquals([r.isError, r.json.text], [false, "two\n"], r.texts[0]);
});

Deno.test("mcp: create, exec twice keeps state; the CLI sees the same session; a timeout then await with progress", async () => {
  await using s = await served();
  await using m = await mcp(s);
  const created = await m.call("repl", {
    action: "create",
    cluster_id: await m.cluster(),
    session_name: "mcp",
  });
  assertEquals([created.isError, created.json.status], [false, "created"], created.texts[0]);
  assertEquals(created.structured, created.json);

  const a = await m.call("repl", { action: "exec", code: "x = 41", tag: "set" });
  assertEquals([a.json.cmd_id, a.json.status, a.exitCode], ["001_set", "Finished", 0]);
  const b = await m.call("repl", { action: "exec", code: "print(x + 1)", tag: "get" });
  assertEquals([b.json.cmd_id, b.json.status, b.json.stdout_preview], ["002_get", "Finished", "42"]);
  assertEquals(b.json.stdout_file, `${m.dir}/repl_outputs/002_get.stdout`);

  // The CLI works on the same files: status sees both steps, and its exec continues the numbering.
  const status = await m.cli(["status"]);
  assertEquals(status.code, 0, status.stdout + status.stderr);
  assertEquals(status.json().steps, 2);
  const cli = await m.cli(["exec", "--command", "print(x * 2)", "--tag", "cli"]);
  assertEquals([cli.json().cmd_id, cli.json().stdout_preview], ["003_cli", "82"]);

  const execProgress: Progress[] = [];
  const slow = await m.call(
    "repl",
    { action: "exec", code: "import time\ntime.sleep(3)\nprint('slept')", tag: "slow", timeout_seconds: 0.5 },
    { onprogress: (p) => execProgress.push(p) },
  );
  assertEquals([slow.isError, slow.json.status, slow.exitCode], [false, "Running", 8], slow.texts[0]);
  assertEquals(slow.json.cmd_id, "004_slow");
  const progress: Progress[] = [];
  const done = await m.call("repl", { action: "await", timeout_seconds: 30 }, {
    onprogress: (p) => progress.push(p),
  });
  assertEquals([done.json.cmd_id, done.json.status, done.json.stdout_preview], [
    "004_slow",
    "Finished",
    "slept",
  ]);
  // Progress came while waiting: growing numbers with a message saying what is awaited.
  assert(execProgress.length >= 1, "no progress during exec");
  assert(progress.length >= 2, `progress: ${JSON.stringify(progress)}`);
  for (let i = 1; i < progress.length; i++) assert(progress[i].progress > progress[i - 1].progress);
  assert(
    progress.some((p) => /^repl await: waiting \(\d+s\)$/.test(p.message ?? "")),
    JSON.stringify(progress),
  );

  // After an eviction: history lists the steps, replay's plan and replay bring x back.
  const history = await m.call("repl", { action: "history" });
  assertEquals((history.json.steps as Array<{ tag: string }>).map((st) => st.tag), [
    "set",
    "get",
    "cli",
    "slow",
  ]);
  const contextId = JSON.parse(await Deno.readTextFile(`${m.dir}/session.json`)).context_id;
  await s.control("POST", `contexts/${contextId}/evict`);
  const evicted = await m.call("repl", { action: "exec", code: "print(x)", tag: "after" });
  assertEquals([evicted.json.status, evicted.exitCode], ["ContextEvicted", 9], evicted.texts[0]);
  const plan = await m.call("repl", { action: "replay", dry_run: true });
  assertEquals(plan.json.status, "planned", plan.texts[0]);
  const replayed = await m.call("repl", { action: "replay", timeout_seconds: 30 });
  assertEquals([replayed.json.status, replayed.exitCode], ["replayed", 0], replayed.texts[0]);
  const again = await m.call("repl", { action: "exec", code: "print(x)", tag: "after" });
  assertEquals([again.json.status, again.json.stdout_preview], ["Finished", "41"]);
});

Deno.test("mcp: repl cancel, and a cancelled tools/call cancels the remote command as Ctrl-C does", async () => {
  await using s = await served();
  await using m = await mcp(s);
  await m.call("repl", { action: "create", cluster_id: await m.cluster(), session_name: "c" });
  const r = await m.call("repl", {
    action: "exec",
    code: "import time\ntime.sleep(60)",
    tag: "long",
    timeout_seconds: 0.5,
  });
  assertEquals(r.json.status, "Running");
  const c = await m.call("repl", { action: "cancel" });
  assertEquals([c.isError, c.json.status, c.json.step_status], [false, "cancelled", "Cancelled"], c.texts[0]);

  // The client gives up on a call (notifications/cancelled): the server cancels the command remotely and
  // records the step, so that the next step runs at once instead of finding a busy session.
  const abort = new AbortController();
  const pending = m.call("repl", { action: "exec", code: "import time\ntime.sleep(60)", tag: "aborted" }, {
    signal: abort.signal,
  });
  await new Promise((r) => setTimeout(r, 1500));
  abort.abort("changed my mind");
  await pending.then(() => assert(false, "an aborted call must reject"), () => {});
  let last: J | undefined;
  for (let i = 0; i < 100; i++) {
    const sj = JSON.parse(await Deno.readTextFile(`${m.dir}/session.json`));
    last = sj.steps.at(-1);
    if (sj.active_command === undefined && last?.tag === "aborted") break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assertEquals([last?.tag, last?.status], ["aborted", "Cancelled"]);
  const next = await m.call("repl", {
    action: "exec",
    code: "print('free')",
    tag: "next",
    timeout_seconds: 20,
  });
  assertEquals([next.json.status, next.json.stdout_preview], ["Finished", "free"], next.texts[0]);
});

Deno.test("mcp: read_output reads a window by lines or bytes, from the end, and refuses paths outside", async () => {
  await using s = await served();
  await using m = await mcp(s);
  await m.call("repl", { action: "create", cluster_id: await m.cluster(), session_name: "r" });
  const e = await m.call("repl", {
    action: "exec",
    code: "for i in range(10):\n    print(f'line{i}')",
    tag: "lines",
  });
  // As Databricks returns it: without the final newline.
  assertEquals(e.json.stdout_bytes, 59);
  const lines = await m.call("read_output", { cmd_id: "001_lines", offset: 3, limit: 2 });
  assertEquals(lines.isError, false, lines.texts[0]);
  assertEquals(lines.json, {
    path: "repl_outputs/001_lines.stdout",
    unit: "lines",
    offset: 3,
    returned: 2,
    total: 10,
    next_offset: 5,
    eof: false,
    text: "line3\nline4\n",
  });
  const bytes = await m.call("read_output", { cmd_id: "001_lines", unit: "bytes", offset: 12, limit: 10 });
  assertEquals([bytes.json.text, bytes.json.next_offset, bytes.json.total], ["line2\nline", 22, 59]);
  const tail = await m.call("read_output", { path: "repl_outputs/001_lines.stdout", offset: -2 });
  assertEquals([tail.json.text, tail.json.eof, tail.json.next_offset], ["line8\nline9", true, null]);

  await Deno.writeTextFile(`${s.home}/secret.txt`, "not yours");
  const outside = await m.call("read_output", { path: "../secret.txt" });
  assertEquals([outside.isError, outside.json.error], [true, "PermissionDenied"], outside.texts[0]);
  await Deno.symlink(`${s.home}/secret.txt`, `${m.dir}/link.txt`);
  const viaLink = await m.call("read_output", { path: "link.txt" });
  assertEquals([viaLink.isError, viaLink.json.error], [true, "PermissionDenied"]);
  const missing = await m.call("read_output", { cmd_id: "009_nope", stream: "stderr" });
  assertEquals([missing.isError, missing.json.error], [true, "FileNotFound"]);
});

const USES_FILE = "import pathlib\nhere = pathlib.Path(__file__).parent\nprint('running from', here)\n";
const ARGV = "import sys\nprint('argv', sys.argv[1:])\n";

Deno.test("mcp: job check with a finding; job run with arguments, its log read through read_output", async () => {
  await using s = await served();
  await using m = await mcp(s);
  await Deno.writeTextFile(`${m.dir}/uses_file.py`, USES_FILE);
  await Deno.writeTextFile(`${m.dir}/argv.py`, ARGV);

  const check = await m.call("job", { action: "check", files: ["uses_file.py"] });
  // A failed check is the check's answer (exit 1), as the CLI prints it, not a tool failure.
  assertEquals([check.isError, check.exitCode, check.json.status], [false, 1, "PreflightFailed"]);
  const findings = check.json.findings as J[];
  assert(findings.some((f) => f.rule === "file-dunder"), JSON.stringify(findings));

  const progress: Progress[] = [];
  const run = await m.call(
    "job",
    { action: "run", file: "argv.py", args: ["--epochs", "3"], cluster_id: await m.cluster() },
    { onprogress: (p) => progress.push(p) },
  );
  assertEquals(
    [run.isError, run.json.status, run.exitCode],
    [false, "SUCCESS", 0],
    run.texts[0] + m.stderr(),
  );
  const task = (run.json.tasks as J[])[0];
  const log = await m.call("read_output", { path: task.log_file as string });
  assertStringIncludes(log.json.text as string, "argv ['--epochs', '3']");
  assert(progress.some((p) => /run \d+/.test(p.message ?? "")), JSON.stringify(progress));

  const status = await m.call("job", { action: "status", run_id: run.json.run_id });
  assertEquals([status.json.result_state, (status.json.tasks as J[]).length], ["SUCCESS", 1]);

  // The same script on serverless compute: no cluster, a job environment.
  const serverless = await m.call("job", { action: "run", file: "argv.py", args: ["x"], serverless: true });
  assertEquals([serverless.isError, serverless.json.status], [false, "SUCCESS"], serverless.texts[0]);
  assertEquals(serverless.json.compute, "serverless");
});

Deno.test("mcp: bad arguments are tool errors carrying dbxr's JSON error", async () => {
  await using s = await served();
  await using m = await mcp(s);
  const missing = await m.call("repl", { action: "exec", code: "print(1)" });
  assertEquals(missing.isError, true);
  assertEquals(missing.json.status, "InvalidArgument");
  assertEquals(missing.json.error, "InvalidArgument");
  assertEquals(missing.exitCode, 2);
  assertStringIncludes(missing.json.message as string, "needs tag");

  const wrongType = await m.call("repl", {
    action: "exec",
    code: "print(1)",
    tag: "t",
    timeout_seconds: "soon",
  });
  assertEquals([wrongType.isError, wrongType.json.error], [true, "InvalidArgument"]);
  assertStringIncludes(wrongType.json.message as string, "timeout_seconds");

  const notForAction = await m.call("repl", { action: "status", code: "print(1)" });
  assertEquals([notForAction.isError, notForAction.json.error], [true, "InvalidArgument"]);
  const badAction = await m.call("job", { action: "explode" });
  assertEquals([badAction.isError, badAction.json.error], [true, "InvalidArgument"]);

  // A service's own error: no session in this folder, with the hint the CLI gives.
  const noSession = await m.call("repl", { action: "exec", code: "print(1)", tag: "t" });
  assertEquals([noSession.isError, noSession.json.error, noSession.exitCode], [true, "NoSession", 4]);
  assertMatch(noSession.json.hint as string, /^dbxr create /);
});

Deno.test("mcp: stdout carries nothing but JSON-RPC, even when the tools log, warn and fail", async () => {
  await using s = await served();
  const dir = await Deno.makeTempDir({ dir: s.home, prefix: "mcp-raw-" });
  await Deno.writeTextFile(`${dir}/job.py`, "print('hello from the job')\n");
  const cluster = (await s.dbxr(["find-cluster", "--name", "analytics"])).json().cluster_id as string;
  const child = new Deno.Command(Deno.execPath(), {
    args: serverArgs(dir),
    env: env(s),
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const send = (m: J) =>
    writer.write(new TextEncoder().encode(JSON.stringify({ jsonrpc: "2.0", ...m }) + "\n"));
  const out: string[] = [];
  const answered = new Map<number, J>();
  const reading = (async () => {
    let buf = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        out.push(line);
        try {
          const m = JSON.parse(line);
          if (typeof m.id === "number") answered.set(m.id, m);
        } catch { /* checked below */ }
      }
    }
    if (buf) out.push(buf);
  })();
  const stderrText = new Response(child.stderr).text();
  const reply = async (id: number) => {
    for (let i = 0; i < 1200 && !answered.has(id); i++) await new Promise((r) => setTimeout(r, 100));
    return answered.get(id);
  };
  const call = (id: number, name: string, args: J) =>
    send({ id, method: "tools/call", params: { name, arguments: args, _meta: { progressToken: `p${id}` } } });

  await send({
    id: 1,
    method: "initialize",
    params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "0" } },
  });
  await reply(1);
  await send({ method: "notifications/initialized" });
  await send({ id: 2, method: "tools/list" });
  await call(3, "repl", { action: "create", cluster_id: cluster, session_name: "raw" });
  await reply(3);
  await call(4, "repl", { action: "exec", code: "print('to stdout')\n1/0", tag: "boom" });
  await call(5, "job", { action: "run", file: "job.py", cluster_id: cluster });
  await call(6, "cluster", { action: "start", cluster_id: "no-such-cluster", wait: true });
  await reply(4);
  await reply(5);
  await reply(6);
  await writer.close();
  const status = await child.status;
  await reading;
  const stderr = await stderrText;
  assertEquals(status.code, 0, stderr);

  assert(out.length >= 6, out.join("\n"));
  const notifications: J[] = [];
  for (const line of out) {
    const m = JSON.parse(line); // throws on any line that is not JSON
    assertEquals(m.jsonrpc, "2.0", line);
    assert("id" in m || "method" in m, line);
    if (m.method) notifications.push(m);
  }

  assertEquals(((answered.get(4)!.result as J).structuredContent as J).status, "Error");
  assertEquals(((answered.get(5)!.result as J).structuredContent as J).status, "SUCCESS");
  const failed = answered.get(6)!.result as J;
  assertEquals(failed.isError, true);
  assertStringIncludes(JSON.stringify(failed.content), "ClusterNotFound");
  // The job run logged to stderr (submitted, states) and sent the same lines as progress.
  assertStringIncludes(stderr, "submitted");
  assert(
    notifications.some((n) =>
      n.method === "notifications/progress" && (n.params as J).progressToken === "p5"
    ),
    JSON.stringify(notifications),
  );
});

Deno.test("mcp: a cancelled job run call cancels the run, as Ctrl-C does in the CLI", async () => {
  await using s = await served();
  await using m = await mcp(s);
  await Deno.writeTextFile(`${m.dir}/slow.py`, "import time\ntime.sleep(120)\n");
  const abort = new AbortController();
  let runId: number | undefined;
  const pending = m.call("job", { action: "run", file: "slow.py", cluster_id: await m.cluster() }, {
    signal: abort.signal,
    onprogress: (p) => {
      const id = /run (\d+) submitted/.exec(p.message ?? "")?.[1];
      if (id && runId === undefined) {
        runId = Number(id);
        m.abortedWithProgress = true;
        setTimeout(() => abort.abort("stop"), 1000);
      }
    },
  });
  await pending.then(() => assert(false, "an aborted call must reject"), () => {});
  assert(runId !== undefined, "no progress notification named the run");
  let state: J = {};
  for (let i = 0; i < 100; i++) {
    state = (await s.dbxr(["job", "status", String(runId)])).json();
    if (state.life_cycle_state === "TERMINATED" || state.life_cycle_state === "INTERNAL_ERROR") break;
    await new Promise((r) => setTimeout(r, 300));
  }
  assertEquals([state.life_cycle_state, state.result_state], ["TERMINATED", "CANCELED"]);
});

Deno.test("mcp: closing stdin while a step runs cancels the step, records it, and the server exits 0", async () => {
  await using s = await served();
  const dir = await Deno.makeTempDir({ dir: s.home, prefix: "mcp-close-" });
  const cluster = (await s.dbxr(["find-cluster", "--name", "analytics"])).json().cluster_id as string;
  const created = await s.dbxr([
    "create",
    "--cluster-id",
    cluster,
    "--session-name",
    "close",
    "--project-dir",
    dir,
  ]);
  assertEquals(created.code, 0, created.stdout);
  const child = new Deno.Command(Deno.execPath(), {
    args: serverArgs(dir),
    env: env(s),
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  const send = (m: J) => w.write(new TextEncoder().encode(JSON.stringify({ jsonrpc: "2.0", ...m }) + "\n"));
  const output = child.output();
  await send({
    id: 1,
    method: "initialize",
    params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "0" } },
  });
  await send({ method: "notifications/initialized" });
  await send({
    id: 2,
    method: "tools/call",
    params: { name: "repl", arguments: { action: "exec", code: "import time\ntime.sleep(60)", tag: "slow" } },
  });
  for (let i = 0; i < 100; i++) {
    if (JSON.parse(await Deno.readTextFile(`${dir}/session.json`)).active_command?.command_id) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const t0 = Date.now();
  await w.close();
  const out = await output;
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  assert(Date.now() - t0 < 15_000, "the server took too long to stop");
  const sj = JSON.parse(await Deno.readTextFile(`${dir}/session.json`));
  assertEquals(sj.active_command, undefined);
  assertEquals([sj.steps.at(-1).tag, sj.steps.at(-1).status], ["slow", "Cancelled"]);
});
