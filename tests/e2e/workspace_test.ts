// The workspace commands end to end: the CLI as a subprocess, under the release permission flags, against the
// emulator over HTTP. Uploads must land as workspace FILES (never notebooks), skip what did not change, and
// refuse to replace different content without --overwrite.

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import { type Served, served } from "../helpers/served.ts";

const HOME = "/Users/dbxr-dev@example.com";

type Upload = {
  remote: string;
  fuse_path: string;
  kind: string;
  uploaded: { path: string; size: number; action: string }[];
  skipped: { path: string; reason: string }[];
  excluded: number;
};

/** A small project: a script, a package, a notebook-looking .py, and things that must not be uploaded. */
async function project(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "dbxr-upload-" });
  const files: Record<string, string> = {
    "train.py": "from tools.helper import f\nprint(f())\n",
    "tools/__init__.py": "",
    "tools/helper.py": "def f():\n    return 42\n",
    "notebook_like.py": "# Databricks notebook source\nprint('still a file')\n",
    "data/config.json": '{"a": 1}\n',
    ".git/HEAD": "ref: refs/heads/main\n",
    "__pycache__/train.cpython-311.pyc": "x",
    "tools/__pycache__/helper.cpython-311.pyc": "x",
    ".venv/bin/python": "x",
    "node_modules/x/index.js": "x",
    "stale.pyc": "x",
  };
  for (const [rel, content] of Object.entries(files)) {
    await Deno.mkdir(`${dir}/${rel}`.replace(/\/[^/]+$/, ""), { recursive: true });
    await Deno.writeTextFile(`${dir}/${rel}`, content);
  }
  return dir;
}

