// The Workspace API through emulator.handle: the tree, its errors in Databricks' words, and the FILE vs
// NOTEBOOK outcome of every import form (docs/databricks-behaviour.md §5.1), the trap of the seed's skill
// included.

import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { T0, type TestEmulator, testEmulator } from "../helpers/emulator.ts";

const HOME = "/Users/dbxr-dev@example.com";
const enc = new TextEncoder();
const b64 = (s: string) => btoa(s);

function importFile(te: TestEmulator, path: string, body: string | Uint8Array, overwrite?: boolean) {
  const q = overwrite === undefined ? "" : `?overwrite=${overwrite}`;
  return te.emu.handle(
    new Request(`http://emulator.test/api/2.0/workspace-files/import-file/${path.replace(/^\//, "")}${q}`, {
      method: "POST",
      headers: { authorization: `Bearer ${te.emu.token}`, "content-type": "application/octet-stream" },
      body: typeof body === "string" ? enc.encode(body) : body.slice(),
    }),
  );
}

const status = (te: TestEmulator, path: string) =>
  te.get(`/api/2.0/workspace/get-status?path=${encodeURIComponent(path)}`);

async function exportRaw(te: TestEmulator, path: string): Promise<Response> {
  return await te.emu.handle(
    new Request(
      `http://emulator.test/api/2.0/workspace/export?path=${encodeURIComponent(path)}&direct_download=true`,
      { headers: { authorization: `Bearer ${te.emu.token}` } },
    ),
  );
}

Deno.test("workspace: the seed has the root, /Users, /Shared and the caller's home; /Workspace is the same tree", async () => {
  await using te = testEmulator();
  const home = await status(te, HOME);
  assertEquals(home.status, 200);
  assertEquals(home.body.object_type, "DIRECTORY");
  assertEquals(home.body.path, HOME);
  assertEquals(typeof home.body.object_id, "number");
  const prefixed = await status(te, `/Workspace${HOME}/`);
  assertEquals(prefixed.body, home.body);
  const users = await te.get("/api/2.0/workspace/list?path=/Users");
  const names = users.body.objects.map((o: { path: string }) => o.path);
  assert(names.includes(HOME), names.join());
  assert(names.includes(`/Users/${te.emu.clientId}`), "the service principal has a home too");
  const root = await te.get("/api/2.0/workspace/list?path=/Workspace");
  assertEquals(root.body.objects.map((o: { path: string }) => o.path), ["/Shared", "/Users"]);
});

Deno.test("workspace: a missing path is 404 RESOURCE_DOES_NOT_EXIST in Databricks' words", async () => {
  await using te = testEmulator();
  for (const path of ["/api/2.0/workspace/get-status", "/api/2.0/workspace/list"]) {
    const r = await te.get(`${path}?path=${encodeURIComponent(`${HOME}/nope`)}`);
    assertEquals(r.status, 404);
    assertEquals(r.body, {
      error_code: "RESOURCE_DOES_NOT_EXIST",
      message: `Path (${HOME}/nope) doesn't exist.`,
    });
  }
  const relative = await te.get("/api/2.0/workspace/get-status?path=Users/x");
  assertEquals([relative.status, relative.body.error_code], [400, "INVALID_PARAMETER_VALUE"]);
});

Deno.test("workspace: mkdirs is mkdir -p and idempotent; a file in the way is RESOURCE_ALREADY_EXISTS", async () => {
  await using te = testEmulator();
  assertEquals((await te.post("/api/2.0/workspace/mkdirs", { path: `${HOME}/a/b/c` })).status, 200);
  assertEquals((await te.post("/api/2.0/workspace/mkdirs", { path: `/Workspace${HOME}/a/b` })).status, 200);
  for (const dir of ["a", "a/b", "a/b/c"]) {
    assertEquals((await status(te, `${HOME}/${dir}`)).body.object_type, "DIRECTORY");
  }
  assertEquals((await importFile(te, `${HOME}/a/f.txt`, "x")).status, 200);
  const r = await te.post("/api/2.0/workspace/mkdirs", { path: `${HOME}/a/f.txt/sub` });
  assertEquals(r.status, 400);
  assertEquals(r.body, {
    error_code: "RESOURCE_ALREADY_EXISTS",
    message: `Path (${HOME}/a/f.txt) already exists.`,
  });
});

