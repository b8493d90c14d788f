// deno-lint-ignore-file no-console
// The main job: start a fresh emulator, then drive dbxr against it as a user would, printing every
// command and what it answered. Run through ./scripts/demo.sh (sets itself up) or `deno task demo`.
// Every command is printed as it can be pasted into bash (after the printed `export` and `cd`): values
// quoted with the shellQuote of src/shell.ts, multi-line code in a file (`cat > f.py <<'PY'`, `@f.py`).
// dbxr runs through the launchers of scripts/setup.sh when they are there, else the same way by hand:
// exactly the release permission flags (scripts/permission_flags.txt), the repository's deno.json.

import { denoDir, permissionFlags as flags, ROOT_DIR as ROOT } from "./flags.ts";
import { shellQuote } from "../src/shell.ts";

const bold = (s: string) => Deno.stdout.isTerminal() ? `\x1b[1m${s}\x1b[0m` : s;
const dim = (s: string) => Deno.stdout.isTerminal() ? `\x1b[2m${s}\x1b[0m` : s;

/** The program and leading arguments that run `name` from source, as .tools/bin/<name> does. */
function command(name: "dbxr" | "dbxr-emulator"): string[] {
  const launcher = `${ROOT}.tools/bin/${name}`;
  try {
    if (Deno.statSync(launcher).isFile) return [launcher];
  } catch { /* not set up: run it the same way by hand */ }
  const [file, entry] = name === "dbxr"
    ? ["permission_flags.txt", "main.ts"] as const
    : ["emulator_permission_flags.txt", "src/emulator/main.ts"] as const;
  return [
    Deno.execPath(),
    "run",
    "--quiet",
    "--no-prompt",
    "--config",
    `${ROOT}deno.json`,
    ...flags(file),
    `${ROOT}${entry}`,
  ];
}

/** A command line as bash reads it. */
const shellLine = (words: string[]) => words.map(shellQuote).join(" ");

