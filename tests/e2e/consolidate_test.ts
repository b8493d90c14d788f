// dbxr repl consolidate end to end: a real session against the emulator becomes one script that compiles,
// passes `job check` and runs as a job; a session.json of the seed's own tool consolidates unchanged.

import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { replSession, served } from "../helpers/served.ts";

Deno.test("consolidate a session with a %pip line, a retried tag and repeated imports; it compiles and runs as a job", async () => {
  await using s = await served();
  const { dir, cluster, run } = await replSession(s, "demo run");
  const steps: Array<[string, string, number]> = [
    ["deps", "%pip install ipython", 0],
    ["load", 'import json\nimport os\ndata = {"a": 1}\nprint(json.dumps(data))', 0],
    ["train", 'import json\nresult = data["b"]', 1],
    [
      "train",
      'import json\nimport math\nresult = math.sqrt(data["a"] * 16)\nprint(json.dumps({"result": result}))',
      0,
    ],
    ["ask", 'answer = sub_llm("Say hi")\nprint("answer:", len(answer) > 0)', 0],
  ];
  for (const [tag, code, exit] of steps) {
    const r = await run(["exec", "--command", code, "--tag", tag]);
    assertEquals(r.code, exit, `${tag}: ${r.stdout}`);
  }
  const before = await Deno.readTextFile(`${dir}/session.json`);
  const c = await run(["repl", "consolidate", "--json"]);
  assertEquals(c.code, 0, c.stdout + c.stderr);
  const a = c.json();
  assertEquals(a.status, "consolidated");
  assertEquals(a.out_file, `${dir}/demo_run.py`);
  assertEquals([a.steps_kept, a.steps_attempted], [4, 5]);
  assertEquals(a.requires, ["ipython"]);
  assertEquals(a.imports, ["import json", "import os", "import math"]);
  assertEquals(a.helpers_included, true);
  assertEquals((a.skipped as Array<Record<string, unknown>>).map((x) => [x.step, x.reason]), [[
    3,
    "retried",
  ]]);
  assertEquals(await Deno.readTextFile(`${dir}/session.json`), before, "consolidate changed session.json");

  const script = await Deno.readTextFile(`${dir}/demo_run.py`);
  const head = script.split("\n").slice(0, 14);
  assertEquals(head, [
    '"""',
    "Consolidated from session: demo run",
    `Source: ${dir}/session.json`,
    "Steps: 4 (of 5 attempted)",
    '"""',
    "",
    "# --- Dependencies ---",
    "# Requires: ipython",
    "",
    "# --- Imports ---",
    "import json",
    "import os",
    "import math",
    "",
  ]);
  assertStringIncludes(
    script,
    '# --- Step 1: load ---\ndata = {"a": 1}\nprint(json.dumps(data))\n\n# --- Step 2: train ---\n' +
      'result = math.sqrt(data["a"] * 16)\nprint(json.dumps({"result": result}))\n\n# --- Step 3: ask ---\n',
  );
  assert(!script.includes('data["b"]'), "the failed attempt was kept");

  const compiled = await new Deno.Command("python3", { args: ["-m", "py_compile", `${dir}/demo_run.py`] })
    .output();
  assert(compiled.success, new TextDecoder().decode(compiled.stderr));

  // An existing output is never overwritten without --force.
  const again = await run(["repl", "consolidate", "--json"]);
  assertEquals(again.code, 2, again.stdout);
  assertEquals(again.json().error, "InvalidArgument");
  assertEquals((await run(["repl", "consolidate", "--json", "--force"])).code, 0);

  // The script runs as a job, sub_llm included.
  const job = await s.dbxr(["--project-dir", dir, "job", "run", "demo_run.py", "--cluster-id", cluster], {
    cwd: dir,
  });
  assertEquals(job.code, 0, job.stdout + job.stderr);
  const log = await Deno.readTextFile(
    `${dir}/${(job.json().tasks as Array<{ log_file: string }>)[0].log_file}`,
  );
  assertStringIncludes(log, '{"result": 4.0}');
  assertStringIncludes(log, "answer: True");
});

