import { join } from "node:path";
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { type DbxrError, isDbxrError } from "../../src/errors.ts";
import type { Session } from "../../src/session/schema.ts";
import { SessionStore } from "../../src/session/store.ts";
import {
  CREATE_HINT,
  finishStep,
  markSubmitted,
  newSession,
  startStep,
} from "../../src/session/transitions.ts";

const T0 = Date.UTC(2026, 2, 1, 9, 0, 0);
const now = () => T0;

async function withProject(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dbxr_store_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function session(over: Partial<Session> = {}): Session {
  return {
    ...newSession({
      cluster_id: "c-1",
      context_id: "ctx-1",
      session_name: "s",
      profile: null,
      language: "python",
      now: T0,
      highestOnDisk: 0,
    }),
    ...over,
  };
}

const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();
const codeOf = (e: unknown) => (isDbxrError(e) ? e.code : String(e));

Deno.test("read without a session is NoSession with the create hint, and creates nothing", async () => {
  await withProject(async (dir) => {
    const project = join(dir, "missing");
    const store = new SessionStore(project, { now });
    const e = await assertRejects(() => store.read()) as DbxrError;
    assertEquals(e.code, "NoSession");
    assertEquals(e.exitCode, 4);
    assertEquals(e.hint, CREATE_HINT);
    assertEquals(e.hint, "dbxr create --cluster-id ID --session-name NAME");
    assertEquals(await store.readIfExists(), undefined);
    assertEquals(codeOf(await assertRejects(() => store.update((s) => s))), "NoSession");
    assertEquals(names(dir), []);
  });
});

Deno.test("write is atomic and leaves only session.json; read returns what was written", async () => {
  await withProject(async (dir) => {
    const store = new SessionStore(join(dir, "p"), { now });
    await store.ensureDirs();
    const s = session();
    await store.write(s);
    assertEquals(names(store.projectDir), ["repl_outputs", "session.json"]);
    assertEquals(await store.read(), s);
    assertEquals((await store.load()).fromVersion, 1);
    const text = await Deno.readTextFile(store.sessionFile);
    assert(text.startsWith('{\n  "version": 1,\n  "status": "active"') && text.endsWith("}\n"), text);
    // An invalid session is never written.
    const bad = { ...s, step_counter: -3 };
    assertEquals(codeOf(await assertRejects(() => store.write(bad))), "Error");
    assertEquals(await store.read(), s);
  });
});

Deno.test("unparseable session.json is moved aside (never overwritten or deleted) and reported", async () => {
  await withProject(async (dir) => {
    const store = new SessionStore(dir, { now });
    await Deno.writeTextFile(store.sessionFile, '{"status": "active", "cluster_id": ');
    const e = await assertRejects(() => store.read()) as DbxrError;
    assertEquals(e.code, "SessionCorrupt");
    assertEquals(e.exitCode, 5);
    assertEquals(e.hint, CREATE_HINT);
    const moved = join(dir, "session.json.corrupt-20260301T090000Z");
    assertEquals(e.details.moved_to, moved);
    assert(String((e.details.problems as string[])[0]).startsWith("not valid JSON"));
    assertEquals(await Deno.readTextFile(moved), '{"status": "active", "cluster_id": ');
    assertEquals(await store.exists(), false);

    // A second corrupt file in the same second gets its own name: the first is kept.
    await Deno.writeTextFile(store.sessionFile, "[]");
    const e2 = await assertRejects(() => store.update((s) => s)) as DbxrError;
    assertEquals(e2.code, "SessionCorrupt");
    assertEquals(e2.details.moved_to, `${moved}-2`);
    assertEquals(e2.details.problems, ["$: not a JSON object"]);
    assertEquals(names(dir), [
      ".session.lock",
      "session.json.corrupt-20260301T090000Z",
      "session.json.corrupt-20260301T090000Z-2",
    ]);
  });
});

Deno.test("a session that fails validation is moved aside too; invalid UTF-8 counts as corrupt", async () => {
  await withProject(async (dir) => {
    const store = new SessionStore(dir, { now });
    await Deno.writeTextFile(store.sessionFile, JSON.stringify({ ...session(), status: "weird" }));
    const e = await assertRejects(() => store.read()) as DbxrError;
    assertEquals(e.code, "SessionCorrupt");
    assertEquals(e.details.problems, [`status: expected "active" or "destroyed"`]);
    await Deno.writeFile(store.sessionFile, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]));
    assertEquals(codeOf(await assertRejects(() => store.read())), "SessionCorrupt");
    assertEquals(await store.exists(), false);
  });
});

Deno.test("a session.json from a newer dbxr is refused but left in place", async () => {
  await withProject(async (dir) => {
    const store = new SessionStore(dir, { now });
    await Deno.writeTextFile(store.sessionFile, JSON.stringify({ ...session(), version: 9 }));
    const e = await assertRejects(() => store.read()) as DbxrError;
    assertEquals(e.code, "InvalidArgument");
    assertEquals(await store.exists(), true);
  });
});

