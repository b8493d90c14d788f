// dbxr llm ask|batch|endpoints against the emulator's serving endpoints and its fake chat model.

import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { replSession, served } from "../helpers/served.ts";

const INVOKE = "POST /serving-endpoints/default-llm-endpoint/invocations";

Deno.test("llm endpoints and ask: the answer's text and usage; stdin; bad input and unknown endpoints", async () => {
  await using s = await served();
  const eps = await s.dbxr(["llm", "endpoints", "--json"]);
  assertEquals(eps.code, 0, eps.stdout);
  const list = eps.json<Array<Record<string, unknown>>>();
  const d = list.find((e) => e.name === "default-llm-endpoint")!;
  assertEquals([d.task, d.state], ["llm/v1/chat", "READY"]);

  const a = await s.dbxr([
    "llm",
    "ask",
    "--endpoint",
    "default-llm-endpoint",
    "--prompt",
    "Say hi",
    "--json",
  ]);
  assertEquals(a.code, 0, a.stdout + a.stderr);
  const ans = a.json<{ text: string; usage: { total_tokens: number }; attempts: number }>();
  assert(ans.text.length > 0);
  assert(ans.usage.total_tokens > 0);
  assertEquals(ans.attempts, 1);

  const piped = await s.dbxr(["llm", "ask", "--endpoint", "default-llm-endpoint", "--text"], {
    stdin: "Say hi",
  });
  assertEquals(piped.code, 0, piped.stdout);
  assertEquals(piped.stdout.trim(), ans.text.trim(), "the fake model is deterministic");

  const empty = await s.dbxr(["llm", "ask", "--endpoint", "default-llm-endpoint"], { stdin: " " });
  assertEquals([empty.code, empty.json().error], [2, "InvalidArgument"]);
  const missing = await s.dbxr(["llm", "ask", "--endpoint", "no-such-endpoint", "--prompt", "x"]);
  assertEquals([missing.code, missing.json().error], [4, "NotFound"]);
  assertStringIncludes(missing.json().message as string, "no-such-endpoint");
});

Deno.test("llm ask rides out a 500 and a 429 with Retry-After", async () => {
  await using s = await served();
  await s.control("POST", "faults", { match: INVOKE, status: 500, times: 1 });
  await s.control("POST", "faults", { match: INVOKE, status: 429, retry_after: 1, times: 1 });
  const a = await s.dbxr(["llm", "ask", "--endpoint", "default-llm-endpoint", "--prompt", "hello", "--json"]);
  assertEquals(a.code, 0, a.stdout + a.stderr);
  assertEquals((await s.counts())[INVOKE], 3);
});

async function promptsFile(dir: string, n: number): Promise<string> {
  const lines = Array.from(
    { length: n },
    (_, i) =>
      i % 2 ? JSON.stringify(`question ${i}`) : JSON.stringify({ id: `q${i}`, prompt: `question ${i}` }),
  );
  await Deno.writeTextFile(`${dir}/prompts.jsonl`, lines.join("\n") + "\n");
  return `${dir}/prompts.jsonl`;
}

Deno.test("llm batch: 50 prompts under injected 429s come back 50 in input order, with usage", async () => {
  await using s = await served();
  const dir = await Deno.makeTempDir({ dir: s.home });
  const input = await promptsFile(dir, 50);
  await s.control("POST", "faults", { match: INVOKE, status: 429, retry_after: 1, times: 6 });
  const r = await s.dbxr([
    "llm",
    "batch",
    "--endpoint",
    "default-llm-endpoint",
    "--in",
    input,
    "--out",
    `${dir}/out.jsonl`,
    "--json",
  ]);
  assertEquals(r.code, 0, r.stdout + r.stderr);
  const res = r.json<Record<string, number | string | Record<string, number>>>();
  assertEquals([res.status, res.succeeded, res.failed, res.total], ["done", 50, 0, 50]);
  assert((res.usage as Record<string, number>).total_tokens > 0);
  const lines = (await Deno.readTextFile(`${dir}/out.jsonl`)).trim().split("\n").map((l) => JSON.parse(l));
  assertEquals(lines.map((l) => l.index), Array.from({ length: 50 }, (_, i) => i));
  assert(lines.every((l) => typeof l.text === "string" && l.text.length > 0 && l.usage.total_tokens > 0));
  assertEquals([lines[0].id, lines[1].id], ["q0", undefined]);
  assertStringIncludes(r.stderr, "llm batch: 50/50 asked");
});

