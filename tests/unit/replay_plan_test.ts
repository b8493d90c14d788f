import { assertEquals } from "../helpers/assert.ts";
import { planReplay, sideEffects } from "../../src/session/replay_plan.ts";
import type { StepRecord } from "../../src/session/schema.ts";
import { migrate } from "../../src/session/migrate.ts";

function step(n: number, tag: string, status = "Finished", extra: Partial<StepRecord> = {}): StepRecord {
  return {
    step: n,
    tag,
    session_name: "s",
    status,
    command_file: `./repl_outputs/${String(n).padStart(3, "0")}_${tag}.cmd.py`,
    started_at: "2026-01-01T00:00:00.000000+00:00",
    finished_at: "2026-01-01T00:00:01.000000+00:00",
    elapsed_seconds: n / 10,
    slug: tag,
    ...extra,
  };
}

const runs = (p: ReturnType<typeof planReplay>) => p.run.map((r) => r.step);
const why = (p: ReturnType<typeof planReplay>) => p.skipped.map((s) => [s.step, s.reason, s.superseded_by]);

Deno.test("plan: Finished steps run in order with their recorded time; failures never run", () => {
  const p = planReplay([
    step(1, "load"),
    step(2, "define"),
    step(3, "oops", "Error"),
    step(4, "stop", "Cancelled"),
    step(5, "lost", "ContextEvicted"),
    step(6, "odd", "Unknown"),
    step(7, "use"),
  ], { language: "python" });
  assertEquals(runs(p), [1, 2, 7]);
  assertEquals(why(p), [
    [3, "failed", undefined],
    [4, "cancelled", undefined],
    [5, "never_ran", undefined],
    [6, "not_finished", undefined],
  ]);
  assertEquals(p.run[0].elapsed_seconds, 0.1);
  assertEquals(p.recorded_seconds, 1);
  assertEquals(p.warnings, []);
});

Deno.test("plan: of consecutive attempts of a tag only the last successful one runs", () => {
  const p = planReplay([
    step(1, "train", "Error"),
    step(2, "train"),
    step(3, "train"),
    step(4, "eval"),
  ], { language: "python" });
  assertEquals(runs(p), [3, 4]);
  assertEquals(why(p), [[1, "failed", 3], [2, "superseded", 3]]);
  assertEquals(p.skipped[0].why, "failed when recorded (Error); retried later as step 3");
});

Deno.test("plan: an earlier attempt with another step after it runs too (that step may use it)", () => {
  const steps = [step(1, "load"), step(2, "use"), step(3, "load"), step(4, "load", "Error")];
  const p = planReplay(steps, { language: "python" });
  assertEquals(runs(p), [1, 2, 3]);
  // A failed step in between is not a step that ran: 5 is a retry of 3.
  const q = planReplay([...steps, step(5, "load")], { language: "python" });
  assertEquals(runs(q), [1, 2, 5]);
  assertEquals(why(q), [[3, "superseded", 5], [4, "failed", 5]]);
  assertEquals(runs(planReplay([...steps, step(5, "load")], { language: "python", allAttempts: true })), [
    1,
    2,
    3,
    5,
  ]);
});

Deno.test("plan: --no-replay steps and replays are left out, with why", () => {
  const p = planReplay([
    step(1, "load"),
    step(2, "write", "Finished", { replay: false }),
    step(3, "safe", "Finished", { replay: true }),
    step(4, "load", "Finished", { replay_of: 1 }),
  ], { language: "python" });
  assertEquals(runs(p), [1, 3]);
  assertEquals(why(p), [[2, "not_replayable", undefined], [4, "replay", undefined]]);
  assertEquals(p.skipped[1].replay_of, 1);
  assertEquals(p.run[1].replay_safe, true);
});

