import { assertEquals } from "../helpers/assert.ts";
import { judgeContext, lastActivity, type SessionView } from "../../src/repl/gc.ts";
import { parseRegistry, type RegistryEntry, removeFromRegistry } from "../../src/repl/registry.ts";
import { newSession } from "../../src/session/transitions.ts";
import type { Session } from "../../src/session/schema.ts";
import { fakeCtx } from "../helpers/fake_ctx.ts";

const HOST = "https://adb-1.azuredatabricks.net";
const T0 = Date.parse("2026-03-01T10:00:00Z");

function entry(over: Partial<RegistryEntry> = {}): RegistryEntry {
  return {
    host: HOST,
    cluster_id: "c1",
    context_id: "ctx-1",
    project_dir: "/p/a",
    session_name: "a",
    reason: "create",
    created_at: "2026-03-01T10:00:00.000000+00:00",
    ...over,
  };
}

function view(over: Partial<Session> = {}, mtimeMs = T0 + 1000): SessionView {
  const s = newSession({
    cluster_id: "c1",
    context_id: "ctx-1",
    session_name: "a",
    profile: null,
    host: HOST,
    language: "python",
    now: T0,
    highestOnDisk: 0,
  });
  return { kind: "ok", session: { ...s, ...over }, mtimeMs };
}

const judge = (
  e: RegistryEntry,
  v: SessionView,
  o: { clusterId?: string; idleHours?: number; now?: number } = {},
) => judgeContext(e, v, { host: HOST, now: o.now ?? T0 + 60_000, ...o });

Deno.test("gc: the session's own live context is kept; destroyed, missing and moved ones go", () => {
  assertEquals(judge(entry(), view()).reason, "live");
  assertEquals(judge(entry(), view({ status: "destroyed" })), {
    action: "destroy",
    reason: "session_destroyed",
    why: "the session a was destroyed",
  });
  assertEquals(judge(entry(), { kind: "missing" }).action, "destroy");
  const moved = judge(entry(), view({ context_id: "ctx-2" }));
  assertEquals([moved.action, moved.reason], ["destroy", "moved"]);
  assertEquals(judge(entry(), view({ cluster_id: "c2" })).reason, "moved");
  assertEquals(judge(entry(), view({ host: "https://other.cloud.databricks.com" })).reason, "moved");
  // A moved session that was destroyed later: still the old context is not its own.
  assertEquals(judge(entry(), view({ context_id: "ctx-2", status: "destroyed" })).reason, "moved");
});

Deno.test("gc: kept when in doubt (other workspace, unreadable file, recorded after the file's last write)", () => {
  assertEquals(
    judge(entry({ host: "https://x.cloud.databricks.com" }), { kind: "missing" }).reason,
    "other_workspace",
  );
  // The host as written with a trailing slash or another case is the same workspace.
  assertEquals(judge(entry({ host: HOST.toUpperCase() + "/" }), view()).reason, "live");
  assertEquals(judge(entry(), { kind: "unreadable", problem: "x" }).action, "keep");
  // An eviction in another process: the fresh context is recorded, the session not rewritten yet.
  const racing = entry({ context_id: "ctx-new", created_at: "2026-03-01T10:00:05.000000+00:00" });
  assertEquals(judge(racing, view({}, T0 + 1000)).reason, "recent");
  assertEquals(judge(racing, view({}, T0 + 9000)).reason, "moved");
  assertEquals(judge(entry(), { kind: "missing" }, { clusterId: "c9" }).reason, "other_cluster");
});

Deno.test("gc --idle: the last activity of the session decides; a running command is never idle", () => {
  const steps = [{
    step: 1,
    tag: "x",
    session_name: "a",
    status: "Finished",
    command_file: "./repl_outputs/001_x.cmd.py",
    started_at: "2026-03-01T11:00:00.000000+00:00",
    finished_at: "2026-03-01T11:30:00.000000+00:00",
    elapsed_seconds: 1800,
  }];
  const v = view({ steps });
  assertEquals(lastActivity((v as { session: Session }).session), Date.parse("2026-03-01T11:30:00Z"));
  const at = (h: number) => Date.parse("2026-03-01T11:30:00Z") + h * 3_600_000;
  assertEquals(judge(entry(), v, { idleHours: 2, now: at(1.9) }).reason, "live");
  const idle = judge(entry(), v, { idleHours: 2, now: at(2.5) });
  assertEquals([idle.action, idle.reason], ["destroy", "idle"]);
  assertEquals(
    idle.why,
    "idle for 2.5 h (last activity 2026-03-01T11:30:00.000000+00:00), more than --idle 2",
  );
  const busy = view({
    steps,
    active_command: {
      step: 2,
      tag: "y",
      slug: "y",
      command_file: "./repl_outputs/002_y.cmd.py",
      started_at: "2026-03-01T11:31:00.000000+00:00",
      state: "submitted",
      command_id: "cmd",
      context_id: "ctx-1",
      language: "python",
    },
  });
  assertEquals(judge(entry(), busy, { idleHours: 2, now: at(10) }).reason, "live");
});

Deno.test("registry: torn or foreign lines are kept aside; removal rewrites only what was asked", async () => {
  const text = [
    JSON.stringify(entry()),
    "{not json",
    JSON.stringify(entry({ context_id: "ctx-2" })),
    JSON.stringify({ note: "hand-written" }),
    JSON.stringify(entry({ context_id: "ctx-3" })) + "\n",
  ].join("\n");
  const r = parseRegistry(text);
  assertEquals(r.entries.map((e) => e.context_id), ["ctx-1", "ctx-2", "ctx-3"]);
  assertEquals(r.unreadable.length, 2);

  const home = await Deno.makeTempDir();
  try {
    const { ctx } = fakeCtx({ env: { HOME: home } });
    await Deno.mkdir(`${home}/.dbxr`);
    await Deno.writeTextFile(`${home}/.dbxr/contexts.jsonl`, text);
    assertEquals(await removeFromRegistry(ctx, new Set(["ctx-2", "ctx-9"])), 1);
    const after = await Deno.readTextFile(`${home}/.dbxr/contexts.jsonl`);
    assertEquals(after.split("\n").filter(Boolean).length, 4);
    assertEquals(parseRegistry(after).entries.map((e) => e.context_id), ["ctx-1", "ctx-3"]);
    assertEquals(parseRegistry(after).unreadable.length, 2);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
