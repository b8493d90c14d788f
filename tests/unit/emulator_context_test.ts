// The emulator's execution contexts: each test drives a real python3 (with IPython) through
// spawnContext, as the API 1.2 routes will.

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import {
  type CommandHandle,
  type ContextProcess,
  type Language,
  spawnContext,
  type SpawnContextOptions,
} from "../../src/emulator/context_process.ts";

const API_URL = "http://127.0.0.1:8123";
const TOKEN = "dapi-emulator-test-token";
const MARKER = "*** WARNING: max output size exceeded, skipping output. ***";

async function withContext(
  fn: (ctx: ContextProcess, dir: string) => Promise<void>,
  options: Partial<SpawnContextOptions> = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dbxr-ctx-test-" });
  const ctx = spawnContext({
    cwd: dir,
    apiUrl: API_URL,
    apiToken: TOKEN,
    workspaceHost: "127.0.0.1:8123",
    ...options,
  });
  try {
    const started = await ctx.ready;
    assert(started.ok, started.ok ? "" : started.message);
    await fn(ctx, dir);
  } finally {
    await ctx.kill();
    await Deno.remove(dir, { recursive: true });
  }
}

async function run(
  ctx: ContextProcess,
  command: string,
  language: Language = "python",
): Promise<CommandHandle> {
  const h = ctx.execute(command, language);
  await within(h.done, 20_000, command);
  return h;
}

