// The REPL bootstrap (src/assets/repl_bootstrap.py) in a real IPython execution context of the emulator:
// the output that Databricks drops when a command fails is kept and paged back with small follow-ups,
// nothing leaks into the user's namespace, and sub_llm() calls a (fake, local) serving endpoint with the
// context's own token.

import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { type CommandHandle, type ContextProcess, spawnContext } from "../../src/emulator/context_process.ts";
import {
  BOOTSTRAP_SOURCE,
  BOOTSTRAP_VERSION,
  firstTailCommand,
  OUTPUT_CHUNK_MAX,
  OUTPUT_CHUNK_SIZE,
  outputChunkCommand,
  outputZChunkCommand,
  parseOutputChunk,
  parseOutputZChunk,
  parsePing,
  PING_COMMAND,
  readKeptOutput,
  readKeptTail,
} from "../../src/assets/repl_protocol.ts";

const TOKEN = "dapi-context-own-token";
const API_LIMIT = 50_000;
const utf8 = new TextEncoder();

async function withContext(
  fn: (ctx: ContextProcess) => Promise<void>,
  apiUrl = "http://127.0.0.1:9",
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dbxr-bootstrap-test-" });
  const ctx = spawnContext({ cwd: dir, apiUrl, apiToken: TOKEN, workspaceHost: new URL(apiUrl).host });
  try {
    const started = await ctx.ready;
    assert(started.ok, started.ok ? "" : started.message);
    await fn(ctx);
  } finally {
    await ctx.kill();
    await Deno.remove(dir, { recursive: true });
  }
}

async function run(ctx: ContextProcess, command: string): Promise<CommandHandle> {
  const h = ctx.execute(command, "python");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${command.slice(0, 80)}`)), 20_000);
  });
  try {
    await Promise.race([h.done, timeout]);
  } finally {
    clearTimeout(timer);
  }
  return h;
}

async function text(ctx: ContextProcess, command: string): Promise<string> {
  const h = await run(ctx, command);
  assertEquals(h.status, "Finished");
  assert(h.results?.resultType === "text", `expected text, got ${JSON.stringify(h.results)}`);
  return h.results.data;
}

/** The command fails, and as on Databricks its result has the error only: no printed text. */
async function failing(ctx: ContextProcess, command: string): Promise<{ summary: string; cause: string }> {
  const h = await run(ctx, command);
  assertEquals(h.status, "Finished");
  assert(h.results?.resultType === "error", `expected an error, got ${JSON.stringify(h.results)}`);
  assert(!("data" in h.results), "an error result has no data");
  return { summary: unescape(h.results.summary ?? ""), cause: h.results.cause ?? "" };
}

function unescape(html: string): string {
  return html.replace(/<[^>]+>/g, "").replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

async function inject(ctx: ContextProcess): Promise<void> {
  assertEquals(await text(ctx, BOOTSTRAP_SOURCE), "", "the bootstrap prints nothing and echoes no Out[n]");
}

/** The previous command's kept output, paged with follow-ups of `chunkSize` bytes. */
async function kept(
  ctx: ContextProcess,
  chunkSize = OUTPUT_CHUNK_SIZE,
): Promise<{ text: string; cut: boolean }> {
  const out = await readKeptOutput(async (command) => {
    const data = await text(ctx, command);
    assert(data.length < API_LIMIT, `a follow-up's result (${data.length} characters) fits the output limit`);
    assert(!data.includes("\n"), "a follow-up prints one line");
    return data;
  }, { chunkSize });
  assert(out, "the follow-up answered with a chunk");
  assert(out.complete);
  assertEquals(out.bytes.length, out.total);
  return { text: new TextDecoder("utf-8", { fatal: true }).decode(out.bytes), cut: out.cut };
}

const NAMES = "print(__import__('json').dumps(sorted(dir())))";
/** IPython's own history names: _, __, ___, _i, _ii, _iii, _iN, _N. */
const IPYTHON_HISTORY = /^(_{1,3}|_i{1,3}|_i?\d+)$/;

