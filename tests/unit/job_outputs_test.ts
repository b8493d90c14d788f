// logs_preview of job run/output: the end of a task's log, as an agent needs it.

import { assertEquals } from "../helpers/assert.ts";
import { tailPreview } from "../../src/session/outputs.ts";

Deno.test("tailPreview: the last N characters, `...` first when cut; ANSI and CRLF cleaned; code points kept whole", () => {
  assertEquals(tailPreview("short log\n"), "short log\n");
  const long = "x".repeat(300) + "\nresult: 0.93\n";
  const p = tailPreview(long);
  assertEquals(p, "..." + long.slice(-200));
  assertEquals(tailPreview(long, 13), "...result: 0.93\n");
  assertEquals(tailPreview("\u001b[31mred\u001b[0m\r\ndone\r\n", 200), "red\ndone\n");
  // An emoji (two UTF-16 units) is one character and never split.
  assertEquals(tailPreview("ab😀c", 2), "...😀c");
  assertEquals(tailPreview("abc", 0), "...");
  assertEquals(tailPreview(""), "");
});