async function text(ctx: ContextProcess, command: string): Promise<string> {
  const h = await run(ctx, command);
  assertEquals(h.status, "Finished");
  assert(h.results?.resultType === "text", `expected text, got ${JSON.stringify(h.results)}`);
  return h.results.data;
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("a context runs Python like a Databricks REPL and keeps its globals", async (t) => {
  await withContext(async (ctx, dir) => {
    await t.step("print output without its final newline", async () => {
      assertEquals(
        await text(ctx, "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\nprint(fib(10))"),
        "55",
      );
      assertEquals(await text(ctx, "x = 5"), "");
    });
    await t.step("globals persist and a last expression is displayed as Out[n]", async () => {
      assertMatch(await text(ctx, "x * fib(10) // 5"), /^Out\[\d+\]: 55$/);
      assertEquals(await text(ctx, "print(fib(10) + x)"), "60");
    });
    await t.step("an exception drops what was printed and reports summary + ANSI cause", async () => {
      const h = await run(ctx, "print('lost')\n1 / 0");
      assertEquals(h.status, "Finished");
      assert(h.results?.resultType === "error");
      assertEquals(h.results.summary, "<span class='ansi-red-fg'>ZeroDivisionError</span>: division by zero");
      assertStringIncludes(h.results.cause ?? "", "\x1b[0;31mZeroDivisionError\x1b[0m");
      assertStringIncludes(h.results.cause ?? "", "<command-");
      assert(!("data" in h.results), "an error result has no data");
    });
    await t.step("a SyntaxError is an error result too", async () => {
      const h = await run(ctx, "1 +");
      assert(h.results?.resultType === "error");
      assertMatch(
        h.results.summary ?? "",
        /^<span class='ansi-red-fg'>SyntaxError<\/span>: invalid syntax \(&lt;command-\d+&gt;, line 1\)$/,
      );
    });
    await t.step("stderr, subprocess output and raw fd writes are merged in write order", async () => {
      assertEquals(
        await text(ctx, "import sys\nprint('a')\nprint('b', file=sys.stderr)\nprint('c')"),
        "a\nb\nc",
      );
      assertEquals(await text(ctx, "import subprocess\nsubprocess.run(['echo', 'hi']);"), "hi");
      assertEquals(await text(ctx, "import os\nos.write(1, b'ok \\xff\\xfe\\n');"), "ok \ufffd\ufffd");
    });
    await t.step("%%sh runs the cell with sh; a failing cell is a CalledProcessError", async () => {
      assertEquals(await text(ctx, "%%sh\necho from-sh\necho to-stderr >&2"), "from-sh\nto-stderr");
      const h = await run(ctx, "%%sh\nexit 3");
      assert(h.results?.resultType === "error");
      assertStringIncludes(h.results.summary ?? "", "CalledProcessError</span>: Command");
      assertStringIncludes(h.results.summary ?? "", "returned non-zero exit status 3.");
      assertEquals(await text(ctx, "!echo bang"), "bang");
      assertEquals(
        await text(ctx, "exit()\nprint('exit() does not end a context')"),
        "exit() does not end a context",
      );
    });
    await t.step("reading stdin gets EOF instead of hanging the protocol", async () => {
      assertEquals(await text(ctx, "import sys\nprint(repr(sys.stdin.read()))"), "''");
      const h = await run(ctx, "input()");
      assert(h.results?.resultType === "error");
      assertStringIncludes(h.results.summary ?? "", "EOFError");
      assertEquals(await text(ctx, "print('still here')"), "still here");
    });
    await t.step("dbutils and spark.conf give the emulator's URL, token and bare host", async () => {
      const ctxExpr = "dbutils.notebook.entry_point.getDbutils().notebook().getContext()";
      assertEquals(await text(ctx, `print(${ctxExpr}.apiToken().get())`), TOKEN);
      assertEquals(await text(ctx, `print(${ctxExpr}.apiUrl().get())`), API_URL);
      assertEquals(
        await text(ctx, "print(spark.conf.get('spark.databricks.workspaceUrl'))"),
        "127.0.0.1:8123",
      );
      assertEquals(await text(ctx, "print(spark.conf.get('no.such.key', 'dflt'))"), "dflt");
      // The token reaches dbutils over the private channel only; the CWD is the context's directory.
      const cwd = JSON.stringify(await Deno.realPath(dir));
      assertEquals(
        await text(
          ctx,
          `import os\nprint(${JSON.stringify(TOKEN)} in str(os.environ), os.getcwd() == ${cwd})`,
        ),
        "False True",
      );
      const h = await run(ctx, "spark.sql('select 1')");
      assert(h.results?.resultType === "error");
      assertStringIncludes(h.results.summary ?? "", "AttributeError");
      assertStringIncludes(h.results.summary ?? "", "spark.sql is not available in the dbxr emulator");
    });
    await t.step("dbutils.notebook.exit ends the command with its value as the text", async () => {
      assertEquals(
        await text(ctx, "print('dropped')\ndbutils.notebook.exit('{\"ok\": 1}')\nprint('never')"),
        '{"ok": 1}',
      );
    });
    await t.step("an image result is a data URL", async () => {
      const h = await run(
        ctx,
        "class Png:\n    def _repr_png_(self):\n        return b'\\x89PNG\\r\\n'\nPng()",
      );
      assertEquals(h.results, { resultType: "image", fileName: "data:image/png;base64,iVBORw0K" });
    });
    await t.step("SQL runs on sqlite3 with a table result, and SQL errors are error results", async () => {
      const created = await run(
        ctx,
        "CREATE TABLE t (id INTEGER, name TEXT); INSERT INTO t VALUES (1, 'a'), (2, 'b');",
        "sql",
      );
      assert(created.results?.resultType === "table");
      assertEquals(created.results.data, [[2, 2]]);
      const h = await run(ctx, "SELECT id, name FROM t ORDER BY id", "sql");
      assertEquals(h.results, {
        resultType: "table",
        data: [[1, "a"], [2, "b"]],
        schema: [
          { name: "id", type: '"long"', metadata: "{}" },
          { name: "name", type: '"string"', metadata: "{}" },
        ],
        truncated: false,
        isJsonSchema: true,
      });
      const many = await run(
        ctx,
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c LIMIT 10005) SELECT n FROM c",
        "sql",
      );
      assert(many.results?.resultType === "table");
      assertEquals([many.results.data.length, many.results.truncated], [10000, true]);
      const bad = await run(ctx, "SELECT * FROM missing_table", "sql");
      assertEquals(bad.status, "Finished");
      assert(bad.results?.resultType === "error");
      assertEquals(
        bad.results.summary,
        "<span class='ansi-red-fg'>OperationalError</span>: no such table: missing_table",
      );
      assertStringIncludes(bad.results.cause ?? "", "\x1b[");
    });
    await t.step(
      "restartPython: the command finishes, then globals, sys.path and CWD reset; SQL tables stay",
      async () => {
        await text(
          ctx,
          "import os, sys\nkept = 1\nos.makedirs('sub', exist_ok=True)\nos.chdir('sub')\nsys.path.append('/nowhere')",
        );
        assertEquals(
          await text(ctx, "dbutils.library.restartPython()\nprint('after restart call')"),
          "after restart call",
        );
        assertEquals(
          await text(
            ctx,
            "import os, sys\nprint('kept' in globals(), '/nowhere' in sys.path, os.path.basename(os.getcwd()) == 'sub', 'dbutils' in globals())",
          ),
          "False False False True",
        );
        const h = await run(ctx, "SELECT count(*) AS n FROM t", "sql");
        assert(h.results?.resultType === "table");
        assertEquals(h.results.data, [[2]]);
      },
    );
  });
});