Deno.test("protocol helpers: the follow-up command, its JSON line and the ping", () => {
  assertEquals(outputChunkCommand(0), "_dbxr.output_chunk(0, 30000)");
  assertEquals(outputChunkCommand(60000, 500), "_dbxr.output_chunk(60000, 500)");
  assertEquals(PING_COMMAND, "_dbxr.ping()");
  assert(Math.ceil(OUTPUT_CHUNK_MAX / 3) * 4 + 100 < API_LIMIT, "the largest chunk's line fits the limit");
  const chunk = parseOutputChunk('noise from a thread\n{"total":3,"offset":1,"data":"YmM=","cut":false}');
  assertEquals(chunk, { total: 3, offset: 1, bytes: utf8.encode("bc"), cut: false });
  assertEquals(parseOutputChunk("NameError: name '_dbxr' is not defined"), null);
  assertEquals(parseOutputChunk('{"total":"x"}'), null);
  assertEquals(parsePing("dbxr-bootstrap 1"), "1");
  assertEquals(parsePing(""), null);
});

Deno.test("the bootstrap prints nothing, adds only _dbxr, sub_llm, sub_llm_batch and sub_llm_usage, and can be sent again", async () => {
  await withContext(async (ctx) => {
    const before: string[] = JSON.parse(await text(ctx, NAMES));
    const t0 = performance.now();
    await inject(ctx);
    const injectMs = performance.now() - t0;
    const after: string[] = JSON.parse(await text(ctx, NAMES));
    const added = after.filter((n) => !before.includes(n) && !IPYTHON_HISTORY.test(n));
    assertEquals(added.sort(), ["_dbxr", "sub_llm", "sub_llm_batch", "sub_llm_usage"]);
    assertEquals(before.filter((n) => !after.includes(n)), []);

    assertEquals(parsePing(await text(ctx, PING_COMMAND)), BOOTSTRAP_VERSION, "_dbxr.version");
    const status = JSON.parse(await text(ctx, "_dbxr.status()"));
    assertEquals(status.hooked, true);
    assertEquals(status.tee, { stdout: true, stderr: true });
    assertEquals(status.max_bytes, 20 * 1024 * 1024);

    // Sent again: same names, one hook, one tee per stream, and the copy of the last command stays.
    assertEquals(await text(ctx, "print('before the second bootstrap')"), "before the second bootstrap");
    await inject(ctx);
    assertEquals(await kept(ctx), { text: "before the second bootstrap\n", cut: false });
    const again: string[] = JSON.parse(await text(ctx, NAMES));
    assertEquals(again.filter((n) => !after.includes(n) && !IPYTHON_HISTORY.test(n)), []);
    assertEquals(
      await text(
        ctx,
        "_s = __import__('sys')\n" +
          "print(sum(1 for cb in get_ipython().events.callbacks['pre_run_cell'] if getattr(cb, '_dbxr_hook', 0)),\n" +
          "      hasattr(type(_s.stdout), '_dbxr_tee'), hasattr(type(_s.stdout._dbxr_orig), '_dbxr_tee'),\n" +
          "      hasattr(type(_s.stderr._dbxr_orig), '_dbxr_tee'))\ndel _s",
      ),
      "1 True False False",
    );
    assert(injectMs < 2000, `injecting took ${injectMs.toFixed(0)} ms`);
  });
});

