import { deriveStatus, htmlToText, mapResult, tableToTsv } from "../../src/repl/results.ts";
import { assertEquals } from "../helpers/assert.ts";

Deno.test("deriveStatus: the design's table", () => {
  const cases: Array<[Parameters<typeof deriveStatus>[0], string]> = [
    [{ id: "1", status: "Finished", results: { resultType: "text", data: "1" } }, "Finished"],
    [{
      id: "1",
      status: "Finished",
      results: { resultType: "error", summary: "x", cause: "ZeroDivisionError" },
    }, "Error"],
    [
      { id: "1", status: "Error", results: { resultType: "error", cause: "ReplStartFailureException" } },
      "Error",
    ],
    [{ id: "1", status: "Cancelled", results: null }, "Cancelled"],
    [
      {
        id: "1",
        status: "Finished",
        results: {
          resultType: "error",
          cause: "com.databricks.backend.common.rpc.CommandCancelledException",
        },
      },
      "Cancelled",
    ],
  ];
  for (const [r, want] of cases) assertEquals(deriveStatus(r), want, JSON.stringify(r));
});

Deno.test("mapResult: an error's cause, ANSI removed, goes to stderr; the summary is the fallback", () => {
  const m = mapResult({
    id: "1",
    status: "Finished",
    results: {
      resultType: "error",
      summary: "<span class='ansi-red-fg'>E</span>: x",
      cause: "\x1b[0;31mTrace\x1b[0m",
    },
  });
  assertEquals([m.status, m.stdout, m.stderr], ["Error", "", "Trace\n"]);
  const s = mapResult({
    id: "1",
    status: "Finished",
    results: { resultType: "error", summary: "<b>E</b>: x &amp; y" },
  });
  assertEquals(s.stderr, "E: x & y\n");
});

Deno.test("mapResult: text with the truncation marker, tables, images", () => {
  const t = mapResult({
    id: "1",
    status: "Finished",
    results: {
      resultType: "text",
      data: "a\n*** WARNING: max output size exceeded, skipping output. ***\nb",
    },
  });
  assertEquals(t.truncated, true);
  const table = mapResult({
    id: "1",
    status: "Finished",
    results: {
      resultType: "table",
      data: [[1, "a"]],
      schema: [{ name: "n" }, { name: "s" }],
      truncated: false,
    },
  });
  assertEquals(table.stdout, "n\ts\n1\ta\n");
  assertEquals(table.table?.data, [[1, "a"]]);
  const img = mapResult({
    id: "1",
    status: "Finished",
    results: { resultType: "image", fileName: "data:image/png;base64,iVBO" },
  });
  assertEquals(img.images.length, 1);
  assertEquals(img.images[0][0], 0x89);
});

Deno.test("htmlToText and tableToTsv", () => {
  assertEquals(
    htmlToText("<span class='ansi-red-fg'>SyntaxError</span>: invalid &#x27;x&#x27;"),
    "SyntaxError: invalid 'x'",
  );
  assertEquals(tableToTsv([{ name: "a" }], [[null], ["x\ty"]]), "a\n\nx y\n");
});