async function startEmulator() {
  const [program, ...pre] = command("dbxr-emulator");
  const child = new Deno.Command(program, {
    args: [...pre, "--time-scale", "20"],
    env: { DENO_DIR: Deno.env.get("DENO_DIR") ?? denoDir() },
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  while (!buf.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the emulator exited before printing its address");
    buf += value;
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  const info = JSON.parse(buf.split("\n")[0]) as { host: string; token: string };
  return { child, info };
}

const home = await Deno.makeTempDir({ prefix: "dbxr-demo-home-" });
const project = await Deno.makeTempDir({ prefix: "dbxr-demo-project-" });
const { child: emulator, info } = await startEmulator();
console.log(dim(`# the emulator runs (dbxr-emulator --time-scale 20: a 20 s cluster start takes 1 s)`));
console.log(
  bold(`$ ${shellLine(["export", `DATABRICKS_HOST=${info.host}`, `DATABRICKS_TOKEN=${info.token}`])}`),
);
console.log(bold(`$ cd ${shellQuote(project)}`) + dim("   # the project folder\n"));

const env = {
  PATH: Deno.env.get("PATH") ?? "",
  HOME: home,
  DATABRICKS_HOST: info.host,
  DATABRICKS_TOKEN: info.token,
  // dbxr gets a temp HOME, so hand it this process's Deno cache instead of an empty one.
  DENO_DIR: Deno.env.get("DENO_DIR") ?? denoDir(),
};

async function dbxr(args: string[], show = true): Promise<{ code: number; out: string }> {
  if (show) console.log(bold(`$ ${shellLine(["dbxr", ...args])}`));
  const [program, ...pre] = command("dbxr");
  const r = await new Deno.Command(program, {
    args: [...pre, ...args],
    cwd: project,
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const out = new TextDecoder().decode(r.stdout);
  const err = new TextDecoder().decode(r.stderr);
  if (show) {
    console.log(out.trimEnd());
    if (err.trim()) console.log(dim(err.trimEnd()));
    console.log(dim(`(exit ${r.code})\n`));
  }
  return { code: r.code, out };
}

/** Writes `text` into the project folder and shows it as the heredoc that writes the same file. */
async function writeFile(name: string, text: string) {
  console.log(bold(`$ cat > ${shellQuote(name)} <<'PY'`));
  console.log(text.trimEnd() + "\n" + bold("PY"));
  await Deno.writeTextFile(`${project}/${name}`, text.endsWith("\n") ? text : `${text}\n`);
}

/** `exec` with code: one line inline, more lines through a file (`--command @file.py`). */
async function exec(tag: string, code: string, extra: string[] = []) {
  if (!code.includes("\n")) return await dbxr(["exec", "--tag", tag, "--command", code, ...extra]);
  const file = `${tag.replace(/[^\w-]/g, "_")}.py`;
  await writeFile(file, code);
  return await dbxr(["exec", "--tag", tag, "--command", `@${file}`, ...extra]);
}

let failed = false;
const expect = (r: { code: number }, code: number, what: string) => {
  if (r.code !== code) {
    failed = true;
    console.log(bold(`demo: expected exit ${code} from ${what}, got ${r.code}`));
  }
};
try {
  // 1. Auth and clusters.
  await dbxr(["auth", "describe"]);
  await dbxr(["cluster", "list", "--text"]);
  const all = JSON.parse((await dbxr(["cluster", "find", "--json"], false)).out) as Array<
    { cluster_id: string; cluster_name: string; state: string }
  >;
  const stopped = all.find((c) => c.state === "TERMINATED");
  if (stopped) {
    await dbxr(["find-cluster", "--name", stopped.cluster_name]);
    expect(
      await dbxr(["cluster", "start", stopped.cluster_id, "--wait", "--timeout", "120"]),
      0,
      "cluster start",
    );
  }

  // 2. A REPL session, as the seed's workflow runs it.
  const found = JSON.parse((await dbxr(["find-cluster", "--name", "analytics"])).out) as {
    cluster_id: string;
  };
  expect(await dbxr(["create", "--cluster-id", found.cluster_id, "--session-name", "demo"]), 0, "create");
  expect(
    await exec(
      "load data",
      "rows = [{'city': c, 'temp': t} for c, t in [('Lisbon', 21), ('Oslo', 9), ('Cairo', 33)]]\n" +
        "print(f'{len(rows)} rows loaded')",
    ),
    0,
    "exec load data",
  );
  expect(
    await exec("summarise", "print('warmest:', max(rows, key=lambda r: r['temp'])['city'])"),
    0,
    "exec summarise",
  );
  // A step that fails: what it printed before the exception is kept in .stdout, the traceback in .stderr.
  expect(await exec("bad step", "print('checking rows...')\nrows[10]['temp']"), 1, "exec bad step");
  // A step that outlives its --timeout: it keeps running on the cluster; await picks it up.
  expect(
    await exec("slow step", "import time\ntime.sleep(3)\nprint('slow step done')", ["--timeout", "1"]),
    8,
    "exec slow step",
  );
  expect(await dbxr(["await", "--timeout", "60"]), 0, "await");
  // sub_llm() calls a serving endpoint from the cluster with the context's own token.
  expect(
    await exec(
      "ask the llm",
      "print(sub_llm('echo: the warmest city is Cairo'))\n" +
        "print(sub_llm_batch([f\"upper: {r['city']}\" for r in rows]))",
    ),
    0,
    "exec sub_llm",
  );
  await dbxr(["status"]);
  expect(await dbxr(["destroy"]), 0, "destroy");
  // 3. The same work as a one-time job: checked before it is submitted, explained when it fails.
  await writeFile(
    "report.py",
    "import pathlib, sys\nhere = pathlib.Path(__file__).parent\nprint('report from', here.name, 'args', sys.argv[1:])\n",
  );
  expect(await dbxr(["job", "check", "report.py"]), 1, "job check");
  expect(
    await dbxr([
      "job",
      "run",
      "report.py",
      "--cluster-id",
      found.cluster_id,
      "--wrap",
      "--",
      "--day",
      "mon",
    ]),
    0,
    "job run --wrap",
  );
  console.log(bold("$ ls repl_outputs/"));
  console.log([...Deno.readDirSync(`${project}/repl_outputs`)].map((e) => e.name).sort().join("\n") + "\n");
  console.log(bold("$ ls job_outputs/*/"));
  for (const run of Deno.readDirSync(`${project}/job_outputs`)) {
    for (const f of Deno.readDirSync(`${project}/job_outputs/${run.name}`)) {
      console.log(`job_outputs/${run.name}/${f.name}`);
    }
  }
} catch (e) {
  failed = true;
  console.error(e);
} finally {
  try {
    emulator.kill("SIGTERM");
  } catch { /* already gone */ }
  await emulator.status;
  await Deno.remove(home, { recursive: true });
}
console.log(
  bold(
    failed
      ? "demo: something failed (see above)"
      : `demo: done. The session's files are in ${project} (session.json, repl_outputs/)`,
  ),
);
if (failed) Deno.exit(1);
