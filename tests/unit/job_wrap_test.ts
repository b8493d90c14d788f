// The --wrap runner (src/assets/job_wrap.py, as shipped in job_wrap_py.ts), run by python3 the way a
// spark_python_task runs: compiled under a /Workspace file name and exec()ed in a fresh __main__ namespace
// with no __file__, notebook globals pre-set, and sys.argv[1:] = the task's parameters. There is no
// /Workspace here: --dbxr-root names a temp directory standing in for the uploaded tree (the wrapper takes
// any directory).

import { assert, assertEquals, assertMatch, assertStringIncludes } from "../helpers/assert.ts";
import JOB_WRAP_SOURCE from "../../src/assets/job_wrap_py.ts";

const WRAP_NAME = "/Workspace/Users/me@example.com/.dbxr/proj/_dbxr_wrap.py";

// Mirrors Databricks' runner (docs/databricks-behaviour.md §10.2): read the file in binary, compile it with
// the workspace path as its file name, exec it with __name__ "__main__" and without __file__.
const HARNESS = `
import sys
wrapper, code_name, params = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(wrapper, "rb") as f:
    source = f.read()
sys.argv = [code_name] + params
namespace = {"__name__": "__main__", "spark": "fake-spark", "dbutils": "fake-dbutils", "sql": "fake-sql"}
exec(compile(source, code_name, "exec"), namespace)
`;

const TRAIN = `
import json, os, sys
from tools.helper import x
import sibling

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "..", "data", "config.json")) as f:
    cfg = json.load(f)

if __name__ == "__main__":
    print("RESULT " + json.dumps({
        "file": __file__, "name": __name__, "cwd": os.getcwd(), "argv": sys.argv, "x": x,
        "sibling": sibling.VALUE, "cfg": cfg, "path": sys.path[:2],
        "spark": spark, "sql": sql, "has_sc": "sc" in globals(), "has_dbutils": "dbutils" in globals(),
        "env": {k: os.environ.get(k) for k in ("DBXR_WORKSPACE_ROOT", "DBXR_WORKSPACE_FILE", "DBXR_LOCAL_ROOT")},
        "stale": os.path.exists(os.path.join(here, "stale.txt")),
    }))
    if "--fail" in sys.argv:
        raise ValueError("boom from the script")
    if "--exit" in sys.argv:
        sys.exit(int(sys.argv[sys.argv.index("--exit") + 1]))
`;

interface Tree {
  dir: string;
  root: string;
  local: string;
  wrapper: string;
}

async function withTree(fn: (t: Tree) => Promise<void>): Promise<void> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "dbxr-wrap-test-" }));
  const root = `${dir}/uploaded`;
  const files: Record<string, string> = {
    "jobs/train.py": TRAIN,
    "jobs/sibling.py": "VALUE = 'sibling ok'\n",
    "tools/__init__.py": "",
    "tools/helper.py": "x = 'helper ok'\n",
    "data/config.json": '{"lr": 0.1}\n',
  };
  for (const [rel, text] of Object.entries(files)) {
    await Deno.mkdir(`${root}/${rel}`.replace(/\/[^/]+$/, ""), { recursive: true });
    await Deno.writeTextFile(`${root}/${rel}`, text);
  }
  const wrapper = `${dir}/_dbxr_wrap.py`;
  await Deno.writeTextFile(wrapper, JOB_WRAP_SOURCE);
  try {
    await fn({ dir, root, local: `${dir}/local`, wrapper });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  result?: Record<string, unknown>;
}