Deno.test("output that a failing command printed is kept and paged back with follow-ups", async (t) => {
  await withContext(async (ctx) => {
    await inject(ctx);
    await t.step(
      "stdout and stderr in write order, unicode included; the follow-up is one JSON line",
      async () => {
        const { summary } = await failing(
          ctx,
          "import sys\nprint('out 1')\nprint('err ✓', file=sys.stderr)\nsys.stdout.write('héllo 日本 🎉\\n')\n" +
            "sys.stderr.writelines(['a', 'b\\n'])\nraise ValueError('boom')",
        );
        assertEquals(summary, "ValueError: boom");
        const expected = "out 1\nerr ✓\nhéllo 日本 🎉\nab\n";
        const line = await text(ctx, outputChunkCommand(0));
        assertMatch(line, /^\{"total":\d+,"offset":0,"data":"[A-Za-z0-9+/=]*","cut":false\}$/);
        assertEquals(parseOutputChunk(line)?.total, utf8.encode(expected).length);
        // Pages of 5 bytes split multi-byte characters; the bytes still join up exactly.
        assertEquals(await kept(ctx, 5), { text: expected, cut: false });
        assertEquals(await kept(ctx), { text: expected, cut: false }, "follow-ups do not replace the copy");
        const past = parseOutputChunk(await text(ctx, outputChunkCommand(1_000_000)));
        assertEquals(past && { total: past.total, n: past.bytes.length }, {
          total: utf8.encode(expected).length,
          n: 0,
        });
      },
    );

    await t.step(
      "more than one chunk of output comes back whole, each follow-up under the limit",
      async () => {
        const lines = Array.from(
          { length: 3000 },
          (_, i) => `line ${String(i).padStart(5, "0")} ${"x".repeat(40)}\n`,
        );
        await failing(ctx, "for i in range(3000):\n    print(f'line {i:05d} ' + 'x' * 40)\n1 / 0");
        let follow = 0;
        const out = await readKeptOutput(async (c) => {
          follow++;
          const data = await text(ctx, c);
          assert(data.length < API_LIMIT);
          return data;
        });
        assert(out?.complete);
        assertEquals(new TextDecoder().decode(out.bytes), lines.join(""));
        assertEquals(follow, Math.ceil(out.total / OUTPUT_CHUNK_SIZE));
        assert(follow > 1);
        const big = parseOutputChunk(await text(ctx, outputChunkCommand(0, 1_000_000)));
        assertEquals(big?.bytes.length, OUTPUT_CHUNK_MAX, "a size past the maximum is capped");
      },
    );

    await t.step("a successful command's output is kept too; an empty one keeps nothing", async () => {
      assertEquals(
        await text(ctx, "print('fine')\nprint('fine 2', file=__import__('sys').stderr)"),
        "fine\nfine 2",
      );
      assertEquals(await kept(ctx), { text: "fine\nfine 2\n", cut: false });
      assertEquals(await text(ctx, "x = 1"), "");
      assertEquals(await kept(ctx), { text: "", cut: false });
    });

    await t.step("writes from several threads are all kept, each once", async () => {
      await failing(
        ctx,
        "import sys, threading\n" +
          "def w(n):\n    for i in range(500):\n        sys.stdout.write(f't{n} {i}\\n')\n" +
          "ts = [threading.Thread(target=w, args=(n,)) for n in range(4)]\n" +
          "[t.start() for t in ts]\n[t.join() for t in ts]\nraise RuntimeError('after threads')",
      );
      const got = (await kept(ctx)).text.split("\n").filter((l) => l);
      assertEquals(got.length, 2000);
      for (let n = 0; n < 4; n++) {
        const mine = got.filter((l) => l.startsWith(`t${n} `));
        assertEquals(mine, Array.from({ length: 500 }, (_, i) => `t${n} ${i}`), "per-thread order kept");
      }
    });

    await t.step("a cancelled command's output is kept as well", async () => {
      const h = ctx.execute("import time\nprint('started')\nwhile True:\n    time.sleep(0.01)", "python");
      await new Promise((r) => setTimeout(r, 150));
      ctx.cancel(h.id, "Cancelled");
      await h.done;
      assertEquals(h.status, "Cancelled");
      assertEquals(await kept(ctx), { text: "started\n", cut: false });
    });
  });
});