Deno.test("a seed-written session.json is read as version 0 and migrated on the next write only", async () => {
  await withProject(async (dir) => {
    const store = new SessionStore(dir, { now });
    const seedText = await Deno.readTextFile(
      new URL("./fixtures/session/seed_active_session.json", import.meta.url),
    );
    await Deno.writeTextFile(store.sessionFile, seedText);
    const loaded = await store.load();
    assertEquals(loaded.fromVersion, 0);
    assertEquals(loaded.session.active_command?.state, "submitted");
    assertEquals(await Deno.readTextFile(store.sessionFile), seedText, "reading does not rewrite");

    await store.update((s) =>
      finishStep(s, {
        status: "Finished",
        finished_at: "2026-03-01T09:05:00.000000+00:00",
        elapsed_seconds: 300,
      })
        .session
    );
    const onDisk = JSON.parse(await Deno.readTextFile(store.sessionFile));
    assertEquals(onDisk.version, 1);
    assertEquals(onDisk.active_command, undefined);
    assertEquals(onDisk.steps.length, 3);
    assertEquals(onDisk.steps[2].command_id, "abc123-def456");
    assertEquals((await store.load()).fromVersion, 1);
  });
});

Deno.test("concurrent update() calls from one process serialise (no lost update)", async () => {
  await withProject(async (dir) => {
    // One store per async flow, as each command and MCP tool call makes its own: four lock descriptors.
    const stores = [0, 1, 2, 3].map(() => new SessionStore(dir, { now }));
    await stores[0].write(session());
    const order: string[] = [];
    const bump = (store: SessionStore, name: string) =>
      store.update(async (s) => {
        order.push(`${name}:in`);
        await new Promise((r) => setTimeout(r, 30));
        order.push(`${name}:out`);
        return { ...s, step_counter: s.step_counter + 1 };
      });
    await Promise.all(stores.map((s, i) => bump(s, "abcd"[i])));
    assertEquals((await stores[0].read()).step_counter, 4);
    for (let i = 0; i < order.length; i += 2) {
      assertEquals(order[i].split(":")[0], order[i + 1].split(":")[0], order.join(" "));
    }
  });
});

Deno.test("withLock is re-entrant: update() inside withLock() does not wait for itself", async () => {
  await withProject(async (dir) => {
    const store = new SessionStore(dir, { now, lockTimeoutMs: 200 });
    await store.write(session());
    const out = await store.withLock(async () => {
      const s = startStep(await store.read(), { tag: "a", now: T0 });
      await store.write(s.session);
      return await store.update((x) => markSubmitted(x, "id-1"));
    });
    assertEquals(out.active_command?.command_id, "id-1");
  });
});

Deno.test("re-entrancy nests at any depth, ends with the hold, and survives a throw inside it", async () => {
  await withProject(async (dir) => {
    const store = new SessionStore(dir, { now, lockTimeoutMs: 200 });
    const other = new SessionStore(dir, { now, lockTimeoutMs: 200 });
    await store.write(session());
    const counter = await store.withLock(() =>
      store.withLock(async () => {
        await store.update((s) => ({ ...s, step_counter: 1 }));
        // Held for real meanwhile: another store (another flow) cannot take it.
        await assertRejects(() => other.update((s) => s), (e) => assert(isDbxrError(e, "SessionLocked")));
        return await store.withLock(async () => (await store.read()).step_counter);
      })
    );
    assertEquals(counter, 1);
    // Released: the other store takes it at once, and so does this one again.
    await other.update((s) => ({ ...s, step_counter: 2 }));
    await assertRejects(() =>
      store.withLock(() => {
        throw new Error("boom");
      })
    );
    await other.update((s) => ({ ...s, step_counter: 3 }));
    assertEquals((await store.update((s) => s)).step_counter, 3);
  });
});

Deno.test("a promise started under the lock that outlives the hold takes the lock anew", async () => {
  await withProject(async (dir) => {
    const store = new SessionStore(dir, { now, lockTimeoutMs: 2_000 });
    const other = new SessionStore(dir, { now, lockTimeoutMs: 2_000 });
    await store.write(session());
    const order: string[] = [];
    let late!: Promise<unknown>;
    await store.withLock(() => {
      late = (async () => {
        await new Promise((r) => setTimeout(r, 20)); // after the hold has ended
        await store.update(async (s) => {
          order.push("late:in");
          await new Promise((r) => setTimeout(r, 60));
          order.push("late:out");
          return s;
        });
      })();
    });
    await new Promise((r) => setTimeout(r, 40));
    await other.update((s) => {
      order.push("other");
      return s;
    });
    await late;
    assertEquals(order, ["late:in", "late:out", "other"]);
  });
});

