// deno-lint-ignore-file no-console
// The main job: start a fresh emulator, then drive dbxr against it as a user would, printing every
// command and what it answered. Run through ./scripts/demo.sh (sets itself up) or `deno task demo`.
// dbxr runs under exactly the release permission flags (scripts/permission_flags.txt).

import { denoDir, permissionFlags as flags, ROOT_DIR as ROOT } from "./flags.ts";

const bold = (s: string) => Deno.stdout.isTerminal() ? `\x1b[1m${s}\x1b[0m` : s;
const dim = (s: string) => Deno.stdout.isTerminal() ? `\x1b[2m${s}\x1b[0m` : s;

async function startEmulator() {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      ...flags("emulator_permission_flags.txt"),
      `${ROOT}src/emulator/main.ts`,
      "--time-scale",
      "20",
    ],
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
console.log(bold(`emulator: ${info.host}`) + dim(`  (time scale 20: a 20 s cluster start takes 1 s)`));
console.log(dim(`project folder: ${project}\n`));

const env = {
  PATH: Deno.env.get("PATH") ?? "",
  HOME: home,
  DATABRICKS_HOST: info.host,
  DATABRICKS_TOKEN: info.token,
  // dbxr gets a temp HOME, so hand it this process's Deno cache instead of an empty one.
  DENO_DIR: Deno.env.get("DENO_DIR") ?? denoDir(),
};

async function dbxr(args: string[], show = true): Promise<{ code: number; out: string }> {
  if (show) {
    console.log(bold(`$ dbxr ${args.map((a) => /[\s"']/.test(a) ? JSON.stringify(a) : a).join(" ")}`));
  }
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      ...flags("permission_flags.txt"),
      `${ROOT}main.ts`,
      "--project-dir",
      project,
      ...args,
    ],
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
    await dbxr([
      "exec",
      "--tag",
      "load data",
      "--command",
      "rows = [{'city': c, 'temp': t} for c, t in [('Lisbon', 21), ('Oslo', 9), ('Cairo', 33)]]\n" +
      "print(f'{len(rows)} rows loaded')",
    ]),
    0,
    "exec load data",
  );
  expect(
    await dbxr([
      "exec",
      "--tag",
      "summarise",
      "--command",
      "print('warmest:', max(rows, key=lambda r: r['temp'])['city'])\nprint('coldest:', min(rows, key=lambda r: r['temp'])['city'])",
    ]),
    0,
    "exec summarise",
  );
  // A step that fails: what it printed before the exception is kept in .stdout, the traceback in .stderr.
  expect(
    await dbxr(["exec", "--tag", "bad step", "--command", "print('checking rows...')\nrows[10]['temp']"]),
    1,
    "exec bad step",
  );
  // A step that outlives its --timeout: it keeps running on the cluster; await picks it up.
  expect(
    await dbxr([
      "exec",
      "--tag",
      "slow step",
      "--timeout",
      "1",
      "--command",
      "import time\ntime.sleep(3)\nprint('slow step done')",
    ]),
    8,
    "exec slow step",
  );
  expect(await dbxr(["await", "--timeout", "60"]), 0, "await");
  // sub_llm() calls a serving endpoint from the cluster with the context's own token.
  expect(
    await dbxr([
      "exec",
      "--tag",
      "ask the llm",
      "--command",
      "print(sub_llm('echo: the warmest city is Cairo'))\nprint(sub_llm_batch([f\"upper: {r['city']}\" for r in rows]))",
    ]),
    0,
    "exec sub_llm",
  );
  await dbxr(["status"]);
  expect(await dbxr(["destroy"]), 0, "destroy");
  // 3. The same work as a one-time job: checked before it is submitted, explained when it fails.
  await Deno.writeTextFile(
    `${project}/report.py`,
    "import pathlib, sys\nhere = pathlib.Path(__file__).parent\nprint('report from', here.name, 'args', sys.argv[1:])\n",
  );
  expect(await dbxr(["job", "check", `${project}/report.py`]), 1, "job check");
  expect(
    await dbxr([
      "job",
      "run",
      `${project}/report.py`,
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
