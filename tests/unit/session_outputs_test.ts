import { join } from "node:path";
import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { stepFiles } from "../../src/session/files.ts";
import {
  byteLength,
  cutCodePoints,
  hasTruncationMarker,
  preview,
  stderrPreview,
  stripAnsi,
  TRUNCATION_MARKER,
  writeCommandFile,
  writeStepOutputs,
} from "../../src/session/outputs.ts";
import { elapsedSeconds, fileStamp, isoUtc, parseIso } from "../../src/session/time.ts";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dbxr_outputs_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const cp = (s: string) => [...s].length;

Deno.test("the .cmd file is written (creating repl_outputs) before anything else exists", async () => {
  await withTempDir(async (dir) => {
    const project = join(dir, "new", "project");
    const files = stepFiles(1, "load_data", "python");
    await writeCommandFile(project, files, "print('héllo')\n");
    assertEquals(
      await Deno.readTextFile(join(project, "repl_outputs", "001_load_data.cmd.py")),
      "print('héllo')\n",
    );
    assertEquals([...Deno.readDirSync(join(project, "repl_outputs"))].map((e) => e.name), [
      "001_load_data.cmd.py",
    ]);
  });
});

Deno.test("outputs: .stdout/.stderr always (bytes or strings), sizes in UTF-8 bytes, tables and images", async () => {
  await withTempDir(async (dir) => {
    const files = stepFiles(3, "train", "python");
    const w = await writeStepOutputs(dir, files, {
      stdout: "F1: 0.87 ✓\n",
      stderr: new TextEncoder().encode("warn ünïcode"),
      result: { schema: [{ name: "a" }], data: [[1]] },
      images: [new Uint8Array([0x89, 0x50]), new Uint8Array([1])],
    });
    assertEquals(w, {
      stdout_file: "repl_outputs/003_train.stdout",
      stderr_file: "repl_outputs/003_train.stderr",
      stdout_bytes: 13,
      stderr_bytes: 14,
      result_file: "repl_outputs/003_train.result.json",
      image_files: ["repl_outputs/003_train.png", "repl_outputs/003_train.2.png"],
    });
    assertEquals(await Deno.readTextFile(join(dir, w.stdout_file)), "F1: 0.87 ✓\n");
    assertEquals(JSON.parse(await Deno.readTextFile(join(dir, w.result_file!))).data, [[1]]);
    assertEquals(await Deno.readFile(join(dir, "repl_outputs", "003_train.2.png")), new Uint8Array([1]));
    // Nothing but the outputs: no temp files left behind.
    const names = [...Deno.readDirSync(join(dir, "repl_outputs"))].map((e) => e.name).sort();
    assertEquals(names, [
      "003_train.2.png",
      "003_train.png",
      "003_train.result.json",
      "003_train.stderr",
      "003_train.stdout",
    ]);

    const empty = await writeStepOutputs(dir, stepFiles(4, "quiet", "python"), {});
    assertEquals([empty.stdout_bytes, empty.stderr_bytes, empty.result_file], [0, 0, undefined]);
    assertEquals(await Deno.readTextFile(join(dir, "repl_outputs", "004_quiet.stderr")), "");
  });
});

Deno.test("byteLength counts UTF-8 bytes", () => {
  assertEquals([byteLength("abc"), byteLength("é"), byteLength("🚀"), byteLength(new Uint8Array(7))], [
    3,
    2,
    4,
    7,
  ]);
});

Deno.test("preview: 200 characters by default, the seed's `...` when cut, whole text when it fits", () => {
  assertEquals(preview("short"), "short");
  assertEquals(preview("x".repeat(200)), "x".repeat(200));
  assertEquals(preview("x".repeat(201)), "x".repeat(200) + "...");
  assertEquals(preview("abcdef", 3), "abc...");
  assertEquals(preview(""), "");
});

Deno.test("preview cuts on character boundaries: never inside a surrogate pair or a UTF-8 sequence", () => {
  const emoji = "🚀".repeat(300); // each is two UTF-16 units
  const p = preview(emoji);
  assertEquals(p, "🚀".repeat(200) + "...");
  assert(p.isWellFormed());
  assertEquals(preview("a🚀b", 2), "a🚀...");
  const mixed = "é€😀ab".repeat(100);
  for (const n of [1, 2, 3, 4, 5, 199, 200]) {
    const out = preview(mixed, n);
    assert(out.isWellFormed(), `n=${n}`);
    assertEquals(cp(out), n + 3);
  }
  // Bytes are decoded first, so a cut never splits a multi-byte sequence.
  const bytes = new TextEncoder().encode("日本語のテキスト".repeat(50));
  assertEquals(preview(bytes, 5), "日本語のテ...");
  assertEquals(cutCodePoints("😀😀", 1), "😀");
  // A lone surrogate (broken input) is one character, and never swallows the next one.
  assertEquals(cutCodePoints("\ud800abc", 2), "\ud800a");
});