async function wrap(t: Tree, params: string[]): Promise<Ran> {
  const out = await new Deno.Command("python3", {
    args: ["-c", HARNESS, t.wrapper, WRAP_NAME, ...params],
    cwd: t.dir,
    env: { PYTHONDONTWRITEBYTECODE: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const line = stdout.split("\n").find((l) => l.startsWith("RESULT "));
  return {
    code: out.code,
    stdout,
    stderr: new TextDecoder().decode(out.stderr),
    result: line ? JSON.parse(line.slice("RESULT ".length)) : undefined,
  };
}

const params = (t: Tree, ...user: string[]) => [
  "--dbxr-file",
  `${t.root}/jobs/train.py`,
  "--dbxr-root",
  t.root,
  "--dbxr-local-dir",
  t.local,
  "--",
  ...user,
];

Deno.test("job_wrap: the script runs from a local copy with __file__, __main__, its argv, cwd and imports", async () => {
  await withTree(async (t) => {
    const r = await wrap(t, params(t, "--n", "3", "--", "two words"));
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.stderr.split("\n")[0], `dbxr --wrap: running ${t.root}/jobs/train.py from ${t.local}`);
    assertEquals(r.result, {
      file: `${t.local}/jobs/train.py`,
      name: "__main__",
      cwd: `${t.local}/jobs`,
      argv: [`${t.local}/jobs/train.py`, "--n", "3", "--", "two words"],
      x: "helper ok",
      sibling: "sibling ok",
      cfg: { lr: 0.1 },
      path: [`${t.local}/jobs`, t.local],
      spark: "fake-spark",
      sql: "fake-sql",
      has_sc: false,
      has_dbutils: true,
      env: {
        DBXR_WORKSPACE_ROOT: t.root,
        DBXR_WORKSPACE_FILE: `${t.root}/jobs/train.py`,
        DBXR_LOCAL_ROOT: t.local,
      },
      stale: false,
    });
  });
});

Deno.test("job_wrap: a relative --dbxr-file, --opt=value forms, and no -- at all", async () => {
  await withTree(async (t) => {
    const r = await wrap(t, [
      `--dbxr-root=${t.root}`,
      "--dbxr-file=jobs/train.py",
      `--dbxr-local-dir=${t.local}`,
    ]);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.result?.argv, [`${t.local}/jobs/train.py`]);
    assertEquals(r.result?.file, `${t.local}/jobs/train.py`);
  });
});

Deno.test("job_wrap: each run replaces the previous copy", async () => {
  await withTree(async (t) => {
    assertEquals((await wrap(t, params(t))).code, 0);
    assert(await exists(`${t.local}/.dbxr_wrap_copy`));
    await Deno.writeTextFile(`${t.local}/jobs/stale.txt`, "left from an old run");
    await Deno.writeTextFile(`${t.root}/tools/helper.py`, "x = 'helper v2'\n");
    const r = await wrap(t, params(t));
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.result?.x, "helper v2");
    assertEquals(r.result?.stale, false);
    // No staging directory is left behind.
    const siblings = [...Deno.readDirSync(t.dir)].map((e) => e.name).sort();
    assertEquals(siblings, ["_dbxr_wrap.py", "local", "uploaded"]);
  });
});

Deno.test("job_wrap: SystemExit codes and exceptions come through unchanged", async () => {
  await withTree(async (t) => {
    assertEquals((await wrap(t, params(t, "--exit", "3"))).code, 3);
    assertEquals((await wrap(t, params(t, "--exit", "0"))).code, 0);
    const failed = await wrap(t, params(t, "--fail"));
    assertEquals(failed.code, 1);
    assertStringIncludes(failed.stderr, "ValueError: boom from the script");
    // The traceback names the script (its local copy), as a spark_python_task's error_trace would.
    assertStringIncludes(failed.stderr, `File "${t.local}/jobs/train.py"`);
  });
});