Deno.test("past _dbxr.max_bytes the copy keeps head and tail around a marker, on character boundaries", async () => {
  await withContext(async (ctx) => {
    await inject(ctx);
    assertEquals(await text(ctx, "_dbxr.max_bytes = 1000"), "");
    await failing(ctx, "print('A' * 499 + 'é' * 100)\nprint('Z' * 1000)\n1 / 0");
    // Head: 500 bytes, moved back to the start of the 'é' that byte 500 is in. Tail: the last 500 bytes.
    const dropped = 499 + 200 + 1 + 1001 - 499 - 500;
    assertEquals(await kept(ctx), {
      text: "A".repeat(499) + `\n\n*** dbxr: ${dropped} bytes of output cut here ***\n\n` + "Z".repeat(499) +
        "\n",
      cut: true,
    });

    await failing(ctx, "print('A' * 600)\nprint('é' * 1000)\n1 / 0");
    // The last 500 bytes start inside an 'é': the tail starts at the next character.
    assertEquals(await kept(ctx), {
      text: "A".repeat(500) + `\n\n*** dbxr: ${601 + 2001 - 500 - 499} bytes of output cut here ***\n\n` +
        "é".repeat(249) + "\n",
      cut: true,
    });

    // A megabyte through a 200 kB cap: the tail is trimmed while it grows, the edges stay exact.
    assertEquals(await text(ctx, "_dbxr.max_bytes = 200_000"), "");
    await failing(ctx, "for i in range(20000):\n    print('%07d' % i + '-' * 42)\nraise KeyError('big')");
    const line = (i: number) => `${String(i).padStart(7, "0")}${"-".repeat(42)}\n`;
    const range = (a: number, b: number) => Array.from({ length: b - a }, (_, k) => line(a + k)).join("");
    const out = await kept(ctx);
    assertEquals(out.cut, true);
    assertEquals(
      out.text,
      range(0, 2000) + `\n\n*** dbxr: ${1_000_000 - 200_000} bytes of output cut here ***\n\n` +
        range(18000, 20000),
    );
  });
});

Deno.test("the compressed follow-up brings the END of the copy back in few round trips, each under the limit", async (t) => {
  await withContext(async (ctx) => {
    await inject(ctx);
    const tail = async (maxBytes: number) => {
      let biggest = 0;
      const out = await readKeptTail(async (command) => {
        const data = await text(ctx, command);
        biggest = Math.max(biggest, data.length);
        return data;
      }, maxBytes);
      assert(out, "the follow-ups answered");
      assert(biggest < API_LIMIT, `a follow-up's result (${biggest} characters) fits the output limit`);
      return out;
    };

    await t.step(
      "text that compresses: 3 MB in a few follow-ups, exactly; repeated text in one",
      async () => {
        await failing(ctx, "for i in range(60000):\n    print('%07d' % i + '-' * 42)\nraise KeyError('big')");
        const out = await tail(8 * 1024 * 1024);
        assertEquals([out.start, out.total, out.cut, out.written], [0, 3_000_000, false, 3_000_000]);
        assert(out.requests <= 8, `${out.requests} follow-ups for 3 MB of numbered lines (plain pages: 100)`);
        const lines = new TextDecoder().decode(out.bytes).split("\n");
        assertEquals(lines.length, 60001);
        assertEquals(lines[59999], "0059999" + "-".repeat(42));
        await failing(ctx, "for i in range(60000):\n    print('ok ' * 16)\nraise KeyError('big')");
        const same = await tail(8 * 1024 * 1024);
        assertEquals([same.total, same.requests], [60000 * 49, 1]);
      },
    );

    await t.step("only the last maxBytes come back, starting on a character boundary", async () => {
      await failing(ctx, "print('é' * 100000, end='')\nprint('END')\n1 / 0");
      const out = await tail(1001);
      // 200,004 bytes; the last 1,001 start in the middle of an 'é': the tail starts one byte later.
      assertEquals([out.total, out.start, out.bytes.length], [200_004, 199_004, 1000]);
      assertEquals(new TextDecoder("utf-8", { fatal: true }).decode(out.bytes), "é".repeat(498) + "END\n");
    });

    await t.step("output that does not compress: every line under the limit, bytes exact", async () => {
      await failing(
        ctx,
        "import os, base64, hashlib\nb64 = base64.b64encode(os.urandom(150000)).decode()\nprint(b64)\n" +
          "digest = hashlib.sha256((b64 + '\\n').encode()).hexdigest()\n1 / 0",
      );
      const out = await tail(1024 * 1024);
      assertEquals([out.start, out.total], [0, 200_001]);
      assert(out.requests >= 5 && out.requests <= 8, `${out.requests} follow-ups for 200 kB of base64`);
      const digest = await crypto.subtle.digest("SHA-256", out.bytes as BufferSource);
      const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
      assertEquals(hex, await text(ctx, "print(digest)"));
    });

    await t.step(
      "a context with a version-1 bootstrap (no output_zchunk) falls back to plain pages",
      async () => {
        // Without the method (as in a context bootstrapped by an older dbxr): set before the command.
        assertEquals(await text(ctx, "del type(_dbxr).output_zchunk"), "");
        await failing(ctx, "print('x' * 100000)\nprint('tail')\n1 / 0");
        const out = await tail(50_000);
        assert(out);
        assertEquals([out.total, out.start, out.written], [100_006, 50_006, 100_006]);
        assertEquals(new TextDecoder().decode(out.bytes), "x".repeat(49_994) + "\ntail\n");
        assertEquals(out.requests, 1 + 2, "the first follow-up (the size), two pages");
      },
    );
  });
});