/** Another process that holds the project's lock (Deno.FsFile#lock) until it exits or is killed. */
async function lockHolder(lockFile: string, holdMs: number) {
  const script = `
    const f = await Deno.open(${JSON.stringify(lockFile)}, { read: true, write: true, create: true });
    await f.lock(true);
    await Deno.stdout.write(new TextEncoder().encode("locked\\n"));
    await new Promise((r) => setTimeout(r, ${holdMs}));
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("locked")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("lock holder exited early");
    seen += value;
  }
  const drained = (async () => {
    while (!(await reader.read()).done) { /* drain until exit */ }
  })();
  return {
    child,
    lockedAt: performance.now(),
    async finished() {
      await drained;
      return await child.status;
    },
  };
}

Deno.test("update waits for another process's lock, then succeeds", async () => {
  await withProject(async (dir) => {
    const store = new SessionStore(dir, { now, lockTimeoutMs: 10_000 });
    await store.write(session());
    const holder = await lockHolder(store.lockFile, 700);
    await store.update((s) => ({ ...s, step_counter: 9 }));
    const waited = performance.now() - holder.lockedAt;
    assert(waited >= 400, `update returned after ${waited} ms, before the holder released the lock`);
    assertEquals((await store.read()).step_counter, 9);
    assertEquals((await holder.finished()).code, 0);
  });
});

Deno.test("SessionLocked after the bound; kill -9 of the holder frees the lock at once", async () => {
  await withProject(async (dir) => {
    const store = new SessionStore(dir, { now, lockTimeoutMs: 300 });
    await store.write(session());
    const holder = await lockHolder(store.lockFile, 30_000);
    try {
      const t = performance.now();
      const e = await assertRejects(() => store.update((s) => ({ ...s, step_counter: 1 }))) as DbxrError;
      const waited = performance.now() - t;
      assertEquals(e.code, "SessionLocked");
      assertEquals(e.exitCode, 5);
      assertEquals(e.hint, `dbxr status --project-dir ${dir}`);
      assertEquals(e.details.lock_file, store.lockFile);
      assert(waited >= 280 && waited < 3000, `waited ${waited} ms`);
      assertEquals((await store.read()).step_counter, 0, "nothing was written");
    } finally {
      holder.child.kill("SIGKILL");
      await holder.finished();
    }
    const t = performance.now();
    await store.update((s) => ({ ...s, step_counter: 2 }));
    assert(performance.now() - t < 250, "no stale lock after kill -9");
    assertEquals((await store.read()).step_counter, 2);
  });
});

Deno.test("archive renames session.json to session.<timestamp>.json, never over another", async () => {
  await withProject(async (dir) => {
    const store = new SessionStore(dir, { now });
    assertEquals(await store.archive(), undefined);
    await store.write(session());
    assertEquals(await store.withLock(() => store.archive()), join(dir, "session.20260301T090000Z.json"));
    await store.write(session({ session_name: "second" }));
    assertEquals(await store.archive(), join(dir, "session.20260301T090000Z-2.json"));
    assertEquals(await store.exists(), false);
    const first = JSON.parse(await Deno.readTextFile(join(dir, "session.20260301T090000Z.json")));
    assertEquals(first.session_name, "s");
  });
});

Deno.test("the submit lock: held means being submitted; released, missing or its holder killed means gone", async () => {
  await withProject(async (dir) => {
    const store = new SessionStore(dir, { now });
    assertEquals(await store.submitterAlive(undefined), false);
    assertEquals(await store.submitterAlive("repl_outputs/.007.submit.lock"), false, "no file: nobody");
    assertEquals(
      await store.submitterAlive("../elsewhere.lock"),
      false,
      "only submit locks in repl_outputs/",
    );
    const held = await store.holdSubmitLock(7);
    assertEquals(held.rel, "repl_outputs/.007.submit.lock");
    assertEquals(await store.submitterAlive(held.rel), true);
    assertEquals(await store.submitterAlive(held.rel), true, "asking does not take it");
    await held.release();
    assertEquals(await store.submitterAlive(held.rel), false);
    assertEquals(await Deno.lstat(join(dir, held.rel)).then(() => true, () => false), false, "removed");
    // Another process holds it, then dies by kill -9: the kernel drops the lock at once.
    const holder = await lockHolder(join(dir, "repl_outputs/.008.submit.lock"), 30_000);
    try {
      assertEquals(await store.submitterAlive("repl_outputs/.008.submit.lock"), true);
    } finally {
      holder.child.kill("SIGKILL");
      await holder.finished();
    }
    assertEquals(await store.submitterAlive("repl_outputs/.008.submit.lock"), false);
    await store.removeSubmitLock("repl_outputs/.008.submit.lock");
    assertEquals([...Deno.readDirSync(join(dir, "repl_outputs"))].map((e) => e.name), []);
  });
});
