import { shellQuote } from "../../src/shell.ts";
import { assert, assertEquals, assertStringIncludes, assertThrows } from "../helpers/assert.ts";
import { type DbxrError, isDbxrError } from "../../src/errors.ts";
import { migrate } from "../../src/session/migrate.ts";
import { type Session, validateSession } from "../../src/session/schema.ts";
import {
  bindWorkspace,
  busyError,
  checkWorkspace,
  classifyActive,
  destroy,
  finishStep,
  markSubmitted,
  newSession,
  previousSteps,
  recordEviction,
  runningTip,
  startStep,
} from "../../src/session/transitions.ts";

const T0 = Date.UTC(2026, 2, 1, 9, 0, 0, 123);

function fresh(over: Partial<Parameters<typeof newSession>[0]> = {}): Session {
  return newSession({
    cluster_id: "0123-456789-abcdefgh",
    context_id: "ctx-1",
    session_name: "churn",
    profile: "dev",
    host: "https://adb-1.azuredatabricks.net",
    auth_type: "pat",
    language: "python",
    now: T0,
    highestOnDisk: 0,
    ...over,
  });
}

/** Deep-freezes, so that any mutation of an input throws in strict mode. */
function frozen<T>(v: T): T {
  if (typeof v === "object" && v !== null) {
    for (const x of Object.values(v)) frozen(x);
    Object.freeze(v);
  }
  return v;
}

function code(e: unknown): string | undefined {
  return isDbxrError(e) ? e.code : undefined;
}

Deno.test("newSession: the seed's keys plus dbxr's, numbering past files on disk", () => {
  const s = fresh({ highestOnDisk: 7 });
  assertEquals(s, {
    version: 1,
    status: "active",
    cluster_id: "0123-456789-abcdefgh",
    context_id: "ctx-1",
    session_name: "churn",
    step_counter: 7,
    created_at: "2026-03-01T09:00:00.123000+00:00",
    profile: "dev",
    eviction_count: 0,
    language: "python",
    steps: [],
    host: "https://adb-1.azuredatabricks.net",
    auth_type: "pat",
  });
  assertEquals(validateSession(s), []);
});

Deno.test("a full step: start (submitting) -> submitted -> finished, inputs never mutated", () => {
  const s0 = frozen(fresh());
  const started = startStep(s0, { tag: "load data", now: T0 + 1000 });
  assertEquals(started.active, {
    step: 1,
    tag: "load data",
    slug: "load_data",
    command_file: "./repl_outputs/001_load_data.cmd.py",
    started_at: "2026-03-01T09:00:01.123000+00:00",
    state: "submitting",
    context_id: "ctx-1",
    language: "python",
  });
  assertEquals(started.files.cmd_id, "001_load_data");
  assertEquals(started.files.stdout, "repl_outputs/001_load_data.stdout");
  assertEquals(started.session.step_counter, 1);
  assertEquals(classifyActive(started.session).kind, "in-doubt");

  const s2 = markSubmitted(frozen(started.session), "cmd-9");
  assertEquals(s2.active_command?.state, "submitted");
  assertEquals(s2.active_command?.command_id, "cmd-9");
  const c = classifyActive(s2);
  assertEquals(c.kind === "pending" ? c.command_id : undefined, "cmd-9");

  const done = finishStep(frozen(s2), {
    status: "Finished",
    finished_at: "2026-03-01T09:00:03.623000+00:00",
    elapsed_seconds: 2.5,
    result_type: "text",
    stdout_bytes: 12,
    stderr_bytes: 0,
    truncated: false,
  });
  assertEquals(done.session.active_command, undefined);
  assert(!("active_command" in done.session));
  assertEquals(done.session.steps, [done.record]);
  assertEquals(Object.keys(done.record), [
    "step",
    "tag",
    "session_name",
    "status",
    "command_file",
    "started_at",
    "finished_at",
    "elapsed_seconds",
    "slug",
    "command_id",
    "result_type",
    "stdout_bytes",
    "stderr_bytes",
    "truncated",
  ]);
  assertEquals(done.record.tag, "load data");
  assertEquals(done.record.session_name, "churn");
  assertEquals(done.record.command_id, "cmd-9");
  assertEquals(done.files.stderr, "repl_outputs/001_load_data.stderr");
  assertEquals(validateSession(done.session), []);
  assertEquals(classifyActive(done.session), { kind: "none" });

  // The next step continues the numbering, and uses a number already on disk + 1 when higher.
  assertEquals(startStep(done.session, { tag: "b", now: T0 }).active.step, 2);
  assertEquals(startStep(done.session, { tag: "b", now: T0, highestOnDisk: 41 }).files.cmd_id, "042_b");
});