Deno.test("job_wrap: by default each run copies into its own /tmp/dbxr_job_<sha256 of the root>_* and removes it", async () => {
  await withTree(async (t) => {
    const hash = [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(t.root)))]
      .map((b) => b.toString(16).padStart(2, "0")).join("").slice(0, 12);
    const leftovers = async () => {
      const found: string[] = [];
      for await (const e of Deno.readDir("/tmp")) {
        if (e.name.startsWith(`dbxr_job_${hash}_`)) found.push(e.name);
      }
      return found;
    };
    const r = await wrap(t, ["--dbxr-file", `${t.root}/jobs/train.py`, "--dbxr-root", t.root, "--", "a"]);
    assertEquals(r.code, 0, r.stderr);
    const local = (r.result?.file as string).slice(0, -"/jobs/train.py".length);
    assertMatch(local, new RegExp(`^/tmp/dbxr_job_${hash}_[^/]+$`));
    assertEquals(r.stderr.split("\n")[0], `dbxr --wrap: running ${t.root}/jobs/train.py from ${local}`);
    assertEquals(r.result?.argv, [`${local}/jobs/train.py`, "a"]);
    assertEquals(await leftovers(), [], "the run's copy was left in /tmp");
    // A failing script still gets its traceback from the copy, which goes away when the process exits.
    await Deno.writeTextFile(`${t.root}/jobs/fail.py`, "raise ValueError('boom from the copy')\n");
    const failed = await wrap(t, ["--dbxr-file", `${t.root}/jobs/fail.py`, "--dbxr-root", t.root, "--"]);
    assertEquals(failed.code, 1);
    assertStringIncludes(failed.stderr, "raise ValueError('boom from the copy')");
    assertEquals(await leftovers(), [], "a failed run's copy was left in /tmp");
  });
});

Deno.test("job_wrap: a directory it did not make is never replaced", async () => {
  await withTree(async (t) => {
    await Deno.mkdir(t.local);
    await Deno.writeTextFile(`${t.local}/precious.txt`, "mine");
    const r = await wrap(t, params(t));
    assertEquals(r.code, 1);
    assertMatch(
      r.stderr,
      /FileExistsError: dbxr --wrap: refusing to replace .*local: it is not a copy made by dbxr/,
    );
    assertEquals(await Deno.readTextFile(`${t.local}/precious.txt`), "mine");
    // Inside the tree would copy the tree into itself.
    const inside = await wrap(t, [...params(t).slice(0, 5), `${t.root}/tmp`, "--"]);
    assertEquals(inside.code, 1);
    assertStringIncludes(inside.stderr, "overlaps the project tree");
  });
});

Deno.test("job_wrap: bad parameters exit 2 with the usage; a missing script is FileNotFoundError", async () => {
  await withTree(async (t) => {
    const noRoot = await wrap(t, ["--dbxr-file", `${t.root}/jobs/train.py`, "--", "x"]);
    assertEquals(noRoot.code, 2);
    assertStringIncludes(noRoot.stderr, "dbxr --wrap: error: --dbxr-file and --dbxr-root are required");
    assertStringIncludes(noRoot.stderr, "usage: _dbxr_wrap.py --dbxr-file PATH --dbxr-root DIR");

    const unknown = await wrap(t, [...params(t).slice(0, 4), "--n", "3"]);
    assertEquals(unknown.code, 2);
    assertStringIncludes(unknown.stderr, "unknown parameter '--n' (the script's own arguments go after --)");

    const outside = await wrap(t, ["--dbxr-file", `${t.dir}/_dbxr_wrap.py`, "--dbxr-root", t.root]);
    assertEquals(outside.code, 2);
    assertStringIncludes(outside.stderr, "is not inside --dbxr-root");

    const missing = await wrap(t, [
      "--dbxr-file",
      "jobs/nope.py",
      "--dbxr-root",
      t.root,
      "--dbxr-local-dir",
      t.local,
    ]);
    assertEquals(missing.code, 1);
    assertStringIncludes(
      missing.stderr,
      `FileNotFoundError: dbxr --wrap: the script ${t.root}/jobs/nope.py does not exist`,
    );
  });
});

Deno.test("job_wrap: the wrapper itself never reads __file__ (spark_python_task does not define it)", async () => {
  const check = "import ast, sys\n" +
    "tree = ast.parse(sys.stdin.read())\n" +
    "print(sum(isinstance(n, ast.Name) and n.id == '__file__' for n in ast.walk(tree)))";
  const child = new Deno.Command("python3", { args: ["-c", check], stdin: "piped", stdout: "piped" }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(JOB_WRAP_SOURCE));
  await w.close();
  const out = await child.output();
  assertEquals(new TextDecoder().decode(out.stdout).trim(), "0");
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
