// The MCP server's pure parts: read_output's windows, the action tables' validation, the result shapes.

import { z } from "zod";
import { DbxrError } from "../../src/errors.ts";
import { byteWindow, lineWindow } from "../../src/mcp/read_output.ts";
import { toolError, toolResult } from "../../src/mcp/server.ts";
import { actionTool, answer, listing, type ToolCall } from "../../src/mcp/tool_kit.ts";
import { dbxrTools } from "../../src/mcp/tools.ts";
import { assertEquals, assertRejects, assertStringIncludes } from "../helpers/assert.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("lineWindow: from the start, from the end, past the end, a file without a final newline", () => {
  const f = enc("a\nb\nc\nd\n");
  assertEquals(lineWindow(f, 1, 2), {
    offset: 1,
    returned: 2,
    total: 4,
    next_offset: 3,
    eof: false,
    text: "b\nc\n",
  });
  assertEquals(lineWindow(f, -1, 10), {
    offset: 3,
    returned: 1,
    total: 4,
    next_offset: null,
    eof: true,
    text: "d\n",
  });
  assertEquals(lineWindow(f, 9, 2).returned, 0);
  assertEquals(lineWindow(enc("x\ny"), 0, 5).text, "x\ny");
  assertEquals(lineWindow(enc(""), 0, 5), {
    offset: 0,
    returned: 0,
    total: 0,
    next_offset: null,
    eof: true,
    text: "",
  });
});

Deno.test("byteWindow: never cuts a UTF-8 character; next_offset continues where it stopped", () => {
  const f = enc("aé€b"); // a(1) é(2) €(3) b(1) = 7 bytes
  const first = byteWindow(f, 0, 2); // 'a' and half of 'é': stops before it
  assertEquals([first.text, first.next_offset], ["a", 1]);
  const mid = byteWindow(f, 2, 4); // starts inside 'é': moves to '€'
  assertEquals([mid.offset, mid.text, mid.next_offset], [3, "€b", null]);
  assertEquals(byteWindow(f, -1, 5).text, "b");
});

const call = {} as ToolCall;

Deno.test("actionTool: one entry per action; required, unknown and misplaced fields are InvalidArgument", async () => {
  const t = actionTool("demo", "A demo.", {
    go: {
      summary: "go somewhere",
      fields: { to: z.string() },
      required: ["to"],
      run: (a) => Promise.resolve(answer(a)),
    },
    stop: { summary: "stop", run: () => Promise.resolve(answer({ stopped: true })) },
  });
  assertStringIncludes(t.description, "- go: go somewhere\n- stop: stop");
  assertEquals((await t.run({ action: "go", to: "x" }, call)).data, { action: "go", to: "x" });
  const bad = async (args: unknown, text: string) => {
    await assertRejects(() => t.run(args, call), (e) => {
      assertEquals((e as DbxrError).code, "InvalidArgument");
      assertStringIncludes((e as DbxrError).message, text);
    });
  };
  await bad({ action: "go" }, "demo go needs to");
  await bad({ action: "stop", to: "x" }, "demo stop does not take to");
  await bad({ action: "go", to: 3 }, "to:");
  await bad({ action: "fly" }, "action:");
  await bad({ action: "go", to: "x", speed: 1 }, "unknown argument(s) speed");
  const schema = listing(t).inputSchema as { required: string[]; properties: Record<string, unknown> };
  assertEquals(schema.required, ["action"]);
  assertEquals(Object.keys(schema.properties), ["action", "to"]);
});

Deno.test("tools/list: five tools, object schemas without $schema or safe-integer bounds", () => {
  const listed = dbxrTools().map(listing);
  assertEquals(listed.map((t) => t.name), ["repl", "read_output", "job", "cluster", "llm_ask"]);
  const text = JSON.stringify(listed);
  assertEquals(text.includes("$schema") || text.includes(String(Number.MAX_SAFE_INTEGER)), false);
  for (const t of listed) assertEquals(t.inputSchema.type, "object");
});

Deno.test("toolResult/toolError: the CLI's JSON as text and structured content; errors as dbxr JSON", () => {
  const r = toolResult(answer({ status: "Running" }, 8), ["warning: x"]);
  assertEquals(r.content, [{ type: "text", text: '{"status":"Running"}' }, {
    type: "text",
    text: "warning: x",
  }]);
  assertEquals([r.structuredContent, r._meta], [{ status: "Running" }, { "dbxr/exit_code": 8 }]);
  // structuredContent must be an object: a list is wrapped, the text keeps the CLI's array.
  const list = toolResult(answer([{ cluster_id: "c" }]));
  assertEquals([list.structuredContent, list.content[0]], [{ result: [{ cluster_id: "c" }] }, {
    type: "text",
    text: '[{"cluster_id":"c"}]',
  }]);
  const e = toolError(new DbxrError("NoSession", "No session.", { hint: "dbxr create ..." }));
  assertEquals(e.isError, true);
  assertEquals(JSON.parse((e.content[0] as { text: string }).text), {
    status: "NoSession",
    error: "NoSession",
    message: "No session.",
    hint: "dbxr create ...",
  });
});