Deno.test("startStep uses the session's language unless told otherwise", () => {
  assertEquals(
    startStep(fresh({ language: "sql" }), { tag: "q", now: T0 }).files.cmd,
    "repl_outputs/001_q.cmd.sql",
  );
  assertEquals(
    startStep(fresh(), { tag: "q", now: T0, language: "scala" }).active.command_file,
    "./repl_outputs/001_q.cmd.scala",
  );
});

Deno.test("exec while a command runs is the SessionBusy error (exit 5) with command_id and a tip", () => {
  const s = markSubmitted(startStep(fresh(), { tag: "train", now: T0 }).session, "abc123-def456");
  const e = assertThrows(() =>
    startStep(s, { tag: "next", now: T0, projectDir: "examples/churn" })
  ) as DbxrError;
  assertEquals(e.code, "SessionBusy");
  assertEquals(e.exitCode, 5);
  assertEquals(
    e.message,
    "Command 001_train is still running; the context runs one command at a time. " +
      "Await it or cancel it before running another command.",
  );
  assertEquals(e.details, {
    cmd_id: "001_train",
    command_id: "abc123-def456",
    step: 1,
    tag: "train",
    state: "submitted",
    started_at: "2026-03-01T09:00:00.123000+00:00",
    tip: {
      await: "dbxr await --timeout 600 --project-dir examples/churn",
      cancel: "dbxr cancel --project-dir examples/churn",
    },
  });
  assertEquals(e.hint, "dbxr await --timeout 600 --project-dir examples/churn");
  // Never "Running": an agent would take it for its own command's timeout.
  assertEquals(e.toJSON().status, "SessionBusy");
  assertEquals(e.toJSON().cmd_id, "001_train");
  assertEquals(e.toJSON().command_id, "abc123-def456");
});

Deno.test("an in-doubt command (killed mid-submit) blocks too, saying what happened", () => {
  const s = startStep(fresh(), { tag: "train", now: T0 }).session;
  const e = assertThrows(() => startStep(s, { tag: "next", now: T0 })) as DbxrError;
  assertEquals(e.code, "SessionBusy");
  assertStringIncludes(e.message, "may or may not have run");
  assertEquals(e.details.command_id, null);
  assertEquals(e.details.state, "submitting");
  assertEquals(e.hint, "dbxr cancel --project-dir .");
  // No await in the tip: there is no command id to wait on (await would answer NothingToAwait).
  assertEquals(e.fields.tip, { cancel: "dbxr cancel --project-dir ." });
});

Deno.test("a command whose exec process still submits it is busy, not in doubt", () => {
  const s = startStep(fresh(), { tag: "train", now: T0 }).session;
  const e = busyError(s, ".", true);
  assertEquals(e.code, "SessionBusy");
  assertStringIncludes(e.message, "being submitted by another dbxr process");
  assertEquals(e.hint, "dbxr await --timeout 600 --project-dir .");
});

Deno.test("a command cancelled but not ended is still busy, and the error says so", () => {
  const s = markSubmitted(startStep(fresh(), { tag: "stubborn", now: T0 }).session, "cmd-1");
  const stuck = { ...s, active_command: { ...s.active_command!, remote_status: "Cancelling" } };
  const e = assertThrows(() => startStep(stuck, { tag: "next", now: T0 })) as DbxrError;
  assertEquals(e.code, "SessionBusy");
  assertStringIncludes(e.message, "cancelled but has not ended yet");
  assertEquals(e.details.remote_status, "Cancelling");
  assertEquals(e.toJSON().command_id, "cmd-1");
  assertEquals(validateSession(stuck), [], "the added fields are valid in session.json");
});

Deno.test("startStep on a destroyed session is NoSession with the seed's message", () => {
  const e = assertThrows(() => startStep(destroy(fresh(), T0), { tag: "x", now: T0 }));
  assertEquals(code(e), "NoSession");
  assertEquals((e as DbxrError).message, "Session has been destroyed. Run 'create' first.");
});

Deno.test("markSubmitted and finishStep refuse when there is no matching active command", () => {
  assertEquals(code(assertThrows(() => markSubmitted(fresh(), "x"))), "Error");
  const s = markSubmitted(startStep(fresh(), { tag: "a", now: T0 }).session, "id-1");
  assertEquals(code(assertThrows(() => markSubmitted(s, "id-2"))), "Error");
  assertEquals(markSubmitted(s, "id-1").active_command?.command_id, "id-1");
  const fin = { status: "Finished" as const, finished_at: "t", elapsed_seconds: 0 };
  assertEquals(code(assertThrows(() => finishStep(fresh(), fin))), "Error");
  assertEquals(code(assertThrows(() => finishStep(s, { ...fin, step: 2 }))), "Error");
  assertEquals(finishStep(s, { ...fin, step: 1 }).record.step, 1);
});

