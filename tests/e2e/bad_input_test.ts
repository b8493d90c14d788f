// Bad local input to the REPL commands: a usage or file error with exit 2 (never "internal error"), and the
// session's files untouched.

import { assert, assertEquals, assertStringIncludes } from "../helpers/assert.ts";
import { replSession, served } from "../helpers/served.ts";

Deno.test("bad --command values: a directory, a bare @, an empty stdin are usage errors (exit 2), no step", async () => {
  await using s = await served();
  const t = await replSession(s, "bad");
  const before = await Deno.readTextFile(`${t.dir}/session.json`);
  const cases: Array<[string[], { stdin?: string }, string]> = [
    [["--command", "@/etc"], {}, "is a directory"],
    [["--command", "@"], {}, "needs a file name"],
    [["--command", "-"], { stdin: "" }, "read nothing from stdin"],
    [["--command", "-"], { stdin: "  \n\n" }, "read nothing from stdin"],
  ];
  for (const [args, opts, text] of cases) {
    const r = await t.run(["exec", ...args, "--tag", "x"], opts);
    assertEquals(r.code, 2, `${args.join(" ")}: ${r.stdout}`);
    assertEquals(r.json().error, "InvalidArgument");
    assertStringIncludes(r.json().message as string, text);
    assert(!(r.json().message as string).includes("internal error"));
  }
  assertEquals(await Deno.readTextFile(`${t.dir}/session.json`), before, "session.json changed");
  const files = [...Deno.readDirSync(`${t.dir}/repl_outputs`)].map((e) => e.name);
  assertEquals(files, [], "a refused exec left files");
});

Deno.test("bad project folders: a file as --project-dir, repl_outputs as a file: exit 2 naming the path", async () => {
  await using s = await served();
  const file = `${s.home}/not-a-dir`;
  await Deno.writeTextFile(file, "x");
  const r = await s.dbxr(["status", "--project-dir", file]);
  assertEquals(r.code, 2, r.stdout);
  assertEquals(r.json().error, "InvalidArgument");
  assertStringIncludes(r.json().message as string, "not a directory");

  const t = await replSession(s, "bad");
  await Deno.remove(`${t.dir}/repl_outputs`, { recursive: true });
  await Deno.writeTextFile(`${t.dir}/repl_outputs`, "oops");
  const e = await t.run(["exec", "--command", "print(1)", "--tag", "x"]);
  assertEquals(e.code, 2, e.stdout);
  assertEquals(e.json().error, "InvalidArgument");
  assertStringIncludes(e.json().message as string, "repl_outputs");
  assertEquals(await Deno.readTextFile(`${t.dir}/repl_outputs`), "oops");
  const after = JSON.parse(await Deno.readTextFile(`${t.dir}/session.json`));
  assertEquals(after.active_command ?? null, null, "the refused exec left an active command");
  assertEquals(after.steps, []);
});

Deno.test("a project folder whose files cannot be written: a file error (exit 2), session.json kept", async () => {
  await using s = await served();
  const t = await replSession(s, "bad");
  const sessionFile = `${t.dir}/session.json`;
  const before = await Deno.readTextFile(sessionFile);
  // A directory where the lock file goes makes every update of session.json fail, for root too (file
  // modes do not stop root, so a read-only session.json cannot be simulated here).
  await Deno.remove(`${t.dir}/.session.lock`);
  await Deno.mkdir(`${t.dir}/.session.lock`);
  const r = await t.run(["exec", "--command", "print(1)", "--tag", "x"]);
  assertEquals(r.code, 2, r.stdout);
  assertEquals(r.json().error, "InvalidArgument");
  assertStringIncludes(r.json().message as string, ".session.lock");
  assertEquals(await Deno.readTextFile(sessionFile), before);
});

Deno.test("session.json as a FIFO or a symlink is refused at once; a corrupt one is not quoted", async () => {
  await using s = await served();
  const fifoDir = await Deno.makeTempDir({ dir: s.home, prefix: "fifo-" });
  const mk = await new Deno.Command("mkfifo", { args: [`${fifoDir}/session.json`] }).output();
  assert(mk.success, "mkfifo");
  const fifo = await s.dbxr(["status", "--project-dir", fifoDir]);
  assertEquals(fifo.code, 2, fifo.stdout);
  assertStringIncludes(fifo.json().message as string, "a FIFO");

  const linkDir = await Deno.makeTempDir({ dir: s.home, prefix: "link-" });
  const secret = `${s.home}/secret.txt`;
  await Deno.writeTextFile(secret, "TOP-SECRET-CONTENT: not json at all\n");
  await Deno.symlink(secret, `${linkDir}/session.json`);
  const link = await s.dbxr(["status", "--project-dir", linkDir]);
  assertEquals(link.code, 2, link.stdout);
  assertStringIncludes(link.json().message as string, "symbolic link");
  assert(!link.stdout.includes("TOP-SECRET") && !link.stderr.includes("TOP-SECRET"));

  const corruptDir = await Deno.makeTempDir({ dir: s.home, prefix: "corrupt-" });
  await Deno.writeTextFile(`${corruptDir}/session.json`, "TOP-SECRET-CONTENT: not json at all\n");
  const corrupt = await s.dbxr(["status", "--project-dir", corruptDir]);
  assertEquals(corrupt.code, 5, corrupt.stdout);
  assertEquals(corrupt.json().error, "SessionCorrupt");
  assert(!corrupt.stdout.includes("TOP-SECRET") && !corrupt.stderr.includes("TOP-SECRET"), corrupt.stdout);
});