Deno.test("llm batch resumes after a kill -9 half way: nothing asked twice that was answered", async () => {
  await using s = await served();
  const dir = await Deno.makeTempDir({ dir: s.home });
  const input = await promptsFile(dir, 40);
  const out = `${dir}/out.jsonl`;
  await s.control("POST", "faults", { match: INVOKE, latency_ms: 150, times: 1000 });
  let child: Deno.ChildProcess | undefined;
  const first = s.dbxr(
    ["llm", "batch", "--endpoint", "default-llm-endpoint", "--in", input, "--out", out, "--concurrency", "2"],
    { onSpawn: (c) => child = c },
  );
  for (let i = 0; i < 200; i++) {
    const text = await Deno.readTextFile(out).catch(() => "");
    if (text.split("\n").filter(Boolean).length >= 10) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  child!.kill("SIGKILL");
  await first;
  const kept = (await Deno.readTextFile(out)).split("\n").filter(Boolean).length;
  assert(kept >= 10 && kept < 40, `${kept} lines before the kill`);
  await s.control("DELETE", "faults");
  // Requests of the killed process still in the emulator's 150 ms latency are counted when they end.
  await new Promise((r) => setTimeout(r, 500));
  const before = (await s.counts())[INVOKE] ?? 0;
  const second = await s.dbxr([
    "llm",
    "batch",
    "--endpoint",
    "default-llm-endpoint",
    "--in",
    input,
    "--out",
    out,
    "--json",
  ]);
  assertEquals(second.code, 0, second.stdout + second.stderr);
  const r = second.json<Record<string, number>>();
  assert(r.already_answered >= kept - 1, JSON.stringify(r));
  assertEquals(r.already_answered + r.asked, 40);
  assertEquals((await s.counts())[INVOKE] - before, r.asked);
  const lines = (await Deno.readTextFile(out)).trim().split("\n").map((l) => JSON.parse(l));
  assertEquals(lines.map((l) => l.index), Array.from({ length: 40 }, (_, i) => i));
});

Deno.test("llm batch: a bad prompts line is InvalidArgument naming the line", async () => {
  await using s = await served();
  const dir = await Deno.makeTempDir({ dir: s.home });
  await Deno.writeTextFile(`${dir}/p.jsonl`, '"ok"\n{"nope": 1}\n');
  const r = await s.dbxr([
    "llm",
    "batch",
    "--endpoint",
    "default-llm-endpoint",
    "--in",
    `${dir}/p.jsonl`,
    "--out",
    `${dir}/o.jsonl`,
  ]);
  assertEquals([r.code, r.json().error], [2, "InvalidArgument"]);
  assertStringIncludes(r.json().message as string, "line 2");
});

Deno.test("sub_llm_batch of 50 prompts in the REPL under injected 429s: 50 answers in order, usage summed", async () => {
  await using s = await served();
  const { dir, run } = await replSession(s, "llm");
  await s.control("POST", "faults", { match: INVOKE, status: 429, retry_after: 1, times: 8 });
  const code = "import json\n" +
    "r = sub_llm_batch([f'question {i}' for i in range(50)])\n" +
    "u = sub_llm_usage()\n" +
    "print(json.dumps({'n': len(r), 'none': sum(x is None for x in r), 'usage': u}))\n" +
    "print(json.dumps(r))";
  const e = await run(["exec", "--command", code, "--tag", "batch", "--timeout", "120"]);
  assertEquals(e.code, 0, e.stdout);
  const [summary, answers] = (await Deno.readTextFile(`${dir}/repl_outputs/001_batch.stdout`)).trim().split(
    "\n",
  )
    .map((l) => JSON.parse(l));
  assertEquals([summary.n, summary.none], [50, 0]);
  assertEquals(summary.usage.calls, 50);
  assertEquals(summary.usage.retries, 8);
  assert(summary.usage.total_tokens > 0);
  // In input order: each answer is the fake model's reply to its own prompt.
  const single = await s.dbxr([
    "llm",
    "ask",
    "--endpoint",
    "default-llm-endpoint",
    "--prompt",
    "question 7",
    "--json",
  ]);
  assertEquals(answers[7], single.json().text);
});