Deno.test("workspace: list gives direct children; a file path lists that file; an empty folder has no objects key", async () => {
  await using te = testEmulator();
  await te.post("/api/2.0/workspace/mkdirs", { path: `${HOME}/p/sub/deeper` });
  await importFile(te, `${HOME}/p/main.py`, "print(1)\n");
  const list = await te.get(`/api/2.0/workspace/list?path=${HOME}/p`);
  assertEquals(list.body.objects.map((o: { path: string; object_type: string }) => [o.path, o.object_type]), [
    [`${HOME}/p/main.py`, "FILE"],
    [`${HOME}/p/sub`, "DIRECTORY"],
  ]);
  const file = list.body.objects[0];
  assertEquals([file.size, file.created_at, file.modified_at, "language" in file], [9, T0, T0, false]);
  const one = await te.get(`/api/2.0/workspace/list?path=${HOME}/p/main.py`);
  assertEquals(one.body.objects, [file]);
  const empty = await te.get(`/api/2.0/workspace/list?path=${HOME}/p/sub/deeper`);
  assertEquals([empty.status, empty.body], [200, {}]);
});

Deno.test("workspace: delete needs recursive for a non-empty folder (400 DIRECTORY_NOT_EMPTY)", async () => {
  await using te = testEmulator();
  await te.post("/api/2.0/workspace/mkdirs", { path: `${HOME}/d/e` });
  await importFile(te, `${HOME}/d/e/x.txt`, "x");
  const refused = await te.post("/api/2.0/workspace/delete", { path: `${HOME}/d` });
  assertEquals(refused.status, 400);
  assertEquals(refused.body, {
    error_code: "DIRECTORY_NOT_EMPTY",
    message: `Folder (${HOME}/d) is not empty.`,
  });
  assertEquals((await te.post("/api/2.0/workspace/delete", { path: `${HOME}/d/e/x.txt` })).status, 200);
  assertEquals((await te.post("/api/2.0/workspace/delete", { path: `${HOME}/d/e` })).status, 200);
  await importFile(te, `${HOME}/d/y.txt`, "y");
  assertEquals(
    (await te.post("/api/2.0/workspace/delete", { path: `/Workspace${HOME}/d`, recursive: true })).status,
    200,
  );
  assertEquals((await status(te, `${HOME}/d/y.txt`)).status, 404);
  const gone = await te.post("/api/2.0/workspace/delete", { path: `${HOME}/d` });
  assertEquals([gone.status, gone.body.message], [404, `Path (${HOME}/d) doesn't exist.`]);
  const home = await te.post("/api/2.0/workspace/delete", { path: HOME, recursive: true });
  assertEquals([home.status, home.body.error_code], [403, "PERMISSION_DENIED"]);
});

Deno.test("import-file: raw bytes make a FILE, even a .py with the notebook header", async () => {
  await using te = testEmulator();
  const source = "# Databricks notebook source\nprint('hi')\n";
  assertEquals((await importFile(te, `${HOME}/nb.py`, source)).status, 200);
  const s = await status(te, `${HOME}/nb.py`);
  assertEquals([s.body.object_type, s.body.size], ["FILE", enc.encode(source).length]);
  const raw = await exportRaw(te, `${HOME}/nb.py`);
  assertEquals(await raw.text(), source);
  // Percent-encoded names and a whole path in one segment (the Go filer's url.PathEscape) both work.
  assertEquals((await importFile(te, `${HOME.replace("@", "%40")}%2Fa%20b.txt`, "x")).status, 200);
  assertEquals((await status(te, `${HOME}/a b.txt`)).body.object_type, "FILE");
});

Deno.test("import-file: 409 over a file without overwrite, 400 '... already exists.' over a notebook, 404 without parent", async () => {
  await using te = testEmulator();
  await importFile(te, `${HOME}/f.py`, "v1");
  const conflict = await importFile(te, `${HOME}/f.py`, "v2");
  assertEquals(conflict.status, 409);
  assertEquals((await conflict.json()).error_code, "RESOURCE_ALREADY_EXISTS");
  assertEquals((await importFile(te, `${HOME}/f.py`, "v2", false)).status, 409);
  const before = (await status(te, `${HOME}/f.py`)).body;
  te.advance(1000);
  assertEquals((await importFile(te, `${HOME}/f.py`, "v2!", true)).status, 200);
  const after = (await status(te, `${HOME}/f.py`)).body;
  assertEquals([after.object_id, after.created_at, after.modified_at, after.size], [
    before.object_id,
    before.created_at,
    before.modified_at + 1000,
    3,
  ]);

  await te.post("/api/2.0/workspace/import", {
    path: `${HOME}/job.py`,
    format: "SOURCE",
    language: "PYTHON",
    content: b64("print(1)"),
  });
  const overNotebook = await importFile(te, `${HOME}/job.py`, "print(2)", true);
  assertEquals(overNotebook.status, 400);
  const body = await overNotebook.json();
  assertEquals(body, { message: `Path (${HOME}/job.py) already exists.` });

  const orphan = await importFile(te, `${HOME}/no/such/dir/x.py`, "x");
  assertEquals(orphan.status, 404);
  assertEquals((await orphan.json()).message, `The parent folder (${HOME}/no/such/dir) does not exist.`);
});

