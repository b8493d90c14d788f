import { parsePrompts, readResults } from "../../src/llm/batch.ts";
import { answerOf } from "../../src/llm/ask.ts";
import { assertEquals, assertRejects } from "../helpers/assert.ts";

Deno.test("llm batch: prompts as JSON strings or objects; the key follows prompt and system", async () => {
  const p = await parsePrompts('"a"\n\n{"id": 7, "prompt": "b", "system": "s"}\n', "p.jsonl");
  assertEquals(p.map((x) => [x.index, x.id, x.prompt, x.system]), [[0, undefined, "a", undefined], [
    1,
    7,
    "b",
    "s",
  ]]);
  const again = await parsePrompts('"a"\n{"prompt": "b"}\n', "p.jsonl");
  assertEquals(again[0].key, p[0].key);
  assertEquals(again[1].key === p[1].key, false, "a changed system message must be asked again");
  await assertRejects(() => parsePrompts("not json\n", "p.jsonl"));
});

Deno.test("llm batch: an earlier output's last line per index wins; a torn line is ignored", () => {
  const m = readResults(
    '{"index":0,"key":"k0","error":{"code":"ApiError","message":"x"}}\n{"index":0,"key":"k0","text":"ok"}\n' +
      '{"index":1,"key":"k1","te',
  );
  assertEquals([...m.keys()], [0]);
  assertEquals(m.get(0)?.text, "ok");
});

Deno.test("llm ask: the text of content parts, completions-style text, and zero-filled usage", () => {
  assertEquals(
    answerOf("e", {
      choices: [{
        message: { content: [{ type: "text", text: "a" }, { type: "image" }, { type: "text", text: "b" }] },
      }],
    }).text,
    "ab",
  );
  assertEquals(answerOf("e", { choices: [{ text: "plain" }] }).text, "plain");
  assertEquals(answerOf("e", { choices: [{ message: { content: "x" } }] }).usage, {
    prompt_tokens: 0,
    completion_tokens: 0,
    total_tokens: 0,
  });
});