Deno.test("plan: --from/--to/--only select steps, and retries are judged within the selection", () => {
  const steps = [step(1, "a"), step(2, "b"), step(3, "b"), step(4, "c"), step(5, "b")];
  assertEquals(runs(planReplay(steps, { language: "python", from: 2, to: 4 })), [3, 4]);
  const p = planReplay(steps, { language: "python", to: 2 });
  assertEquals(runs(p), [1, 2]);
  assertEquals(why(p).map((w) => w[1]), ["after_to", "after_to", "after_to"]);
  // --only b: the steps of other tags are not selected, so 2, 3 and 5 are consecutive attempts.
  assertEquals(runs(planReplay(steps, { language: "python", only: ["b"] })), [5]);
  assertEquals(runs(planReplay(steps, { language: "python", only: ["a", "c"] })), [1, 4]);
});

Deno.test("plan: --only matches the tag as given or its slug", () => {
  const steps = [step(1, "x", "Finished", { tag: "load data", slug: "load_data" }), step(2, "y")];
  assertEquals(runs(planReplay(steps, { language: "python", only: ["load data"] })), [1]);
  assertEquals(runs(planReplay(steps, { language: "python", only: ["load_data"] })), [1]);
});

Deno.test("plan: steps of another language, and missing command files, are skipped with a warning", () => {
  const sqlStep = step(2, "q", "Finished", { command_file: "./repl_outputs/002_q.cmd.sql" });
  const code = new Map<number, string | undefined>([[1, "x = 1"], [2, "select 1"], [3, undefined]]);
  const p = planReplay([step(1, "a"), sqlStep, step(3, "gone")], { language: "python", code });
  assertEquals(runs(p), [1]);
  assertEquals(why(p).map((w) => w[1]), ["other_language", "missing_file"]);
  assertEquals(p.warnings.length, 1);
});

Deno.test("plan: side effects are flagged unless the step was recorded --replay-safe", () => {
  const code = new Map<number, string | undefined>([
    [1, "df.write.mode('overwrite').saveAsTable('main.x.t')"],
    [2, "df.write.format('delta').save('/Volumes/x')"],
    [3, "spark.sql('INSERT INTO main.x.t VALUES (1)')"],
  ]);
  const p = planReplay([step(1, "a"), step(2, "b", "Finished", { replay: true }), step(3, "c")], {
    language: "python",
    code,
  });
  assertEquals(p.run.map((r) => r.side_effects), [["saveAsTable"], [], ["SQL write"]]);
  assertEquals(p.warnings.length, 2);
});

Deno.test("sideEffects: common writes are found, plain reads are not", () => {
  assertEquals(sideEffects("df = spark.read.table('x')\nprint(df.count())"), []);
  assertEquals(sideEffects("pdf.to_csv('/tmp/a.csv')"), ["pandas to_*"]);
  assertEquals(sideEffects("dbutils.fs.rm('/x', True)"), ["dbutils.fs"]);
  assertEquals(sideEffects("with open('out.txt', 'w') as f: f.write('x')"), ["file write"]);
  assertEquals(sideEffects("with open('in.txt') as f: f.read()"), []);
  assertEquals(sideEffects("requests.post(url, json={})"), ["HTTP write"]);
  assertEquals(sideEffects("mlflow.sklearn.log_model(m, 'model')"), ["MLflow logging"]);
  assertEquals(sideEffects("df.write.mode('append').parquet('/x')"), ["DataFrame write"]);
  assertEquals(sideEffects("select * from t where updated > 0"), []);
});

Deno.test("plan: a seed-written session (no slug, no dbxr fields) plans from its steps", async () => {
  const raw = JSON.parse(
    await Deno.readTextFile(new URL("./fixtures/session/seed_active_session.json", import.meta.url)),
  );
  const r = migrate(raw);
  if (!r.ok) throw new Error(r.problems.join("; "));
  const p = planReplay(r.session.steps, { language: "python" });
  assertEquals(runs(p), [1]);
  assertEquals(why(p), [[2, "failed", undefined]]);
  assertEquals(p.run[0].command_file, "repl_outputs/001_load_data.cmd.py");
  assertEquals(p.run[0].elapsed_seconds, 4.5);
});