Deno.test("protocol helpers: the compressed follow-up and its JSON line", () => {
  assertEquals(
    firstTailCommand(4096),
    '_dbxr.output_zchunk(-4096) if hasattr(_dbxr, "output_zchunk") else _dbxr.output_chunk(0, 0)',
  );
  assertEquals(outputZChunkCommand(-4096), "_dbxr.output_zchunk(-4096)");
  assertEquals(outputZChunkCommand(10, 20), "_dbxr.output_zchunk(10, 20)");
  assertEquals(
    parseOutputZChunk('x\n{"total":3,"offset":1,"n":2,"z":"eJxLSgIAASYAxA==","cut":false,"written":3}'),
    {
      total: 3,
      offset: 1,
      n: 2,
      z: Uint8Array.from(atob("eJxLSgIAASYAxA=="), (c) => c.charCodeAt(0)),
      cut: false,
      written: 3,
    },
  );
  assertEquals(parseOutputZChunk('{"total":3,"offset":0,"data":"YmM=","cut":false}'), null);
});

Deno.test("the tee comes back when user code replaces sys.stdout or sys.stderr, and copies once", async () => {
  await withContext(async (ctx) => {
    await inject(ctx);
    // A wrapper around the tee: the next command's tee wraps the wrapper; the text is copied once.
    assertEquals(
      await text(
        ctx,
        "import sys\nclass Counting:\n    def __init__(self, inner):\n        self.inner, self.n = inner, 0\n" +
          "    def write(self, s):\n        self.n += 1\n        return self.inner.write(s)\n" +
          "    def flush(self):\n        self.inner.flush()\nsys.stdout = counting = Counting(sys.stdout)",
      ),
      "",
    );
    await failing(ctx, "print('once')\nprint(counting.n)\n1 / 0");
    assertEquals(await kept(ctx), { text: "once\n2\n", cut: false });
    // A stream put back from outside: wrapped again at the next command.
    assertEquals(await text(ctx, "sys.stdout = sys.__stdout__\nsys.stderr = sys.__stderr__"), "");
    await failing(ctx, "print('o')\nprint('e', file=sys.stderr)\nraise KeyError(1)");
    assertEquals(await kept(ctx), { text: "o\ne\n", cut: false });
    assertEquals(JSON.parse(await text(ctx, "_dbxr.status()")).tee, { stdout: true, stderr: true });
  });
});

Deno.test("restartPython wipes the bootstrap: the ping fails until it is sent again", async () => {
  await withContext(async (ctx) => {
    await inject(ctx);
    assertEquals(await text(ctx, "dbutils.library.restartPython()"), "");
    const { summary } = await failing(ctx, PING_COMMAND);
    assertEquals(summary, "NameError: name '_dbxr' is not defined");
    await inject(ctx);
    assertEquals(parsePing(await text(ctx, PING_COMMAND)), BOOTSTRAP_VERSION);
    await failing(ctx, "print('after restart')\n1 / 0");
    assertEquals(await kept(ctx), { text: "after restart\n", cut: false });
    // No serving endpoint listens at this context's apiUrl (port 9 on loopback).
    assertMatch(
      (await failing(ctx, "sub_llm('x')")).summary,
      /^RuntimeError: sub_llm: cannot reach endpoint 'default-llm-endpoint' at http:\/\/127\.0\.0\.1:9\/serving-endpoints\/default-llm-endpoint\/invocations: /,
    );
  });
});

