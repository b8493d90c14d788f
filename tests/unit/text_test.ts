// Text renderings of the REPL and job answers: pure functions of the JSON the commands print.

import { cancelText, createText, destroyText, execText, statusText } from "../../src/repl/text.ts";
import { runListText, runReportText } from "../../src/jobs/text.ts";
import { ansiStyle } from "../../src/table.ts";
import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";

Deno.test("exec text: status, files, previews; Running names the commands to run next", () => {
  const done = execText({
    cmd_id: "001_load",
    status: "Finished",
    elapsed_seconds: 1.2,
    stdout_file: "repl_outputs/001_load.stdout",
    stderr_file: "repl_outputs/001_load.stderr",
    stdout_bytes: 3,
    stderr_bytes: 0,
    stdout_preview: "42\n",
  });
  assertEquals(done.split("\n"), [
    "001_load: Finished after 1.2s",
    "  stdout: repl_outputs/001_load.stdout (3 bytes)",
    "  stderr: repl_outputs/001_load.stderr (0 bytes)",
    "",
    "--- stdout (preview) ---",
    "42",
  ]);
  const running = execText({
    cmd_id: "002_train",
    status: "Running",
    elapsed_seconds: 600,
    message: "Command still running after 600s client-side timeout.",
    tip: { await: "dbxr await --timeout 600 --project-dir .", cancel: "dbxr cancel --project-dir ." },
  });
  assertStringIncludes(running, "002_train: Running after 600s\n  Command still running");
  assertStringIncludes(running, "\n  await: dbxr await --timeout 600 --project-dir .\n  cancel: dbxr cancel");
  assertStringIncludes(execText({ cmd_id: "x", status: "Error" }, ansiStyle), "\x1b[31mError\x1b[0m");
});

Deno.test("an eviction lists the steps to replay as a table", () => {
  const t = execText({
    status: "ContextEvicted",
    message: "The execution context was evicted.",
    new_context_id: "c2",
    previous_steps: [{ step: 1, tag: "load", command_file: "repl_outputs/001_load.cmd.py" }],
  });
  assertStringIncludes(t, "ContextEvicted: The execution context was evicted.\n  new context: c2\n");
  assertStringIncludes(
    t,
    "Steps to replay:\nSTEP  TAG   COMMAND FILE\n1     load  repl_outputs/001_load.cmd.py",
  );
  assertStringIncludes(cancelText({ status: "ContextEvicted", new_context_id: "c3" }), "new context: c3");
});

Deno.test("create, cancel, destroy, status in text", () => {
  assertEquals(
    createText({
      status: "created",
      project_dir: ".",
      session_file: "session.json",
      cluster_id: "c1",
      context_id: "x1",
      output_dir: "repl_outputs",
    }),
    "session created in .\n  cluster       c1\n  context       x1\n  session file  session.json\n  outputs       repl_outputs",
  );
  assertEquals(
    cancelText({
      status: "cancelled",
      command_id: "k",
      settled: true,
      cmd_id: "003_t",
      step_status: "Cancelled",
    }),
    "003_t: cancelled, recorded as Cancelled",
  );
  assertEquals(
    cancelText({ status: "cancelled", command_id: "k", settled: false, message: "Cancel was sent." }),
    "k: cancelled (not ended yet)\n  Cancel was sent.",
  );
  assertEquals(
    destroyText({ status: "destroyed", project_dir: ".", steps_completed: 2, session_file: "session.json" }),
    "session destroyed in .: 2 step(s) recorded, files kept (session.json)",
  );
  const st = statusText({
    status: "active",
    session_name: "s",
    project_dir: ".",
    cluster_id: "c1",
    cluster_state: "TERMINATED",
    context_id: "x1",
    context_alive: false,
    language: "python",
    steps: 0,
    last_step: null,
    active_command: null,
    hint: "dbxr cluster start c1 --wait",
  });
  assertStringIncludes(st, "  cluster   c1 TERMINATED\n  context   x1 gone\n");
  assert(st.endsWith("\nnext: dbxr cluster start c1 --wait"), st);
});

Deno.test("job text: one state vocabulary, the outcome apart, tasks and diagnosis", () => {
  const failed = runReportText({
    status: "RunFailed",
    run_id: 7,
    run_page_url: "https://x/run/7",
    life_cycle_state: "TERMINATED",
    result_state: "FAILED",
    message: "Run ended FAILED (task main: NameError).",
    tasks: [{
      task_key: "main",
      run_id: 8,
      result_state: "FAILED",
      log_file: "job_outputs/7/main.log",
      error: "NameError\nmore",
    }],
    diagnosis: [{ cause: "c", fix: "f", command: "dbxr job run x.py --wrap" }],
    hint: "dbxr job run x.py --wrap",
  });
  const lines = failed.split("\n");
  assertEquals(lines[0], "run 7  TERMINATED FAILED  (RunFailed)");
  assertStringIncludes(
    failed,
    "\nTASK  RUN ID  STATE   LOG                     ERROR\nmain  8       FAILED  job_outputs/7/main.log  NameError\n",
  );
  assertStringIncludes(failed, "\ncause: c\nfix:   f\nrun:   dbxr job run x.py --wrap");
  assert(!failed.includes("next:"), "the hint is the diagnosis' command, not repeated");

  assertEquals(
    runReportText({ status: "SUCCESS", run_id: 7, life_cycle_state: "TERMINATED", result_state: "SUCCESS" }),
    "run 7  TERMINATED SUCCESS",
  );
  assertEquals(
    runReportText({ status: "submitted", run_id: 9, run_page_url: null }),
    "run 9  (submitted)\n  follow it: dbxr job watch 9",
  );
  assertEquals(
    runListText([{
      run_id: 1,
      life_cycle_state: "RUNNING",
      result_state: null,
      start_time: Date.UTC(2026, 0, 2, 3, 4),
      run_name: "dbxr a.py",
    }]),
    "RUN ID  STATE    STARTED (UTC)     NAME\n1       RUNNING  2026-01-02 03:04  dbxr a.py",
  );
  assertEquals(runListText([]), "(no runs)");
});