Deno.test("import: SOURCE + language is a NOTEBOOK at exactly the path (the seed's trap)", async () => {
  await using te = testEmulator();
  const r = await te.post("/api/2.0/workspace/import", {
    path: `${HOME}/train.py`,
    format: "SOURCE",
    language: "PYTHON",
    content: b64("import os\nprint(os.getcwd())\n"),
  });
  assertEquals([r.status, r.body], [200, {}]);
  const s = await status(te, `${HOME}/train.py`);
  assertEquals([s.body.object_type, s.body.language, "size" in s.body], ["NOTEBOOK", "PYTHON", false]);
  // Format omitted is SOURCE too.
  await te.post("/api/2.0/workspace/import", {
    path: `${HOME}/q.sql`,
    language: "SQL",
    content: b64("select 1"),
  });
  assertEquals((await status(te, `${HOME}/q.sql`)).body.object_type, "NOTEBOOK");
  const noLang = await te.post("/api/2.0/workspace/import", { path: `${HOME}/x.py`, content: b64("1") });
  assertEquals([noLang.status, noLang.body.error_code], [400, "INVALID_PARAMETER_VALUE"]);
  // Its SOURCE export starts with the notebook header.
  const exp = await te.get(`/api/2.0/workspace/export?path=${HOME}/train.py&format=SOURCE`);
  assertEquals(exp.body.file_type, "py");
  assertEquals(atob(exp.body.content), "# Databricks notebook source\nimport os\nprint(os.getcwd())\n");
});

Deno.test("import: AUTO sniffs the header (NOTEBOOK without extension), else FILE; RAW is a FILE", async () => {
  await using te = testEmulator();
  const cases: [string, string, string, string, string?][] = [
    [`${HOME}/nb.py`, "# Databricks notebook source\nx = 1\n", `${HOME}/nb`, "NOTEBOOK", "PYTHON"],
    [`${HOME}/q.sql`, "-- Databricks notebook source\nselect 1\n", `${HOME}/q`, "NOTEBOOK", "SQL"],
    [`${HOME}/lib.py`, "def f():\n    return 1\n", `${HOME}/lib.py`, "FILE"],
    [`${HOME}/notes.txt`, "# Databricks notebook source\n", `${HOME}/notes.txt`, "FILE"],
  ];
  for (const [path, content, at, type, language] of cases) {
    const r = await te.post("/api/2.0/workspace/import", { path, format: "AUTO", content: b64(content) });
    assertEquals(r.status, 200, r.text);
    const s = await status(te, at);
    assertEquals([s.status, s.body.object_type, s.body.language], [200, type, language], path);
  }
  assertEquals((await status(te, `${HOME}/nb.py`)).status, 404);
  await te.post("/api/2.0/workspace/import", {
    path: `${HOME}/raw.py`,
    format: "RAW",
    content: b64("# Databricks notebook source\n"),
  });
  assertEquals((await status(te, `${HOME}/raw.py`)).body.object_type, "FILE");
});

Deno.test("import: overwrite rules, missing parent, bad format, the 10 MB limit", async () => {
  await using te = testEmulator();
  const body = { path: `${HOME}/a.py`, format: "RAW", content: b64("1") };
  assertEquals((await te.post("/api/2.0/workspace/import", body)).status, 200);
  const again = await te.post("/api/2.0/workspace/import", body);
  assertEquals([again.status, again.body], [400, {
    error_code: "RESOURCE_ALREADY_EXISTS",
    message: `Path (${HOME}/a.py) already exists.`,
  }]);
  assertEquals((await te.post("/api/2.0/workspace/import", { ...body, overwrite: true })).status, 200);
  const overDir = await te.post("/api/2.0/workspace/import", { ...body, path: HOME, overwrite: true });
  assertEquals(overDir.status, 400);

  const orphan = await te.post("/api/2.0/workspace/import", { ...body, path: `${HOME}/nope/a.py` });
  assertEquals([orphan.status, orphan.body.error_code], [404, "RESOURCE_DOES_NOT_EXIST"]);
  const bad = await te.post("/api/2.0/workspace/import", { ...body, path: `${HOME}/b.py`, format: "source" });
  assertEquals([bad.status, bad.body.error_code], [400, "INVALID_PARAMETER_VALUE"]);

  const big = new Uint8Array(10 * 1024 * 1024 + 1);
  let s = "";
  for (let i = 0; i < big.length; i += 0x8000) s += String.fromCharCode(...big.subarray(i, i + 0x8000));
  const tooBig = await te.post("/api/2.0/workspace/import", {
    ...body,
    path: `${HOME}/big.bin`,
    content: btoa(s),
  });
  assertEquals([tooBig.status, tooBig.body.error_code], [400, "MAX_NOTEBOOK_SIZE_EXCEEDED"]);
  assertMatch(tooBig.body.message, /exceeded max size \(10485760 bytes\)/);
});