Deno.test("eviction: the triggering step is recorded as ContextEvicted, the context replaced, counted", () => {
  let s = fresh();
  for (const tag of ["install_deps", "load_data"]) {
    const st = markSubmitted(startStep(s, { tag, now: T0 }).session, `id-${tag}`);
    s = finishStep(st, { status: "Finished", finished_at: "t", elapsed_seconds: 1 }).session;
  }
  const evicted = finishStep(startStep(s, { tag: "train", now: T0 }).session, {
    status: "ContextEvicted",
    finished_at: "t",
    elapsed_seconds: 0.3,
  }).session;
  const after = recordEviction(frozen(evicted), "ctx-2", T0 + 60_000);
  assertEquals(after.context_id, "ctx-2");
  assertEquals(after.eviction_count, 1);
  assertEquals(after.last_eviction_at, "2026-03-01T09:01:00.123000+00:00");
  assertEquals(recordEviction(after, "ctx-3", T0).eviction_count, 2);
  assertEquals(after.steps.map((x) => x.status), ["Finished", "Finished", "ContextEvicted"]);
  assertEquals(previousSteps(after), [
    { step: 1, tag: "install_deps", command_file: "./repl_outputs/001_install_deps.cmd.py" },
    { step: 2, tag: "load_data", command_file: "./repl_outputs/002_load_data.cmd.py" },
  ]);
  // The number of the evicted step is used up: its .cmd.py file exists.
  assertEquals(startStep(after, { tag: "train", now: T0 }).active.step, 4);
});

Deno.test("previousSteps of the seed's iris session lists every step as the seed did", async () => {
  const r = migrate(
    JSON.parse(await Deno.readTextFile(new URL("./fixtures/session/iris_session.json", import.meta.url))),
  );
  assert(r.ok);
  assertEquals(previousSteps(r.session).map((p) => [p.step, p.tag, p.command_file]), [
    [1, "load_data", "./repl_outputs/001_load_data.cmd.py"],
    [2, "preprocess", "./repl_outputs/002_preprocess.cmd.py"],
    [3, "train", "./repl_outputs/003_train.cmd.py"],
    [4, "evaluate", "./repl_outputs/004_evaluate.cmd.py"],
    [5, "persist_model", "./repl_outputs/005_persist_model.cmd.py"],
  ]);
});

Deno.test("destroy marks the session destroyed; an active command is recorded as Cancelled", () => {
  const d = destroy(frozen(fresh()), T0 + 5000);
  assertEquals([d.status, d.destroyed_at], ["destroyed", "2026-03-01T09:00:05.123000+00:00"]);
  const running = markSubmitted(startStep(fresh(), { tag: "long", now: T0 }).session, "c1");
  const d2 = destroy(running, T0 + 12_340);
  assertEquals(d2.active_command, undefined);
  assertEquals(d2.steps.map((s) => [s.status, s.elapsed_seconds, s.command_id]), [["Cancelled", 12.3, "c1"]]);
  const e = assertThrows(() => destroy(d, T0));
  assertEquals([code(e), (e as DbxrError).message], ["NoSession", "Session is already destroyed."]);
});

Deno.test("checkWorkspace: another host or another named profile is InvalidArgument", () => {
  const s = fresh();
  checkWorkspace(s, { host: "https://ADB-1.azuredatabricks.net/", profile: "dev" });
  checkWorkspace(s, { host: "adb-1.azuredatabricks.net" });
  checkWorkspace(s, {});
  const e = assertThrows(() => checkWorkspace(s, { host: "https://adb-2.azuredatabricks.net" }, "my dir"));
  assertEquals(code(e), "InvalidArgument");
  assertEquals((e as DbxrError).hint, "dbxr status --project-dir 'my dir' --profile dev");
  assertEquals(code(assertThrows(() => checkWorkspace(s, { profile: "prod" }))), "InvalidArgument");
  // A migrated seed session has no host yet: nothing to compare until it is bound.
  const seedLike = { ...fresh({ profile: null }), host: undefined };
  checkWorkspace(seedLike, { host: "https://x.cloud.databricks.com", profile: "any" });
  const bound = bindWorkspace(seedLike, { host: "https://x.cloud.databricks.com", auth_type: "pat" });
  assertEquals([bound.host, bound.auth_type], ["https://x.cloud.databricks.com", "pat"]);
  assertEquals(bindWorkspace(s, { host: "https://other" }), s);
});

Deno.test("runningTip holds runnable commands, quoting the dir when needed", () => {
  assertEquals(runningTip(), {
    await: "dbxr await --timeout 600 --project-dir .",
    cancel: "dbxr cancel --project-dir .",
  });
  assertEquals(runningTip("it's here", 30).await, "dbxr await --timeout 30 --project-dir 'it'\\''s here'");
  assertEquals(shellQuote("/tmp/a-b_c.d"), "/tmp/a-b_c.d");
});
