// The pure parts of workspace upload and ensure-schema: remote path forms, the skip/verify/overwrite table,
// the manifest parser, exclusions, schema names. No IO.

import { shellQuote } from "../../src/shell.ts";
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import type { ObjectInfo } from "../../src/api/workspace.ts";
import { isDbxrError } from "../../src/errors.ts";
import { parseSchemaName } from "../../src/unity/schemas.ts";
import { fusePath, joinRemote, normalizeRemotePath, remoteParent } from "../../src/workspace/paths.ts";
import { decide, decideAfterVerify, isExcluded, parseManifest } from "../../src/workspace/upload.ts";

Deno.test("remote paths: with or without /Workspace, slashes tidied, relative and dot segments refused", () => {
  for (
    const [raw, want] of [
      ["/Workspace/Users/a@b.c/x/", "/Users/a@b.c/x"],
      ["/Users//a@b.c///x", "/Users/a@b.c/x"],
      ["/Workspace", "/"],
      ["/Workspace/", "/"],
      ["/", "/"],
      ["/WorkspaceX/y", "/WorkspaceX/y"],
    ]
  ) assertEquals(normalizeRemotePath(raw), want, raw);
  for (const bad of ["Users/x", "", "./x", "/Users/../etc"]) {
    assertThrows(
      () => normalizeRemotePath(bad),
      (e: unknown) => assert(isDbxrError(e, "InvalidArgument"), String(e)),
    );
  }
  assertEquals([fusePath("/Users/x"), fusePath("/")], ["/Workspace/Users/x", "/Workspace"]);
  assertEquals([joinRemote("/", "a"), joinRemote("/u", "a/b"), joinRemote("/u", "")], ["/a", "/u/a/b", "/u"]);
  assertEquals([remoteParent("/a"), remoteParent("/a/b")], ["/", "/a"]);
});

const file = (size: number, modified_at = 1000): ObjectInfo => ({
  path: "/p",
  object_type: "FILE",
  size,
  modified_at,
});

Deno.test("decide: create, skip on a matching manifest entry, verify on same size, conflict or overwrite", () => {
  const local = { sha256: "aa", size: 3 };
  const entry = { sha256: "aa", size: 3, modified_at: 1000 };
  const table: [ObjectInfo | undefined, typeof entry | undefined, boolean, string][] = [
    [undefined, undefined, false, "create"],
    [file(3), entry, false, "skip"],
    [file(3, 2000), entry, false, "verify"], // changed remotely since: look at the bytes
    [file(3), { ...entry, sha256: "bb" }, false, "verify"], // changed locally, same size
    [file(3), undefined, false, "verify"],
    [file(4), undefined, false, "conflict"],
    [file(4), undefined, true, "overwrite"],
    [{ path: "/p", object_type: "NOTEBOOK", language: "PYTHON" }, undefined, true, "blocked"],
    [{ path: "/p", object_type: "DIRECTORY" }, undefined, true, "blocked"],
  ];
  for (const [remote, e, overwrite, want] of table) {
    assertEquals(decide(local, remote, e, overwrite), want, JSON.stringify({ remote, e, overwrite }));
  }
  assertEquals(
    [decideAfterVerify(true, false), decideAfterVerify(false, false), decideAfterVerify(false, true)],
    ["skip", "conflict", "overwrite"],
  );
});

Deno.test("parseManifest keeps valid entries and survives damage", () => {
  const m = parseManifest(JSON.stringify({
    version: 1,
    note: "x",
    files: {
      "a.py": { sha256: "aa", size: 1, modified_at: 5 },
      "b.py": { sha256: 1 },
      "c.py": { sha256: "c", size: 2 },
    },
  }));
  assertEquals(m, {
    version: 1,
    files: { "a.py": { sha256: "aa", size: 1, modified_at: 5 }, "c.py": { sha256: "c", size: 2 } },
  });
  assertEquals(parseManifest("{not json"), { version: 1, files: {} });
  assertEquals(parseManifest('{"version": 2, "files": {}}'), { version: 1, files: {} });
});

Deno.test("exclusions and shell words for hints", () => {
  for (const d of [".git", "__pycache__", ".venv", "node_modules"]) {
    assertEquals(isExcluded(d, true), true, d);
  }
  assertEquals([isExcluded("x.pyc", false), isExcluded(".dbxr-manifest.json", false)], [true, true]);
  assertEquals([isExcluded("src", true), isExcluded("a.py", false), isExcluded(".github", true)], [
    false,
    false,
    false,
  ]);
  assertEquals(shellQuote("/Users/a@b.c/x.py"), "/Users/a@b.c/x.py");
  assertEquals(shellQuote("/tmp/my project"), "'/tmp/my project'");
  assertEquals(shellQuote("it's"), `'it'\\''s'`);
});

Deno.test("schema names: CATALOG.SCHEMA, each part a valid UC name", () => {
  assertEquals(parseSchemaName("main.agents"), { catalog: "main", schema: "agents" });
  for (const bad of ["main", "a.b.c", "main.", ".s", "main.has space", "ma/in.s", "main.tab\t"]) {
    assertThrows(
      () => parseSchemaName(bad),
      (e: unknown) => assert(isDbxrError(e, "InvalidArgument"), String(e)),
    );
  }
});