Deno.test("restartPython in a context that never ran SQL, and %restart_python", async () => {
  await withContext(async (ctx) => {
    assertEquals(await text(ctx, "x = 1\ndbutils.library.restartPython()"), "");
    assertEquals(await text(ctx, "print('x' in globals())\ny = 2\n%restart_python"), "False");
    assertMatch(await text(ctx, "'y' in globals()"), /^Out\[1\]: False$/);
  });
});

Deno.test("text past the output limit keeps head and tail around Databricks' marker", async () => {
  await withContext(async (ctx) => {
    const data = await text(ctx, "print('a' * 30000 + 'b' * 30000)");
    assertEquals(data, "a".repeat(25_000) + "\n\n" + MARKER + "\n\n" + "b".repeat(25_000));
    assertEquals(await text(ctx, "print('c' * 50000)"), "c".repeat(50_000));
  });
  await withContext(async (ctx) => {
    assertEquals(
      await text(ctx, "for i in range(100):\n    print(i)"),
      "0\n1\n2\n3\n4\n" + "\n\n" + MARKER + "\n\n" + "6\n97\n98\n99",
    );
  }, { outputLimit: 20 });
});

Deno.test("%pip runs pip as Databricks does, and fails offline as pip fails (not a SyntaxError)", async () => {
  // PIP_RETRIES=0 only shortens pip's offline retries; the command line is the user's, unchanged.
  await withContext(async (ctx) => {
    const h = ctx.execute("%pip install nonexistent-pkg-xyz", "python");
    await within(h.done, 60_000, "%pip install");
    assertEquals(h.status, "Finished");
    assert(h.results?.resultType === "error");
    assertEquals(
      h.results.summary,
      "<span class='ansi-red-fg'>CalledProcessError</span>: Command &#x27;pip --disable-pip-version-check " +
        "install nonexistent-pkg-xyz&#x27; returned non-zero exit status 1.",
    );
  }, { env: { PIP_RETRIES: "0" } });
});

Deno.test("cancel interrupts a running command with either outcome, and the context stays usable", async () => {
  await withContext(async (ctx) => {
    const t0 = Date.now();
    // Cancelled before the host started it: the SIGINT waits for "started", then interrupts.
    const a = ctx.execute("import time\ntime.sleep(30)", "python");
    assert(ctx.cancel(a.id, "Cancelled"));
    assertEquals(a.status, "Cancelling");
    await within(a.done, 10_000, "cancel");
    assertEquals([a.status, a.results], ["Cancelled", null]);
    assertEquals(ctx.get(a.id), a);

    const b = ctx.execute("print('partial')\nimport time\ntime.sleep(30)", "python");
    await new Promise((r) => setTimeout(r, 300)); // now surely inside time.sleep
    assert(ctx.cancel(b.id, "FinishedWithCancelledException"));
    await within(b.done, 10_000, "cancel");
    assertEquals([b.status, b.capturedOutput], ["Finished", "partial"]);
    assert(b.results?.resultType === "error");
    assertStringIncludes(
      b.results.cause ?? "",
      "com.databricks.backend.common.rpc.CommandCancelledException",
    );
    assert(Date.now() - t0 < 10_000);

    assertEquals(await text(ctx, "print('next')"), "next");
    assertEquals(ctx.cancel("no-such-command", "Cancelled"), false);
  });
});

Deno.test("a queued command is cancelled without running", async () => {
  await withContext(async (ctx) => {
    const first = ctx.execute("import time\ntime.sleep(1)\nran = ['first']", "python");
    const queued = ctx.execute("ran.append('queued')", "python");
    assertEquals(queued.status, "Queued");
    assert(ctx.cancel(queued.id, "Cancelled"));
    assertEquals([queued.status, queued.results], ["Cancelled", null]);
    await within(first.done, 10_000, "first");
    assertEquals(await text(ctx, "print(ran)"), "['first']");
  });
});

