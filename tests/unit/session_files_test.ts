import { join } from "node:path";
import { assertEquals, assertThrows } from "../helpers/assert.ts";
import {
  commandFileName,
  filesOf,
  highestStepOnDisk,
  imageFile,
  nextStepNumber,
  padStep,
  parseStepFileName,
  projectPath,
  stepFiles,
} from "../../src/session/files.ts";
import { newSession } from "../../src/session/transitions.ts";

Deno.test("step numbers are padded to 3 digits and grow past 999", () => {
  assertEquals([1, 42, 999, 1000, 12345].map(padStep), ["001", "042", "999", "1000", "12345"]);
});

Deno.test("stepFiles names every file of a step, relative to the project dir", () => {
  assertEquals(stepFiles(3, "train", "python"), {
    cmd_id: "003_train",
    command_file: "./repl_outputs/003_train.cmd.py",
    cmd: "repl_outputs/003_train.cmd.py",
    stdout: "repl_outputs/003_train.stdout",
    stderr: "repl_outputs/003_train.stderr",
    result_json: "repl_outputs/003_train.result.json",
    png: "repl_outputs/003_train.png",
  });
  assertEquals(stepFiles(1000, "q", "sql").cmd, "repl_outputs/1000_q.cmd.sql");
  assertEquals(commandFileName(7, "job", "scala"), "./repl_outputs/007_job.cmd.scala");
  const f = stepFiles(4, "plot", "python");
  assertEquals([1, 2, 3].map((n) => imageFile(f, n)), [
    "repl_outputs/004_plot.png",
    "repl_outputs/004_plot.2.png",
    "repl_outputs/004_plot.3.png",
  ]);
});

Deno.test("parseStepFileName reads names back, including the seed's raw tags with dots", () => {
  assertEquals(parseStepFileName("./repl_outputs/003_train.cmd.py"), {
    step: 3,
    slug: "train",
    kind: "cmd.py",
  });
  assertEquals(parseStepFileName("repl_outputs/002_eval.v2.cmd.py"), {
    step: 2,
    slug: "eval.v2",
    kind: "cmd.py",
  });
  assertEquals(parseStepFileName("1000_x.2.png"), { step: 1000, slug: "x", kind: "2.png" });
  assertEquals(parseStepFileName("C:\\p\\repl_outputs\\004_a.result.json"), {
    step: 4,
    slug: "a",
    kind: "result.json",
  });
  assertEquals(parseStepFileName("notes.txt"), undefined);
  assertEquals(parseStepFileName("003_train.txt"), undefined);
});

Deno.test("filesOf follows the command file that was really written (seed steps used the raw tag)", () => {
  const seedStep = { step: 2, tag: "eval.v2", command_file: "repl_outputs/002_eval.v2.cmd.py" };
  assertEquals(filesOf(seedStep).stdout, "repl_outputs/002_eval.v2.stdout");
  assertEquals(filesOf(seedStep).command_file, "repl_outputs/002_eval.v2.cmd.py");
  // An unreadable or mismatched command file falls back to the number and the tag's slug.
  assertEquals(
    filesOf({ step: 5, tag: "a b", command_file: "elsewhere.py" }).stdout,
    "repl_outputs/005_a_b.stdout",
  );
  assertEquals(filesOf({ step: 5, tag: "x", command_file: "./repl_outputs/004_x.cmd.py" }).cmd_id, "005_x");
  assertEquals(
    filesOf({ step: 6, tag: "q", command_file: "./repl_outputs/006_q.cmd.sql" }).cmd,
    "repl_outputs/006_q.cmd.sql",
  );
});

Deno.test("highestStepOnDisk scans every NNN_ file of repl_outputs (0 when there is none)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dbxr_files_" });
  try {
    assertEquals(await highestStepOnDisk(dir), 0);
    const out = join(dir, "repl_outputs");
    await Deno.mkdir(out);
    assertEquals(await highestStepOnDisk(dir), 0);
    for (const name of ["001_a.cmd.py", "007_b.stdout", "notes.md", ".012_tmp.stdout.tmp-1", "x_99.cmd.py"]) {
      await Deno.writeTextFile(join(out, name), "");
    }
    assertEquals(await highestStepOnDisk(dir), 7);
    await Deno.writeTextFile(join(out, "1002_late.stderr"), "");
    assertEquals(await highestStepOnDisk(dir), 1002);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("nextStepNumber never reuses a number on disk, in the counter, in steps or active", () => {
  const base = newSession({
    cluster_id: "c",
    context_id: "x",
    session_name: "s",
    profile: null,
    language: "python",
    now: 0,
    highestOnDisk: 0,
  });
  assertEquals(nextStepNumber(base, 0), 1);
  assertEquals(nextStepNumber({ ...base, step_counter: 4 }, 2), 5);
  assertEquals(nextStepNumber({ ...base, step_counter: 4 }, 9), 10);
  const withStep = { ...base, steps: [{ ...stepRecord(12) }] };
  assertEquals(nextStepNumber(withStep, 0), 13);
});

function stepRecord(step: number) {
  return {
    step,
    tag: "t",
    session_name: "s",
    status: "Finished",
    command_file: `./repl_outputs/${padStep(step)}_t.cmd.py`,
    started_at: "",
    finished_at: "",
    elapsed_seconds: 0,
  };
}

Deno.test("projectPath refuses paths that leave the project dir", () => {
  assertEquals(projectPath("/p", "repl_outputs/001_a.stdout"), join("/p", "repl_outputs", "001_a.stdout"));
  assertEquals(projectPath("/p", "./repl_outputs/001_a.cmd.py"), join("/p", "repl_outputs", "001_a.cmd.py"));
  for (const bad of ["../x", "repl_outputs/../../x", "/etc/passwd", "C:\\x", "", "."]) {
    assertThrows(() => projectPath("/p", bad));
  }
});
