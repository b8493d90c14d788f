// src/paths.ts against node:path, both flavours, on any OS: a hand-picked corpus of the edge cases, an
// exhaustive pass over every short string made of path-significant pieces, and the Windows cwd cases
// that node:path cannot be asked about on Linux.

import nodePath from "node:path";
import { assertEquals } from "../helpers/assert.ts";
import * as paths from "../../src/paths.ts";
import { type PathFlavor, posix, win32 } from "../../src/paths.ts";

const CORPUS = [
  "",
  ".",
  "..",
  "...",
  "./",
  "../",
  ".\\",
  "..\\",
  "a",
  "a/",
  "a//",
  "a\\",
  "/",
  "//",
  "///",
  "\\",
  "\\\\",
  "\\\\\\",
  "/a",
  "/a/",
  "/a/b",
  "/a/b/",
  "//a",
  "//a/b",
  "///a//b//",
  "a/b",
  "a//b",
  "a/./b",
  "a/../b",
  "a/b/..",
  "a/b/../..",
  "a/b/../../..",
  "../a/..",
  "../../a",
  "/../a",
  "/a/../../b",
  "a\\b",
  "a\\..\\b",
  "a/b\\c",
  ".hidden",
  "a/.hidden/",
  "a..",
  "..a/b",
  "a/...",
  "~/x",
  "é/ü",
  "a b/c d",
  "C:",
  "c:",
  "C:.",
  "C:..",
  "C:\\",
  "C:/",
  "c:\\",
  "C:\\a",
  "C:/a/b/",
  "C:a",
  "C:a\\b",
  "C:..\\a",
  "C:\\..",
  "C:\\a\\..\\..\\b",
  "D:\\x\\",
  "d:x",
  "1:\\a",
  "\\a",
  "\\a\\b",
  "\\\\server",
  "\\\\server\\",
  "\\\\server\\share",
  "\\\\server\\share\\",
  "\\\\server\\share\\a",
  "\\\\server\\share\\a\\..\\..",
  "//server/share/a/b",
  "\\\\server\\\\share",
  "\\\\.\\pipe\\x",
  "\\\\.\\C:\\a",
  "\\\\?\\C:\\a\\..\\b",
  "\\\\?\\UNC\\server\\share",
  "a:b",
  "ab:c",
  "a/b:c",
  "a:",
  "foo:/",
  "a/../c:x",
  "CON",
  "CON:",
  "con:x",
  "a/CON:b",
  "LPT1:",
  "COM9:x\\y",
  "repl_outputs/001_x.stdout",
  "examples/x/repl_outputs/",
  "./examples//x/",
  "/tmp/dbxr_store_1/session.json",
  "C:\\Users\\me\\proj\\.session.lock",
];

type Pure = "normalize" | "dirname" | "basename" | "isAbsolute";
const PURE: Pure[] = ["normalize", "dirname", "basename", "isAbsolute"];

function compareOne(name: string, mine: PathFlavor, node: typeof nodePath.posix, inputs: Iterable<string>) {
  let n = 0;
  for (const p of inputs) {
    for (const f of PURE) {
      const want = node[f](p);
      const got = mine[f](p);
      if (got !== want) {
        throw new Error(
          `${name}.${f}(${JSON.stringify(p)}): ${JSON.stringify(got)}, node:path ${JSON.stringify(want)}`,
        );
      }
    }
    n++;
  }
  return n;
}

/** Every string of up to `max` pieces: separators, dots, a drive, a device name, a colon, names. */
function* shortStrings(max: number): Generator<string> {
  const pieces = ["a", "b", ".", "/", "\\", ":", "C:", "CON"];
  let level = [""];
  yield "";
  for (let len = 1; len <= max; len++) {
    const next: string[] = [];
    for (const s of level) {
      for (const p of pieces) {
        next.push(s + p);
        yield s + p;
      }
    }
    level = next;
  }
}

Deno.test("posix: normalize, dirname, basename, isAbsolute equal node:path on the corpus and every short string", () => {
  compareOne("posix", posix, nodePath.posix, CORPUS);
  const n = compareOne("posix", posix, nodePath.posix, shortStrings(5));
  assertEquals(n, 1 + 8 + 64 + 512 + 4096 + 32768);
});

Deno.test("win32: normalize, dirname, basename, isAbsolute equal node:path on the corpus and every short string", () => {
  compareOne("win32", win32, nodePath.win32, CORPUS);
  compareOne("win32", win32, nodePath.win32, shortStrings(5));
});