Deno.test("kill() ends running and queued commands with CommandCancelledException and reaps the process", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dbxr-ctx-test-" });
  const ctx = spawnContext({ cwd: dir, apiUrl: API_URL, apiToken: TOKEN, workspaceHost: "127.0.0.1:8123" });
  try {
    assert((await ctx.ready).ok);
    const running = ctx.execute(
      "import subprocess\nsubprocess.Popen(['sleep', '60'])\nimport time\ntime.sleep(60)",
      "python",
    );
    const queued = ctx.execute("print(1)", "python");
    await new Promise((r) => setTimeout(r, 300));
    const pid = ctx.pid!;
    await within(ctx.kill(), 10_000, "kill");
    for (const h of [running, queued]) {
      assertEquals(h.status, "Finished");
      assert(h.results?.resultType === "error");
      assertStringIncludes(h.results.cause ?? "", "CommandCancelledException");
    }
    assertEquals(ctx.alive, false);
    assertEquals(processGroupAlive(pid), false, "the host and its children are gone");
    const late = ctx.execute("print(2)", "python");
    assertEquals(late.status, "Error");
  } finally {
    await ctx.kill();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a Python process that dies ends its commands with status Error and the kernel message", async () => {
  await withContext(async (ctx) => {
    const dying = ctx.execute("import os\nos._exit(1)", "python");
    const queued = ctx.execute("print(1)", "python");
    await within(ctx.closed, 10_000, "exit");
    for (const h of [dying, queued]) {
      assertEquals(h.status, "Error");
      assert(h.results?.resultType === "error");
      assertStringIncludes(
        h.results.cause ?? "",
        "java.lang.IllegalStateException: jupyter client is not available",
      );
    }
    assertEquals([ctx.alive, ctx.state], [false, "Error"]);
  });
});

Deno.test("an interpreter without IPython fails at start with a message that says how to fix it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dbxr-ctx-test-" });
  const wrapper = `${dir}/python-without-site`;
  await Deno.writeTextFile(wrapper, '#!/bin/sh\nexec python3 -S "$@"\n');
  await Deno.chmod(wrapper, 0o755);
  const ctx = spawnContext({
    python: wrapper,
    cwd: `${dir}/ctx`,
    apiUrl: API_URL,
    apiToken: TOKEN,
    workspaceHost: "h",
  });
  try {
    const started = await within(ctx.ready, 10_000, "start");
    assert(!started.ok);
    assertStringIncludes(started.message, "IPython");
    assertStringIncludes(started.message, "pip install ipython");
    assertStringIncludes(started.message, "DBXR_EMULATOR_PYTHON");
    const h = ctx.execute("print(1)", "python");
    await h.done;
    assertEquals(h.status, "Error");
    assert(h.results?.resultType === "error");
    assertStringIncludes(h.results.cause ?? "", "ReplStartFailureException");
    const missing = spawnContext({
      python: "/no/such/python3",
      cwd: dir,
      apiUrl: API_URL,
      apiToken: TOKEN,
      workspaceHost: "h",
    });
    const r = await missing.ready;
    assert(!r.ok && r.message.includes("/no/such/python3"), JSON.stringify(r));
    await missing.kill();
  } finally {
    await ctx.kill();
    await Deno.remove(dir, { recursive: true });
  }
});

/** Any process of the group that is not a zombie (zombies wait for a reaper outside our control). */
function processGroupAlive(pgid: number): boolean {
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(pgrp) === pgid && state !== "Z") return true;
    } catch { /* exited meanwhile */ }
  }
  return false;
}

Deno.test("cancel and kill also work under the emulator's own permission flags (no Deno.kill)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dbxr-ctx-test-" });
  const script = `${dir}/drive.ts`;
  const moduleUrl = new URL("../../src/emulator/context_process.ts", import.meta.url).href;
  await Deno.writeTextFile(
    script,
    `import { spawnContext } from ${JSON.stringify(moduleUrl)};
const ctx = spawnContext({ cwd: Deno.args[0], apiUrl: "http://127.0.0.1:1", apiToken: "t", workspaceHost: "127.0.0.1:1" });
const out = { ready: (await ctx.ready).ok };
const a = ctx.execute("import time\\ntime.sleep(30)", "python");
await new Promise((r) => setTimeout(r, 300));
ctx.cancel(a.id, "Cancelled");
await a.done;
out.cancelled = a.status;
const b = ctx.execute("import subprocess, time\\nsubprocess.Popen(['sleep', '60'])\\ntime.sleep(60)", "python");
await new Promise((r) => setTimeout(r, 300));
out.pid = ctx.pid;
const t0 = Date.now();
await ctx.kill();
out.killMs = Date.now() - t0;
out.killed = b.status;
console.log(JSON.stringify(out));
`,
  );
  try {
    const flags =
      (await Deno.readTextFile(new URL("../../scripts/emulator_permission_flags.txt", import.meta.url)))
        .split(/\s+/).filter(Boolean);
    const res = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...flags, script, `${dir}/ctx`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(res.stderr);
    assert(res.success, stderr);
    const out = JSON.parse(new TextDecoder().decode(res.stdout));
    assertEquals([out.ready, out.cancelled, out.killed], [true, "Cancelled", "Finished"]);
    assert(out.killMs < 1500, `kill took ${out.killMs} ms: the channel EOF should have taken the group down`);
    assertEquals(processGroupAlive(out.pid), false, "the host and its children are gone");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
