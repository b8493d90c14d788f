import { assert, assertEquals } from "../helpers/assert.ts";
import { type Token, tokenize } from "../../src/jobs/pytokens.ts";

const kinds = (src: string) => tokenize(src).map((t) => `${t.kind}:${t.text}`);
const only = (src: string, kind: Token["kind"]) => tokenize(src).filter((t) => t.kind === kind);

Deno.test("tokenize: names, dotted names, numbers, operators, newlines with 1-based positions", () => {
  assertEquals(kinds("x = mlflow . pyfunc.log_model(a, b=1.5e3)\n"), [
    "name:x",
    "op:=",
    "name:mlflow.pyfunc.log_model",
    "op:(",
    "name:a",
    "op:,",
    "name:b",
    "op:=",
    "number:1.5e3",
    "op:)",
    "newline:\n",
  ]);
  const [x, , call] = tokenize("x = mlflow . pyfunc.log_model()");
  assertEquals([x.line, x.column, call.column, call.parts], [1, 1, 5, ["mlflow", "pyfunc", "log_model"]]);
  assertEquals(kinds("a **= 0x_ff // .5j -> b := c != d"), [
    "name:a",
    "op:**=",
    "number:0x_ff",
    "op://",
    "number:.5j",
    "op:->",
    "name:b",
    "op::=",
    "name:c",
    "op:!=",
    "name:d",
    "newline:",
  ]);
});

Deno.test("tokenize: keywords never join a dotted name (`from . import x`, `from .mod import y`)", () => {
  assertEquals(kinds("from . import x"), ["name:from", "op:.", "name:import", "name:x", "newline:"]);
  assertEquals(kinds("from ..mod import y").slice(0, 4), ["name:from", "op:.", "op:.", "name:mod"]);
  assertEquals(kinds("foo().bar.baz"), ["name:foo", "op:(", "op:)", "op:.", "name:bar.baz", "newline:"]);
});

Deno.test("tokenize: strings of every prefix and quote, triple-quoted over lines, with decoded values", () => {
  const src = `a = 'x' "y" r'\\d' b"\\x41" u'u' Rb'raw' """multi\nline""" '''t'''\nz = 1`;
  const strings = only(src, "string");
  assertEquals(strings.map((t) => [t.prefix, t.value]), [
    ["", "x"],
    ["", "y"],
    ["r", "\\d"],
    ["b", "A"],
    ["u", "u"],
    ["rb", "raw"],
    ["", "multi\nline"],
    ["", "t"],
  ]);
  assertEquals(strings[6].line, 1);
  assertEquals(strings[6].endLine, 2);
  assertEquals(only(src, "name").pop()!.line, 3); // `z`, after the two-line string
});

Deno.test("tokenize: escapes in plain strings; a backslash-quote does not end the string", () => {
  const [s] = only(String.raw`p = "C:\\dir\n\"q\""`, "string");
  assertEquals(s.value, 'C:\\dir\n"q"');
  const [r] = only(String.raw`p = r"a\"b"`, "string");
  assertEquals(r.value, String.raw`a\"b`);
});

Deno.test("tokenize: f-strings are one opaque token, nested quotes and format specs included", () => {
  const src = `s = f"{d["k"]} and {y:{w}} {{lit}}" + rf'{x}\\n'\nafter = 1`;
  const toks = tokenize(src);
  const strings = toks.filter((t) => t.kind === "string");
  assertEquals(strings.map((t) => t.prefix), ["f", "rf"]);
  assertEquals(strings[0].value, `{d["k"]} and {y:{w}} {{lit}}`);
  // Nothing inside the f-string leaks out as a name token.
  assertEquals(toks.filter((t) => t.kind === "name").map((t) => t.text), ["s", "after"]);
  // Triple-quoted f-string over two lines.
  const tri = only(`f"""a {b\n+ c} d"""\nq`, "string");
  assertEquals([tri.length, tri[0].endLine], [1, 2]);
});

Deno.test("tokenize: comments are their own tokens; names inside comments and strings are not names", () => {
  const toks = tokenize(`x = 1  # uses __file__\ny = "__file__"\n# __file__\n`);
  assertEquals(toks.filter((t) => t.kind === "name").map((t) => t.text), ["x", "y"]);
  assertEquals(toks.filter((t) => t.kind === "comment").map((t) => t.line), [1, 3]);
  // A comment-only line ends no logical line.
  assertEquals(toks.filter((t) => t.kind === "newline").length, 2);
});

Deno.test("tokenize: magic lines (%pip, %%sh, !cmd) become MAGIC tokens and do not break what follows", () => {
  const src = [
    "%pip install databricks-langchain langgraph>=0.3.4",
    "import mlflow",
    "  %%sh ls -la",
    "!pip install x \\",
    "    y",
    "x = a % b",
    "z = (1,",
    "% 2)",
  ].join("\n");
  const toks = tokenize(src);
  const magics = toks.filter((t) => t.kind === "magic");
  assertEquals(magics.map((t) => [t.line, t.text]), [
    [1, "%pip install databricks-langchain langgraph>=0.3.4"],
    [3, "%%sh ls -la"],
    [4, "!pip install x \\\n    y"],
  ]);
  // `%` inside an expression or a bracket is the operator.
  assertEquals(toks.filter((t) => t.kind === "op" && t.text === "%").map((t) => t.line), [6, 8]);
  assertEquals(toks.find((t) => t.text === "import")!.line, 2);
});

Deno.test("tokenize: newlines only end logical lines outside brackets and continuations", () => {
  const toks = tokenize("f(a,\n  b)\nx = 1 + \\\n  2\n\n\ny = 3");
  assertEquals(toks.filter((t) => t.kind === "newline").map((t) => t.line), [2, 4, 7]);
});

Deno.test("tokenize: never throws: unterminated strings and stray characters", () => {
  const toks = tokenize('s = \'open\nt = $ 1\nu = """never closed');
  const strings = toks.filter((t) => t.kind === "string");
  assertEquals(strings.map((t) => Boolean(t.unterminated)), [true, true]);
  assertEquals(toks.find((t) => t.kind === "error")?.text, "$");
  assert(toks.some((t) => t.text === "t"));
  assertEquals(tokenize(""), []);
});

Deno.test("tokenize: unicode names and columns in UTF-16 units", () => {
  const toks = tokenize("größe = 1; ñ = größe");
  assertEquals(toks.filter((t) => t.kind === "name").map((t) => [t.text, t.column]), [
    ["größe", 1],
    ["ñ", 12],
    ["größe", 16],
  ]);
});