async function api(s: Served, method: string, path: string, body?: unknown) {
  const res = await fetch(`${s.host}${path}`, {
    method,
    headers: { authorization: `Bearer ${s.emulator.token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function importFileCount(s: Served): Promise<number> {
  const counts = await s.counts();
  return Object.entries(counts).filter(([k]) => k.startsWith("POST /api/2.0/workspace-files/import-file/"))
    .reduce((n, [, v]) => n + v, 0);
}

Deno.test("workspace upload: a tree lands as FILE objects (never notebooks), excluded dirs left out", async () => {
  await using s = await served();
  const dir = await project();
  try {
    const r = await s.dbxr(["workspace", "upload", dir, `/Workspace${HOME}/agent`]);
    assertEquals(r.code, 0, r.stdout + r.stderr);
    const out = r.json<Upload>();
    assertEquals([out.remote, out.fuse_path, out.kind], [
      `${HOME}/agent`,
      `/Workspace${HOME}/agent`,
      "directory",
    ]);
    assertEquals(out.uploaded.map((u) => u.path.slice(HOME.length)), [
      "/agent/data/config.json",
      "/agent/notebook_like.py",
      "/agent/tools/__init__.py",
      "/agent/tools/helper.py",
      "/agent/train.py",
    ]);
    assert(out.uploaded.every((u) => u.action === "created"));
    assertEquals(out.excluded, 6);
    const ws = s.emulator.state.workspace;
    for (const u of out.uploaded) assertEquals(ws.get(u.path)?.object_type, "FILE", u.path);
    // Even the .py that starts with the notebook header stays a FILE at its own name.
    assertEquals(ws.get(`${HOME}/agent/notebook_like`), undefined);
    for (const gone of [".git", "__pycache__", ".venv", "node_modules", "stale.pyc", "tools/__pycache__"]) {
      assertEquals(ws.get(`${HOME}/agent/${gone}`), undefined, gone);
    }
    assertEquals(
      new TextDecoder().decode(ws.get(`${HOME}/agent/tools/helper.py`)!.bytes),
      "def f():\n    return 42\n",
    );

    const gs = await s.dbxr(["workspace", "get-status", `${HOME}/agent/train.py`]);
    assertEquals(gs.json().object_type, "FILE");
    assertEquals(gs.json().language, null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("workspace upload: symlinks out of the folder (or nowhere) are never followed; one inside is", async () => {
  await using s = await served();
  const dir = await project();
  const outside = await Deno.makeTempDir({ prefix: "dbxr-outside-" });
  try {
    await Deno.writeTextFile(`${outside}/id_rsa`, "PRIVATE KEY");
    await Deno.symlink(`${outside}/id_rsa`, `${dir}/key`);
    await Deno.symlink(`${outside}/missing`, `${dir}/dangling`);
    await Deno.symlink(`${dir}/tools/helper.py`, `${dir}/helper_link.py`);
    const r = await s.dbxr(["workspace", "upload", dir, `${HOME}/linked`]);
    assertEquals(r.code, 0, r.stdout + r.stderr);
    const out = r.json<Upload & { links_outside: string[] }>();
    assertEquals(out.links_outside, ["dangling", "key"]);
    assertStringIncludes(r.stderr, "symlink(s) pointing outside the folder");
    const ws = s.emulator.state.workspace;
    assertEquals(ws.get(`${HOME}/linked/key`), undefined, "a file outside the tree was uploaded");
    assertEquals(ws.get(`${HOME}/linked/helper_link.py`)?.object_type, "FILE");
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("workspace upload: unchanged files are not sent again; a changed one needs --overwrite", async () => {
  await using s = await served();
  const dir = await project();
  try {
    const remote = `${HOME}/agent`;
    assertEquals((await s.dbxr(["workspace", "upload", dir, remote])).code, 0);
    const sent = await importFileCount(s);

    const again = await s.dbxr(["workspace", "upload", dir, remote]);
    assertEquals(again.code, 0, again.stdout);
    const out = again.json<Upload>();
    assertEquals(out.uploaded, []);
    assertEquals(out.skipped.length, 5);
    assert(out.skipped.every((k) => k.reason === "unchanged"));
    assertEquals(await importFileCount(s), sent, "nothing re-sent, the manifest not rewritten");

    await Deno.writeTextFile(`${dir}/tools/helper.py`, "def f():\n    return 43\n");
    await Deno.writeTextFile(`${dir}/new.py`, "print('new')\n");
    const refused = await s.dbxr(["workspace", "upload", dir, remote]);
    assertEquals(refused.code, 2, refused.stdout);
    const e = refused.json();
    assertEquals(e.error, "InvalidArgument");
    assertEquals((e.details as { conflicts: string[] }).conflicts, [`${remote}/tools/helper.py`]);
    assertEquals(e.hint, `dbxr workspace upload ${dir} ${remote} --overwrite`);
    assertEquals(
      s.emulator.state.workspace.get(`${remote}/new.py`),
      undefined,
      "nothing uploaded when refused",
    );

    const forced = await s.dbxr(["workspace", "upload", dir, remote, "--overwrite"]);
    assertEquals(forced.code, 0, forced.stdout);
    const f = forced.json<Upload>();
    assertEquals(f.uploaded.map((u) => [u.path.slice(remote.length), u.action]), [
      ["/new.py", "created"],
      ["/tools/helper.py", "overwritten"],
    ]);
    assertEquals(f.skipped.length, 4);
    assertEquals(
      new TextDecoder().decode(s.emulator.state.workspace.get(`${remote}/tools/helper.py`)!.bytes),
      "def f():\n    return 43\n",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("workspace upload: a remote change of the same size is noticed (manifest + modified_at)", async () => {
  await using s = await served();
  const dir = await project();
  try {
    const remote = `${HOME}/agent`;
    assertEquals((await s.dbxr(["workspace", "upload", dir, remote])).code, 0);
    // Someone else rewrites the file with other bytes of the same length.
    await fetch(`${s.host}/api/2.0/workspace-files/import-file${remote}/tools/helper.py?overwrite=true`, {
      method: "POST",
      headers: { authorization: `Bearer ${s.emulator.token}` },
      body: "def g():\n    return 42\n",
    }).then((r) => r.body?.cancel());
    const r = await s.dbxr(["workspace", "upload", dir, remote]);
    assertEquals(r.code, 2, r.stdout);
    assertEquals((r.json().details as { conflicts: string[] }).conflicts, [`${remote}/tools/helper.py`]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("workspace upload: one file to a path, into a folder, and identical content skipped without a manifest", async () => {
  await using s = await served();
  const dir = await project();
  try {
    const one = await s.dbxr(["workspace", "upload", `${dir}/train.py`, `${HOME}/jobs/run_me.py`]);
    assertEquals(one.code, 0, one.stdout);
    const o = one.json<Upload>();
    assertEquals([o.kind, o.remote], ["file", `${HOME}/jobs/run_me.py`]);
    assertEquals(s.emulator.state.workspace.get(`${HOME}/jobs/run_me.py`)?.object_type, "FILE");
    assertEquals(s.emulator.state.workspace.get(`${HOME}/jobs/.dbxr-manifest.json`), undefined);

    const into = await s.dbxr(["workspace", "upload", `${dir}/train.py`, `${HOME}/jobs/`]);
    assertEquals(into.json<Upload>().remote, `${HOME}/jobs/train.py`);

    const same = await s.dbxr(["workspace", "upload", `${dir}/train.py`, `${HOME}/jobs`]);
    assertEquals(same.code, 0, same.stdout);
    assertEquals(same.json<Upload>().skipped, [{ path: `${HOME}/jobs/train.py`, reason: "unchanged" }]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("workspace upload: a notebook in the way (the seed's `import --language PYTHON`) is refused with rm as hint", async () => {
  await using s = await served();
  const dir = await project();
  try {
    const made = await api(s, "POST", "/api/2.0/workspace/import", {
      path: `${HOME}/jobs/train.py`,
      format: "SOURCE",
      language: "PYTHON",
      content: btoa("print(1)"),
    });
    assertEquals(made.status, 404, "the parent folder must exist first");
    await api(s, "POST", "/api/2.0/workspace/mkdirs", { path: `${HOME}/jobs` });
    await api(s, "POST", "/api/2.0/workspace/import", {
      path: `${HOME}/jobs/train.py`,
      format: "SOURCE",
      language: "PYTHON",
      content: btoa("print(1)"),
    });
    const st = await s.dbxr(["workspace", "get-status", `/Workspace${HOME}/jobs/train.py`]);
    assertEquals([st.json().object_type, st.json().language], ["NOTEBOOK", "PYTHON"]);

    const r = await s.dbxr([
      "workspace",
      "upload",
      `${dir}/train.py`,
      `${HOME}/jobs/train.py`,
      "--overwrite",
    ]);
    assertEquals(r.code, 2, r.stdout);
    const e = r.json();
    assertStringIncludes(e.message as string, "Cannot read the python file");
    assertEquals(e.hint, `dbxr workspace rm ${HOME}/jobs/train.py`);

    assertEquals((await s.dbxr(["workspace", "rm", `${HOME}/jobs/train.py`])).code, 0);
    const ok = await s.dbxr(["workspace", "upload", `${dir}/train.py`, `${HOME}/jobs/train.py`]);
    assertEquals(ok.code, 0, ok.stdout);
    assertEquals(s.emulator.state.workspace.get(`${HOME}/jobs/train.py`)?.object_type, "FILE");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("workspace ls, get-status and rm, with and without /Workspace", async () => {
  await using s = await served();
  const dir = await project();
  try {
    await s.dbxr(["workspace", "upload", dir, `${HOME}/agent`]);
    const ls = await s.dbxr(["workspace", "ls", `/Workspace${HOME}/agent`]);
    assertEquals(ls.code, 0, ls.stdout);
    const rows = ls.json<{ path: string; object_type: string; fuse_path: string }[]>();
    assertEquals(rows.map((r) => [r.path.slice(HOME.length), r.object_type]), [
      ["/agent/.dbxr-manifest.json", "FILE"],
      ["/agent/data", "DIRECTORY"],
      ["/agent/notebook_like.py", "FILE"],
      ["/agent/tools", "DIRECTORY"],
      ["/agent/train.py", "FILE"],
    ]);
    assertEquals(rows[4].fuse_path, `/Workspace${HOME}/agent/train.py`);
    const text = await s.dbxr(["workspace", "ls", `${HOME}/agent/tools`, "--text"]);
    assertMatch(text.stdout, /^TYPE\s+SIZE\s+LANGUAGE\s+PATH\n/);

    const missing = await s.dbxr(["workspace", "get-status", `${HOME}/agent/nope.py`]);
    assertEquals(missing.code, 4);
    assertEquals(missing.json().error, "NotFound");
    assertEquals(missing.json().message, `Path (${HOME}/agent/nope.py) doesn't exist.`);
    assertEquals(missing.json().hint, `dbxr workspace ls ${HOME}/agent`);

    const notEmpty = await s.dbxr(["workspace", "rm", `${HOME}/agent/tools`]);
    assertEquals(notEmpty.code, 2, notEmpty.stdout);
    assertEquals(notEmpty.json().hint, `dbxr workspace rm ${HOME}/agent/tools --recursive`);
    assertEquals((notEmpty.json().details as Record<string, unknown>).error_code, "DIRECTORY_NOT_EMPTY");

    const rm = await s.dbxr(["workspace", "rm", `/Workspace${HOME}/agent/tools`, "--recursive"]);
    assertEquals(rm.code, 0, rm.stdout);
    assertEquals(rm.json(), { status: "deleted", path: `${HOME}/agent/tools`, recursive: true });
    assertEquals((await s.dbxr(["workspace", "get-status", `${HOME}/agent/tools/helper.py`])).code, 4);
    assertEquals((await s.dbxr(["workspace", "rm", `${HOME}/agent/tools`])).code, 4);

    // After a removal the next upload puts the missing files back and skips the rest.
    const again = await s.dbxr(["workspace", "upload", dir, `${HOME}/agent`]);
    const out = again.json<Upload>();
    assertEquals(out.uploaded.map((u) => u.path.slice(HOME.length)), [
      "/agent/tools/__init__.py",
      "/agent/tools/helper.py",
    ]);
    assertEquals(out.skipped.length, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("workspace: a missing local path is FileNotFound (exit 2); a relative remote path is InvalidArgument", async () => {
  await using s = await served();
  const r = await s.dbxr(["workspace", "upload", "/nonexistent/dbxr/project", `${HOME}/x`]);
  assertEquals(r.code, 2, r.stdout);
  assertEquals([r.json().status, r.json().error], ["FileNotFound", "FileNotFound"]);
  const rel = await s.dbxr(["workspace", "ls", "Users/someone"]);
  assertEquals(rel.code, 2);
  assertEquals(rel.json().error, "InvalidArgument");
  const noArgs = await s.dbxr(["workspace", "upload", "only-one"]);
  assertEquals([noArgs.code, noArgs.json().error], [2, "InvalidArgument"]);
});