interface Seen {
  path: string;
  auth: string | null;
  body: { messages: { role: string; content: string }[]; max_tokens: number; temperature: number };
}

/** A serving endpoint on loopback: echoes the prompt, `delay=MS` in a prompt delays the answer, `fail`
 * answers 500, and the endpoint `nope` does not exist. */
function fakeServing() {
  const seen: Seen[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const flakyCalls = new Map<string, number>();
  const closing = new AbortController();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    const body = await req.json();
    seen.push({ path, auth: req.headers.get("authorization"), body });
    const name = /^\/serving-endpoints\/([^/]+)\/invocations$/.exec(path)?.[1];
    if (!name || name === "nope") {
      return Response.json(
        { error_code: "RESOURCE_DOES_NOT_EXIST", message: `Serving endpoint with name ${name} not found` },
        { status: 404 },
      );
    }
    const user: string = body.messages.at(-1).content;
    const flaky = /flaky=(\d+)/.exec(user);
    if (flaky) {
      const n = (flakyCalls.get(user) ?? 0) + 1;
      flakyCalls.set(user, n);
      if (n <= Number(flaky[1])) {
        return Response.json({ error_code: "REQUEST_LIMIT_EXCEEDED", message: "slow down" }, {
          status: n % 2 ? 429 : 503,
          headers: { "retry-after": "0" },
        });
      }
    }
    if (user.includes("fail")) {
      return Response.json({ error_code: "INTERNAL_ERROR", message: "model crashed" }, { status: 500 });
    }
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      const delay = Number(/delay=(\d+)/.exec(user)?.[1] ?? 0);
      if (delay) {
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            closing.signal.removeEventListener("abort", done);
            resolve();
          };
          const timer = setTimeout(done, delay); // or sooner, when the test is over
          closing.signal.addEventListener("abort", done);
        });
      }
    } finally {
      inFlight--;
    }
    const system = body.messages.find((m: { role: string }) => m.role === "system")?.content;
    return Response.json({
      id: "chatcmpl-1",
      object: "chat.completion",
      model: name,
      choices: [{
        index: 0,
        message: { role: "assistant", content: `${system ? `[${system}] ` : ""}echo: ${user}` },
      }],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    seen,
    maxInFlight: () => maxInFlight,
    close: () => (closing.abort(), server.shutdown()),
  };
}