Deno.test("consolidate a session.json written by the seed's own tool, without changing it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dbxr-seed-consolidate-" });
  await using s = await served();
  try {
    await Deno.mkdir(`${dir}/repl_outputs`);
    const seedSession = {
      status: "destroyed",
      cluster_id: "0123-456789-abcdefgh",
      context_id: "1234567890",
      session_name: "iris",
      step_counter: 3,
      created_at: "2025-01-01T10:00:00+00:00",
      destroyed_at: "2025-01-01T11:00:00+00:00",
      profile: null,
      steps: [
        {
          step: 1,
          tag: "load",
          session_name: "iris",
          status: "Finished",
          command_file: "./repl_outputs/001_load.cmd.py",
          started_at: "2025-01-01T10:01:00+00:00",
          finished_at: "2025-01-01T10:01:02+00:00",
          elapsed_seconds: 2.1,
        },
        {
          step: 2,
          tag: "fit",
          session_name: "iris",
          status: "Error",
          command_file: "./repl_outputs/002_fit.cmd.py",
          started_at: "2025-01-01T10:02:00+00:00",
          finished_at: "2025-01-01T10:02:01+00:00",
          elapsed_seconds: 1.0,
        },
        {
          step: 3,
          tag: "fit",
          session_name: "iris",
          status: "Finished",
          command_file: "./repl_outputs/003_fit.cmd.py",
          started_at: "2025-01-01T10:03:00+00:00",
          finished_at: "2025-01-01T10:03:05+00:00",
          elapsed_seconds: 5.0,
        },
      ],
    };
    const text = JSON.stringify(seedSession, null, 2);
    await Deno.writeTextFile(`${dir}/session.json`, text);
    await Deno.writeTextFile(
      `${dir}/repl_outputs/001_load.cmd.py`,
      "import pandas as pd\nrows = [1, 2, 3]\n",
    );
    await Deno.writeTextFile(`${dir}/repl_outputs/002_fit.cmd.py`, "total = sum(rowz)\n");
    await Deno.writeTextFile(
      `${dir}/repl_outputs/003_fit.cmd.py`,
      "import pandas as pd\ntotal = sum(rows)\nprint(total)\n",
    );
    const r = await s.dbxr(["repl", "consolidate", "--project-dir", dir, "--json"]);
    assertEquals(r.code, 0, r.stdout + r.stderr);
    assertEquals(await Deno.readTextFile(`${dir}/session.json`), text);
    const script = await Deno.readTextFile(`${dir}/iris.py`);
    assertStringIncludes(script, "Steps: 2 (of 3 attempted)");
    assertStringIncludes(script, "# --- Imports ---\nimport pandas as pd\n");
    assertStringIncludes(script, "# --- Step 2: fit ---\ntotal = sum(rows)\nprint(total)\n");
    assert(!script.includes("rowz"));
    assert(!script.includes("dbxr helpers"), "helpers added without a sub_llm call");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("consolidate with no session is NoSession; with no successful step NotFound", async () => {
  await using s = await served();
  const empty = await Deno.makeTempDir({ dir: s.home, prefix: "empty-" });
  const r = await s.dbxr(["repl", "consolidate", "--project-dir", empty]);
  assertEquals(r.code, 4, r.stdout);
  assertEquals(r.json().error, "NoSession");

  await Deno.mkdir(`${empty}/repl_outputs`);
  await Deno.writeTextFile(`${empty}/repl_outputs/001_x.cmd.py`, "1/0\n");
  await Deno.writeTextFile(
    `${empty}/session.json`,
    JSON.stringify({
      status: "active",
      cluster_id: "c",
      context_id: "1",
      session_name: "failing",
      step_counter: 1,
      created_at: "2025-01-01T10:00:00+00:00",
      profile: null,
      steps: [{
        step: 1,
        tag: "x",
        session_name: "failing",
        status: "Error",
        command_file: "./repl_outputs/001_x.cmd.py",
        started_at: "2025-01-01T10:01:00+00:00",
        finished_at: "2025-01-01T10:01:01+00:00",
        elapsed_seconds: 1,
      }],
    }),
  );
  const none = await s.dbxr(["repl", "consolidate", "--project-dir", empty]);
  assertEquals(none.code, 4, none.stdout);
  assertEquals(none.json().error, "NotFound");
  assertEquals(none.json().hint, `dbxr repl consolidate --include-failed --project-dir ${empty}`);
  const failed = await s.dbxr(["repl", "consolidate", "--project-dir", empty, "--include-failed", "--json"]);
  assertEquals(failed.code, 0, failed.stdout);
  assertStringIncludes(
    await Deno.readTextFile(`${empty}/failing.py`),
    "# --- Step 1: x (Error in the session) ---\n1/0\n",
  );
});