const TRACEBACK = [
  "\x1b[0;31m---------------------------------------------------------------------------\x1b[0m",
  "\x1b[0;31mZeroDivisionError\x1b[0m                         Traceback (most recent call last)",
  "File \x1b[0;32m<command-5940880623511431>:1\x1b[0m",
  ...Array.from(
    { length: 30 },
    (_, i) => `\x1b[0;32m----> ${i} \x1b[0mframe_${i}()  # some long source line here`,
  ),
  "File \x1b[0;32m<command-5940880623511431>:10\x1b[0m, in \x1b[0;36mdivide\x1b[0;34m(a, b)\x1b[0m",
  "\x1b[0;32m---> 10\x1b[0m \x1b[38;5;28;01mreturn\x1b[39;00m a \x1b[38;5;241m/\x1b[39m b",
  "",
  "\x1b[0;31mZeroDivisionError\x1b[0m: division by zero",
  "",
].join("\n");

Deno.test("stderr_preview keeps the exception line and the traceback's LAST lines, ANSI stripped", () => {
  const p = stderrPreview(TRACEBACK);
  assert(!p.includes("\x1b"), p);
  assert(p.startsWith("...\n"), p);
  assert(p.endsWith("ZeroDivisionError: division by zero"), p);
  assertStringIncludes(p, "---> 10 return a / b");
  assert(!p.includes("Traceback (most recent call last)"), "the head is dropped");
  assert(cp(p) <= 203, `${cp(p)}`);
});

Deno.test("stderr_preview puts the exception line first when output follows it", () => {
  const text = [
    "Traceback (most recent call last):",
    '  File "x.py", line 1, in <module>',
    "ValueError: bad value 42",
    ...Array.from({ length: 40 }, (_, i) => `cleanup log line ${i}`),
  ].join("\n");
  const p = stderrPreview(text, 120);
  assert(p.startsWith("ValueError: bad value 42\n...\n"), p);
  assert(p.endsWith("cleanup log line 39"), p);
  assert(cp(p) <= 123);
});

Deno.test("stderr_preview: short text whole, a huge exception line by its head, multi-byte safe", () => {
  assertEquals(stderrPreview("\x1b[31mKeyError\x1b[0m: 'x'\n"), "KeyError: 'x'");
  const long = "RuntimeError: " + "é".repeat(500);
  const p = stderrPreview(long, 50);
  assertEquals(p, cutCodePoints(long, 50) + "...");
  const emojiLines = Array.from({ length: 100 }, () => "😀".repeat(7)).join("\n") + "\nOSError: 😀";
  const q = stderrPreview(emojiLines, 40);
  assert(q.isWellFormed() && q.endsWith("OSError: 😀"), q);
  assert(cp(q) <= 43);
  // One enormous last line with no exception: its end.
  const r = stderrPreview("x".repeat(1000) + "END", 20);
  assert(r.endsWith("END") && cp(r) <= 23, r);
});

Deno.test("stripAnsi removes CSI sequences (the reference regex) and nothing else", () => {
  assertEquals(stripAnsi("\x1b[0;31mError\x1b[0m: \x9b1mx ok [not ansi]"), "Error: x ok [not ansi]");
});

Deno.test("hasTruncationMarker spots Databricks' dropped-output marker", () => {
  assert(hasTruncationMarker(`line\n${TRUNCATION_MARKER}\n`));
  assert(!hasTruncationMarker("all here"));
});

Deno.test("timestamps are written as the seed writes them and read in both forms", () => {
  const t = Date.UTC(2026, 1, 22, 2, 0, 2, 881);
  assertEquals(isoUtc(t), "2026-02-22T02:00:02.881000+00:00");
  assertEquals(parseIso("2026-02-22T02:00:02.881510+00:00"), t);
  assertEquals(parseIso("2026-02-22T02:00:02+00:00"), t - 881);
  assertEquals(parseIso(isoUtc(t)), t);
  assertEquals([parseIso("nope"), parseIso(undefined)], [undefined, undefined]);
  assertEquals(fileStamp(t), "20260222T020002Z");
  assertEquals([elapsedSeconds(0, 7449), elapsedSeconds(0, 7450), elapsedSeconds(10, 0)], [7.4, 7.5, 0]);
});