Deno.test("sub_llm and sub_llm_batch call the serving endpoint with the context's own URL and token", async (t) => {
  const serving = fakeServing();
  try {
    await withContext(async (ctx) => {
      await inject(ctx);
      await t.step("one call: the seed's request body, the context's token, the text back", async () => {
        assertEquals(await text(ctx, "print(sub_llm('hi'))"), "echo: hi");
        assertEquals(serving.seen.at(-1), {
          path: "/serving-endpoints/default-llm-endpoint/invocations",
          auth: `Bearer ${TOKEN}`,
          body: { messages: [{ role: "user", content: "hi" }], max_tokens: 1024, temperature: 0 },
        });
        assertEquals(
          await text(
            ctx,
            "print(sub_llm('q', endpoint='echo', max_tokens=7, system='be brief', temperature=0.5))",
          ),
          "[be brief] echo: q",
        );
        assertEquals(serving.seen.at(-1)?.body, {
          messages: [{ role: "system", content: "be brief" }, { role: "user", content: "q" }],
          max_tokens: 7,
          temperature: 0.5,
        });
      });

      await t.step("a batch runs in parallel and keeps the order of its prompts", async () => {
        const n0 = serving.seen.length;
        const out = await text(
          ctx,
          "r = sub_llm_batch([f'delay={(5 - i) * 40} p{i}' for i in range(6)], endpoint='echo', system='s')\n" +
            "print(__import__('json').dumps(r))",
        );
        assertEquals(
          JSON.parse(out),
          Array.from({ length: 6 }, (_, i) => `[s] echo: delay=${(5 - i) * 40} p${i}`),
        );
        assertEquals(serving.seen.length - n0, 6);
        assert(serving.maxInFlight() > 1, "the calls overlapped");
        assertEquals(await text(ctx, "print(sub_llm_batch([]))"), "[]");
      });

      await t.step(
        "an HTTP error raises with the status and the server's message, never the token",
        async () => {
          const { summary, cause } = await failing(ctx, "sub_llm('x', endpoint='nope')");
          assertEquals(
            summary,
            "RuntimeError: sub_llm: endpoint 'nope' returned HTTP 404: RESOURCE_DOES_NOT_EXIST: " +
              "Serving endpoint with name nope not found",
          );
          assert(!summary.includes(TOKEN) && !cause.includes(TOKEN));
          // IPython hides dbxr's frames except the one that raised.
          assertEquals(cause.split("_dbxr_bootstrap.<locals>").length - 1, 1, "one frame of dbxr's");
        },
      );

      await t.step("429/503 with Retry-After are retried; usage adds up in sub_llm_usage()", async () => {
        assertEquals(await text(ctx, "_ = sub_llm_usage(reset=True)"), "");
        assertEquals(await text(ctx, "print(sub_llm('flaky=2 x', endpoint='echo'))"), "echo: flaky=2 x");
        const usage = JSON.parse(await text(ctx, "print(__import__('json').dumps(sub_llm_usage()))"));
        assertEquals(usage, {
          calls: 1,
          failed_calls: 0,
          retries: 2,
          prompt_tokens: 1,
          completion_tokens: 1,
          total_tokens: 2,
        });
      });

      await t.step(
        "a batch asks every prompt, keeps the order, and then raises (or gives None)",
        async () => {
          assertEquals(await text(ctx, "_dbxr.llm_backoff_cap = 0.01"), "");
          const { summary } = await failing(ctx, "sub_llm_batch(['a', 'b', 'fail c', 'd'], endpoint='echo')");
          assertEquals(
            summary,
            "RuntimeError: sub_llm_batch: 1 of 4 prompts failed; first: prompts[2]: sub_llm: endpoint 'echo' " +
              "returned HTTP 500: INTERNAL_ERROR: model crashed (after 5 attempts)",
          );
          assertEquals(
            await text(
              ctx,
              "try:\n    sub_llm_batch(['fail a', 'b'], endpoint='echo', max_workers=1)\n" +
                "except RuntimeError as e:\n    print(e.index, e.results, sorted(e.errors))",
            ),
            "0 [None, 'echo: b'] [0]",
          );
          assertEquals(
            await text(
              ctx,
              "print(sub_llm_batch(['x', 'fail y', 'flaky=1 z'], endpoint='echo', on_error='none'))",
            ),
            "['echo: x', None, 'echo: flaky=1 z']",
          );
          assertEquals(await text(ctx, "_dbxr.llm_backoff_cap = 30.0"), "");
        },
      );

      await t.step("a request that outlives _dbxr.llm_timeout raises a timeout error", async () => {
        const started = performance.now();
        const { summary } = await failing(
          ctx,
          "_dbxr.llm_timeout = 0.3\nsub_llm('delay=1500 slow', endpoint='echo')",
        );
        assertEquals(summary, "RuntimeError: sub_llm: endpoint 'echo' did not answer within 0.3 s");
        assert(performance.now() - started < 1400, "it did not wait for the answer");
        assertEquals(await text(ctx, "_dbxr.llm_timeout = 300"), "");
      });

      await t.step("the endpoint name is quoted into the path", async () => {
        assertEquals(await text(ctx, "print(sub_llm('x', endpoint='a/b c'))"), "echo: x");
        assertEquals(serving.seen.at(-1)?.path, "/serving-endpoints/a%2Fb%20c/invocations");
      });
    }, serving.url);
  } finally {
    await serving.close();
  }
});
