// `dbxr completion bash|zsh|fish` from the real CLI: each script parses in its shell, and completes. A shell
// that is not installed is skipped with a note (CI machines may lack zsh and fish).

import { join } from "node:path";
import { assertEquals } from "../helpers/assert.ts";
import { runCli } from "../helpers/cli.ts";

/** The note a skipped test carries in its name, so the test report says why it did not run. */
const skipNote = (shell: string) => installed(shell) ? "" : ` (skipped: ${shell} is not installed here)`;

function installed(shell: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${shell}`], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

async function sh(shell: string, args: string[], cwd?: string) {
  const out = await new Deno.Command(shell, {
    args,
    cwd,
    env: { HOME: cwd ?? "/tmp", PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

const SYNTAX: Record<string, string[]> = { bash: ["-n"], zsh: ["-n"], fish: ["--no-execute"] };

const scripts = new Map<string, Promise<string>>();
function script(shell: string): Promise<string> {
  if (!scripts.has(shell)) {
    scripts.set(
      shell,
      runCli(["completion", shell]).then((r) => {
        assertEquals(r.code, 0, r.stdout + r.stderr);
        return r.stdout;
      }),
    );
  }
  return scripts.get(shell)!;
}

async function withScripts(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "dbxr-completion-" });
  try {
    for (const shell of ["bash", "zsh", "fish"]) {
      await Deno.writeTextFile(join(dir, `dbxr.${shell}`), await script(shell));
    }
    await Deno.mkdir(join(dir, "work/src"), { recursive: true });
    await Deno.writeTextFile(join(dir, "work/train.py"), "print(1)\n");
    await Deno.writeTextFile(join(dir, "work/my notes.py"), "\n");
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

for (const shell of ["bash", "zsh", "fish"]) {
  Deno.test({
    name: `completion ${shell}: the script parses (${shell} ${SYNTAX[shell].join(" ")})${skipNote(shell)}`,
    ignore: !installed(shell),
    fn: () =>
      withScripts(async (dir) => {
        const r = await sh(shell, [...SYNTAX[shell], join(dir, `dbxr.${shell}`)]);
        assertEquals(r.code, 0, r.stderr);
      }),
  });
}

// COMP_WORDS/COMP_CWORD as bash sets them for `dbxr <words><TAB>`; prints COMPREPLY.
const BASH_DRIVER = `source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=()
_dbxr; printf '%s\\n' "\${COMPREPLY[@]}"`;

Deno.test({
  name: `completion bash: completes commands, subcommands, options and their values${skipNote("bash")}`,
  ignore: !installed("bash"),
  fn: () =>
    withScripts(async (dir) => {
      const complete = async (...words: string[]) => {
        const r = await sh(
          "bash",
          ["-c", BASH_DRIVER, "driver", join(dir, "dbxr.bash"), "dbxr", ...words],
          join(dir, "work"),
        );
        assertEquals(r.code, 0, r.stderr);
        return r.stdout.split("\n").filter(Boolean);
      };
      assertEquals(await complete("jo"), ["job"]);
      assertEquals(await complete("job", "r"), ["run"]);
      assertEquals(await complete("--profile", "dev", "job", "ch"), ["check"]);
      assertEquals(await complete("create", "--language", ""), ["python", "sql", "scala"]);
      assertEquals(await complete("completion", ""), ["bash", "zsh", "fish"]);
      assertEquals(await complete("exec", "--t"), ["--tag", "--timeout", "--text"]);
      assertEquals(await complete("job", "run", "--include", ""), ["src"]);
      assertEquals(await complete("job", "check", "tr"), ["train.py"]);
      assertEquals(await complete("cluster", "get", ""), []);
      assertEquals(await complete("job", "check", "my"), ["my notes.py"]);
    }),
});

// zsh's completion widgets only run inside the line editor; stand-ins for _describe/compadd/_files print
// what would be offered, so the script's own logic runs as it does under compinit.
const ZSH_DRIVER = `compdef() { :; }
_describe() { local arr=\${@[-1]}; print -rl -- \${(P)arr}; }
compadd() { [[ $1 == -- ]] && shift; print -rl -- "$@"; }
_files() { print -r -- "(files $*)"; }
source "$1"; shift
words=("$@"); CURRENT=$#words
_dbxr`;

Deno.test({
  name: `completion zsh: completes commands with descriptions, options and values${skipNote("zsh")}`,
  ignore: !installed("zsh"),
  fn: () =>
    withScripts(async (dir) => {
      const complete = async (...words: string[]) => {
        const r = await sh("zsh", [
          "-f",
          "-c",
          ZSH_DRIVER,
          "driver",
          join(dir, "dbxr.zsh"),
          "dbxr",
          ...words,
        ]);
        assertEquals(r.code, 0, r.stderr);
        return r.stdout.split("\n").filter(Boolean);
      };
      const top = await complete("");
      assertEquals(top.filter((l) => l.startsWith("job:")).length, 1, top.join("\n"));
      assertEquals((await complete("job", "")).map((l) => l.split(":")[0]).slice(0, 2), ["check", "run"]);
      assertEquals(await complete("create", "--language", ""), ["python", "sql", "scala"]);
      assertEquals(await complete("job", "run", "--include", ""), ["(files -/)"]);
      assertEquals(await complete("job", "check", ""), ["(files )"]);
    }),
});

Deno.test({
  name: `completion fish: complete -C offers commands, options and values${skipNote("fish")}`,
  ignore: !installed("fish"),
  fn: () =>
    withScripts(async (dir) => {
      const complete = async (line: string) => {
        const r = await sh(
          "fish",
          ["-c", `source ${join(dir, "dbxr.fish")}; complete -C '${line}'`],
          join(dir, "work"),
        );
        assertEquals(r.code, 0, r.stderr);
        return r.stdout.split("\n").filter(Boolean).map((l) => l.split("\t")[0]);
      };
      assertEquals(await complete("dbxr jo"), ["job"]);
      assertEquals(await complete("dbxr --profile dev job ru"), ["run"]);
      assertEquals(await complete("dbxr job run --inc"), ["--include"]);
      assertEquals((await complete("dbxr create --language ")).sort(), ["python", "scala", "sql"]);
      assertEquals(await complete("dbxr job check tr"), ["train.py"]);
    }),
});
