import { assert, assertEquals } from "../helpers/assert.ts";
import { migrate } from "../../src/session/migrate.ts";
import { serializeSession, type Session, validateSession } from "../../src/session/schema.ts";

const fixture = async (name: string): Promise<Record<string, unknown>> =>
  JSON.parse(await Deno.readTextFile(new URL(`./fixtures/session/${name}`, import.meta.url)));

function migrated(raw: unknown): { session: Session; fromVersion: number } {
  const r = migrate(raw);
  if (!r.ok) throw new Error(`migration failed: ${r.problems.join("; ")}`);
  return r;
}

Deno.test("the seed's iris example is read as version 0 and migrated, its values untouched", async () => {
  const raw = await fixture("iris_session.json");
  const { session, fromVersion } = migrated(raw);
  assertEquals(fromVersion, 0);
  assertEquals(session.version, 1);
  assertEquals(session.language, "python");
  assertEquals(session.eviction_count, 0);
  // Every key and value the seed wrote is still there, unchanged.
  for (const [k, v] of Object.entries(raw)) {
    if (k !== "steps") assertEquals((session as unknown as Record<string, unknown>)[k], v, k);
  }
  assertEquals(session.steps.length, 5);
  for (const [i, step] of session.steps.entries()) {
    const { slug, ...seedFields } = step;
    assertEquals(seedFields, (raw.steps as unknown[])[i]);
    assertEquals(slug, ["load_data", "preprocess", "train", "evaluate", "persist_model"][i]);
  }
  assertEquals(session.status, "destroyed");
  assertEquals(session.destroyed_at, "2026-02-22T02:01:16.941645+00:00");
  assertEquals(validateSession(session), []);
  // The input object is not modified.
  assertEquals(raw.version, undefined);
});

Deno.test("a seed session with an active command (after a timed-out exec) migrates to a pending one", async () => {
  const raw = await fixture("seed_active_session.json");
  const { session } = migrated(raw);
  assertEquals(session.active_command, {
    command_id: "abc123-def456",
    step: 3,
    tag: "train",
    started_at: "2026-03-01T09:02:00.000000+00:00",
    slug: "train",
    command_file: "./repl_outputs/003_train.cmd.py",
    state: "submitted",
    context_id: "8123456789012345678",
    language: "python",
  });
  assertEquals(session.eviction_count, 1);
  assertEquals(session.last_eviction_at, "2026-03-01T09:00:30.654321+00:00");
  assertEquals(session.profile, null);
  // The seed named files after the raw tag: the slug follows the file, dots and all.
  assertEquals(session.steps[1].slug, "eval.v2");
  assertEquals(session.steps[1].command_file, "repl_outputs/002_eval.v2.cmd.py");
});

Deno.test("a seed active_command without command_id is in doubt (state submitting)", () => {
  const raw = {
    status: "active",
    cluster_id: "c",
    context_id: "x",
    session_name: "s",
    step_counter: 1,
    created_at: "2026-01-01T00:00:00+00:00",
    profile: "dev",
    steps: [],
    active_command: { step: 1, tag: "go now", started_at: "2026-01-01T00:00:01+00:00" },
  };
  const { session } = migrated(raw);
  assertEquals(session.active_command?.state, "submitting");
  assertEquals(session.active_command?.command_id, undefined);
  assertEquals(session.active_command?.command_file, "./repl_outputs/001_go now.cmd.py");
});

Deno.test("unknown keys survive migration and serialisation, at the top level and in steps", async () => {
  const raw = await fixture("iris_session.json");
  raw.team_notes = { owner: "ana" };
  (raw.steps as Record<string, unknown>[])[0].reviewed = true;
  const { session } = migrated(raw);
  const written = JSON.parse(serializeSession(session));
  assertEquals(written.team_notes, { owner: "ana" });
  assertEquals(written.steps[0].reviewed, true);
  // Written files read back as version 1 with nothing to migrate.
  const again = migrated(written);
  assertEquals(again.fromVersion, 1);
  assertEquals(again.session, written);
});

Deno.test("serializeSession: version first, the seed's keys in its order, two-space indent, final newline", async () => {
  const { session } = migrated(await fixture("seed_active_session.json"));
  const text = serializeSession(session);
  assert(text.endsWith("}\n"));
  assert(text.startsWith('{\n  "version": 1,\n  "status": "active",\n  "cluster_id"'));
  assertEquals(Object.keys(JSON.parse(text)), [
    "version",
    "status",
    "cluster_id",
    "context_id",
    "session_name",
    "step_counter",
    "created_at",
    "profile",
    "eviction_count",
    "last_eviction_at",
    "language",
    "active_command",
    "steps",
  ]);
  assertEquals(Object.keys(JSON.parse(text).steps[0]), [
    "step",
    "tag",
    "session_name",
    "status",
    "command_file",
    "started_at",
    "finished_at",
    "elapsed_seconds",
    "slug",
  ]);
});

Deno.test("a version newer than this dbxr is refused without being called corrupt", () => {
  const r = migrate({ version: 2, status: "active" });
  assertEquals(r.ok, false);
  if (!r.ok) assertEquals([r.reason, r.version], ["newer", 2]);
});

Deno.test("unusable content is invalid, with the reasons", () => {
  const cases: [unknown, string][] = [
    [[], "$: not a JSON object"],
    [null, "$: not a JSON object"],
    [{ version: "1" }, "version: expected an integer"],
    [{ status: "active" }, "cluster_id: expected a string"],
    [{ ...minimal(), status: "running" }, `status: expected "active" or "destroyed"`],
    [{ ...minimal(), step_counter: -1 }, "step_counter: expected a non-negative integer"],
    [{ ...minimal(), steps: {} }, "steps: expected an array"],
    [{ ...minimal(), steps: [{ step: 1 }] }, "steps[0].tag: expected a string"],
    [{ ...minimal(), version: 1, language: "r" }, "language: expected one of python, sql, scala"],
  ];
  for (const [raw, problem] of cases) {
    const r = migrate(raw);
    assertEquals(r.ok, false, JSON.stringify(raw));
    if (!r.ok) assert(r.problems.includes(problem), `${JSON.stringify(raw)}: ${r.problems.join("; ")}`);
  }
});

Deno.test("a seed file without steps is read with none (the seed's readers default them too)", () => {
  const { session } = migrated(minimal());
  assertEquals(session.steps, []);
});

function minimal(): Record<string, unknown> {
  return {
    status: "active",
    cluster_id: "c",
    context_id: "x",
    session_name: "s",
    step_counter: 0,
    created_at: "2026-01-01T00:00:00+00:00",
    profile: null,
  };
}