Deno.test("import: multipart form (the SDKs' upload) with a content file part", async () => {
  await using te = testEmulator();
  const form = new FormData();
  form.set("path", `${HOME}/up.py`);
  form.set("format", "AUTO");
  form.set("overwrite", "true");
  form.set("content", new Blob([enc.encode("print('multipart')\n")]), "up.py");
  const res = await te.emu.handle(
    new Request("http://emulator.test/api/2.0/workspace/import", {
      method: "POST",
      headers: { authorization: `Bearer ${te.emu.token}` },
      body: form,
    }),
  );
  assertEquals(res.status, 200, await res.clone().text());
  const s = await status(te, `${HOME}/up.py`);
  assertEquals(s.body.object_type, "FILE");
  assertEquals(await (await exportRaw(te, `${HOME}/up.py`)).text(), "print('multipart')\n");
});

Deno.test("export: SOURCE as base64 with file_type, direct_download as raw bytes; a folder is refused", async () => {
  await using te = testEmulator();
  const bytes = new Uint8Array([0, 1, 2, 250, 255]);
  await importFile(te, `${HOME}/blob.bin`, bytes);
  const json = await te.get(`/api/2.0/workspace/export?path=${HOME}/blob.bin&format=SOURCE`);
  assertEquals(json.body.file_type, "bin");
  assertEquals(Uint8Array.from(atob(json.body.content), (c) => c.charCodeAt(0)), bytes);
  const raw = await exportRaw(te, `/Workspace${HOME}/blob.bin`);
  assertEquals(raw.headers.get("content-type"), "application/octet-stream");
  assertEquals(new Uint8Array(await raw.arrayBuffer()), bytes);
  const missing = await te.get(`/api/2.0/workspace/export?path=${HOME}/none`);
  assertEquals([missing.status, missing.body.message], [404, `Path (${HOME}/none) doesn't exist.`]);
  const dir = await te.get(`/api/2.0/workspace/export?path=${HOME}`);
  assertEquals(dir.status, 400);
});

Deno.test("WorkspaceFiles for other modules: get, list, materialize, generation; reset restores the seed", async () => {
  await using te = testEmulator();
  const ws = te.emu.state.workspace;
  const g0 = ws.generation;
  await te.post("/api/2.0/workspace/mkdirs", { path: `${HOME}/proj/pkg` });
  await importFile(te, `${HOME}/proj/main.py`, "import pkg\n");
  await importFile(te, `${HOME}/proj/pkg/__init__.py`, "");
  await te.post("/api/2.0/workspace/import", {
    path: `${HOME}/proj/nb.py`,
    language: "PYTHON",
    content: b64("print(1)"),
  });
  assert(ws.generation > g0);
  assertEquals(ws.get(`/Workspace${HOME}/proj/main.py`)?.object_type, "FILE");
  assertEquals(new TextDecoder().decode(ws.get(`${HOME}/proj/main.py`)!.bytes), "import pkg\n");
  assertEquals(ws.get(`${HOME}/proj/nb.py`)?.object_type, "NOTEBOOK");
  assertEquals(ws.list(`${HOME}/proj`).map((o) => o.path.slice(HOME.length)), [
    "/proj/main.py",
    "/proj/nb.py",
    "/proj/pkg",
    "/proj/pkg/__init__.py",
  ]);
  assertEquals(ws.list(`${HOME}/proj/main.py`), []);

  const dir = await Deno.makeTempDir({ prefix: "dbxr-ws-test-" });
  try {
    await ws.materialize(dir, `/Workspace${HOME}/proj`);
    assertEquals(await Deno.readTextFile(`${dir}${HOME}/proj/main.py`), "import pkg\n");
    assertEquals(await Deno.readTextFile(`${dir}${HOME}/proj/pkg/__init__.py`), "");
    assertEquals(await Deno.readTextFile(`${dir}${HOME}/proj/nb.py`), "print(1)");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }

  te.emu.control.reset();
  assertEquals(ws.get(`${HOME}/proj`), undefined);
  assertEquals(ws.get(HOME)?.object_type, "DIRECTORY");
});
