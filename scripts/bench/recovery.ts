// deno-lint-ignore-file no-console
// Output recovery benchmark (issue 9 §1.5, §3): a command prints 20 MiB, a last line, then raises; dbxr
// fetches what it printed from the bootstrap's copy. Measured per kind of output: the follow-up commands
// (POST commands/execute beyond the step's own), the seconds of the whole `dbxr exec`, and the seconds of
// the same command without the error (nothing to recover), whose difference is the recovery.
// Usage: deno run -A scripts/bench/recovery.ts

import { serve } from "../../src/emulator/main.ts";
import { denoDir, permissionFlags, ROOT_DIR as ROOT } from "../flags.ts";

const KINDS: Record<string, { label: string; code: string }> = {
  repetitive: {
    label: "repeated lines",
    code: "import sys\nline = 'y' * 1023 + '\\n'\nfor i in range(20 * 1024):\n    sys.stdout.write(line)\n",
  },
  logs: {
    label: "training-log lines with random figures",
    code: "import sys, random\nr = random.Random(1)\nn = 0\nwhile n < 20 * 1024 * 1024:\n" +
      "    s = '%08d epoch=%d loss=%.6f lr=%.3e grad=%.4f tok/s=%d\\n' % " +
      "(n, n // 100000, r.random(), r.random() / 1000, r.random() * 10, r.randrange(10000, 90000))\n" +
      "    sys.stdout.write(s)\n    n += len(s)\n",
  },
  random: {
    label: "random base64 (does not compress)",
    code: "import sys, os, base64\nfor i in range(20 * 1024 // 48):\n" +
      "    sys.stdout.write(base64.b64encode(os.urandom(36 * 1024)).decode() + '\\n')\n",
  },
};

const server = serve({ port: 0, options: { seed: 1, timeScale: 100 } }, () => {});
const { host } = server;
const home = await Deno.makeTempDir();
const project = await Deno.makeTempDir();
const env = {
  HOME: home,
  DATABRICKS_HOST: host,
  DATABRICKS_TOKEN: server.emulator.token,
  PATH: Deno.env.get("PATH") ?? "",
  DENO_DIR: denoDir(),
};

async function dbxr(
  args: string[],
): Promise<{ code: number; json: Record<string, unknown>; seconds: number }> {
  const t = performance.now();
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...permissionFlags(), `${ROOT}main.ts`, "--project-dir", project, ...args],
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - t) / 1000;
  return { code: r.code, json: JSON.parse(new TextDecoder().decode(r.stdout)), seconds };
}

async function executes(): Promise<number> {
  const r = await fetch(`${host}/__emulator/requests/counts`);
  return (await r.json()).counts["POST /api/1.2/commands/execute"] ?? 0;
}

try {
  const list = await (await fetch(`${host}/api/2.1/clusters/list`, {
    headers: { authorization: `Bearer ${server.emulator.token}` },
  })).json();
  const cluster = list.clusters.find((c: { state: string }) => c.state === "RUNNING").cluster_id;
  const created = await dbxr(["create", "--cluster-id", cluster, "--session-name", "recovery"]);
  if (created.code !== 0) throw new Error(JSON.stringify(created.json));
  const rows: string[] = [];
  for (const [tag, k] of Object.entries(KINDS)) {
    const plain = await dbxr(["exec", "--tag", `${tag}_ok`, "--command", k.code + "print('LAST LINE')"]);
    const before = await executes();
    const failed = await dbxr([
      "exec",
      "--tag",
      tag,
      "--timeout",
      "600",
      "--command",
      k.code + "print('LAST LINE BEFORE ERROR')\nraise ValueError('boom')",
    ]);
    const trips = (await executes()) - before - 1;
    const j = failed.json;
    rows.push(
      `| ${k.label} | ${trips} | ${failed.seconds.toFixed(1)} | ${plain.seconds.toFixed(1)} | ${
        (failed.seconds - plain.seconds).toFixed(1)
      } | ${((j.stdout_bytes as number) / 1048576).toFixed(1)} MiB | ${j.truncated} |`,
    );
  }
  await dbxr(["destroy"]);
  console.log(`## Output recovery after an error (${new Date().toISOString().slice(0, 10)})\n`);
  console.log(
    "A step prints 20 MiB, `LAST LINE BEFORE ERROR`, then raises. `deno run` with the release flags.\n",
  );
  console.log(
    "| output | follow-ups | exec s | same without the error s | recovery s | .stdout | truncated |",
  );
  console.log("|---|---|---|---|---|---|---|");
  for (const r of rows) console.log(r);
} finally {
  await server.shutdown();
  await Deno.remove(home, { recursive: true });
  await Deno.remove(project, { recursive: true });
}