function compareJoin(name: string, mine: PathFlavor, node: typeof nodePath.posix, args: string[]) {
  const want = node.join(...args);
  const got = mine.join(...args);
  if (got !== want) {
    throw new Error(
      `${name}.join(${JSON.stringify(args).slice(1, -1)}): ${JSON.stringify(got)}, node:path ${
        JSON.stringify(want)
      }`,
    );
  }
}

function compareResolve(name: string, mine: PathFlavor, node: typeof nodePath.posix, args: string[]) {
  // node:path asks Deno.cwd(); so does this side, through the thunk.
  const want = node.resolve(...args);
  const got = mine.resolve(() => Deno.cwd(), ...args);
  if (got !== want) {
    throw new Error(
      `${name}.resolve(${JSON.stringify(args).slice(1, -1)}): ${JSON.stringify(got)}, node:path ${
        JSON.stringify(want)
      }`,
    );
  }
}

Deno.test("join and resolve equal node:path for no argument, one, and every pair and some triples of the corpus", () => {
  for (
    const [name, mine, node] of [["posix", posix, nodePath.posix], ["win32", win32, nodePath.win32]] as const
  ) {
    compareJoin(name, mine, node, []);
    compareResolve(name, mine, node, []);
    for (const a of CORPUS) {
      compareJoin(name, mine, node, [a]);
      compareResolve(name, mine, node, [a]);
      for (const b of CORPUS) {
        compareJoin(name, mine, node, [a, b]);
        compareResolve(name, mine, node, [a, b]);
      }
    }
    const few = CORPUS.filter((_, i) => i % 5 === 0);
    for (const a of few) {
      for (const b of few) {
        for (const c of few) {
          compareJoin(name, mine, node, [a, b, c]);
          compareResolve(name, mine, node, [a, b, c]);
        }
      }
    }
  }
});

Deno.test("win32.resolve against a Windows cwd: drive-relative, another drive, UNC, the cwd asked only when needed", () => {
  let asked = 0;
  const cwd = (dir: string) => () => {
    asked++;
    return dir;
  };
  const here = cwd("C:\\work\\proj");
  assertEquals(win32.resolve(here, "session.json"), "C:\\work\\proj\\session.json");
  assertEquals(win32.resolve(here, "."), "C:\\work\\proj");
  assertEquals(win32.resolve(here, ".."), "C:\\work");
  assertEquals(win32.resolve(here, "a/b/", "../c"), "C:\\work\\proj\\a\\c");
  assertEquals(win32.resolve(here, "\\x"), "C:\\x");
  // The cwd's drive: relative to the cwd (the drive spelt as the path spells it, as node:path does).
  assertEquals(win32.resolve(here, "c:x"), "c:\\work\\proj\\x");
  assertEquals(win32.resolve(here, "D:x"), "D:\\x"); // another drive: relative to its root
  assertEquals(win32.resolve(here, "D:\\y", "x"), "D:\\y\\x");
  assertEquals(win32.resolve(here, "D:\\y", "C:z"), "C:\\work\\proj\\z");
  assertEquals(win32.resolve(here, "\\\\srv\\share\\a", "..\\b"), "\\\\srv\\share\\b");
  assertEquals(win32.resolve(cwd("\\\\srv\\share\\dir"), "x"), "\\\\srv\\share\\dir\\x");
  // Where the cwd is on the path's drive, it is the same as giving it first (as node:path can be asked).
  for (const args of [["session.json"], ["."], ["a/b/", "../c"], ["\\x"], ["c:x"], ["D:\\y", "C:z"]]) {
    assertEquals(
      win32.resolve(here, ...args),
      nodePath.win32.resolve("C:\\work\\proj", ...args),
      args.join(),
    );
  }
  asked = 0;
  assertEquals(win32.resolve(here, "E:\\abs", "rel"), "E:\\abs\\rel");
  assertEquals(posix.resolve(cwd("/cwd"), "/abs", "rel"), "/abs/rel");
  assertEquals(asked, 0);
  assertEquals(posix.resolve(cwd("/cwd"), "rel/"), "/cwd/rel");
  assertEquals(asked, 1);
});

Deno.test("the top-level functions use the flavour of this OS", () => {
  const node = Deno.build.os === "windows" ? nodePath.win32 : nodePath.posix;
  assertEquals(paths.SEP, node.sep);
  for (const p of CORPUS) {
    assertEquals(paths.normalize(p), node.normalize(p), p);
    assertEquals(paths.dirname(p), node.dirname(p), p);
    assertEquals(paths.basename(p), node.basename(p), p);
    assertEquals(paths.isAbsolute(p), node.isAbsolute(p), p);
    assertEquals(paths.join(p, "x", p), node.join(p, "x", p), p);
    assertEquals(paths.resolve(p, "x"), node.resolve(p, "x"), p);
  }
});
