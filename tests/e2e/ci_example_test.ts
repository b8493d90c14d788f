// examples/github-actions.yml, run here as GitHub Actions would run its `run:` steps: the install step against
// a local fake release (the asset, SHA256SUMS), then the dbxr steps with OAuth M2M against the emulator, in a
// checkout holding a small job. A passing job passes the gate, a failing one fails it with RunFailed in
// run.json; a download that does not match SHA256SUMS stops at the install step.

import { assetName } from "../../scripts/release/compile.ts";
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { denoDir, ROOT_DIR } from "../../scripts/flags.ts";
import { LAUNCHERS, shLauncher } from "../../scripts/launchers.ts";
import { served } from "../helpers/served.ts";

const EXAMPLE = `${ROOT_DIR}examples/github-actions.yml`;
const ASSET = "dbxr-x86_64-unknown-linux-gnu";

export interface Step {
  name?: string;
  uses?: string;
  if?: string;
  run?: string;
}

/** The steps of the workflow's one job: enough YAML for this file (keys, `- ` items, `|` blocks). */
export function workflowSteps(yaml: string): Step[] {
  const lines = yaml.split("\n");
  const start = lines.findIndex((l) => /^\s*steps:\s*$/.test(l));
  if (start < 0) throw new Error("no steps:");
  const indent = (l: string) => l.length - l.trimStart().length;
  const steps: Step[] = [];
  let keyIndent = -1;
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === "" || line.trimStart().startsWith("#")) continue;
    if (indent(line) <= indent(lines[start])) break;
    const item = line.match(/^(\s*)- (.*)$/);
    let body = line;
    if (item && (keyIndent < 0 || item[1].length === keyIndent - 2)) {
      steps.push({});
      keyIndent = item[1].length + 2;
      body = " ".repeat(keyIndent) + item[2];
    }
    const kv = body.match(/^(\s*)([\w-]+):\s*(.*)$/);
    if (!kv || kv[1].length !== keyIndent) continue; // deeper: a `with:` map or the like
    const [, , key, value] = kv;
    let text = value.replace(/\s+#.*$/, "");
    if (value === "|") {
      const block: string[] = [];
      while (i + 1 < lines.length && (lines[i + 1].trim() === "" || indent(lines[i + 1]) > keyIndent)) {
        block.push(lines[++i]);
      }
      const cut = Math.min(...block.filter((l) => l.trim()).map(indent));
      text = block.map((l) => l.slice(cut)).join("\n").trimEnd() + "\n";
    }
    if (key === "name" || key === "uses" || key === "if" || key === "run") steps.at(-1)![key] = text;
  }
  return steps;
}

/** Each `dbxr ...` command line of the scripts: its subcommand path and the long flags it passes. */
function dbxrCalls(script: string): { path: string[]; flags: string[] }[] {
  const joined = script.replace(/\\\n\s*/g, " ");
  return joined.split("\n").map((l) => l.trim()).filter((l) => l.startsWith("dbxr ")).map((l) => {
    const words = l.split(/\s+/).slice(1);
    const end = words.indexOf("--");
    const own = end < 0 ? words : words.slice(0, end);
    const path: string[] = [];
    for (const w of own) {
      if (w.startsWith("-") || /[./"$|]/.test(w)) break;
      path.push(w);
    }
    return { path, flags: own.filter((w) => w.startsWith("--")) };
  });
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

interface StepResult {
  name: string;
  code: number | "skipped";
  output: string;
}

/** Runs the `run:` steps in order with GitHub's semantics: after a failure only `if: always()` steps run. */
async function runWorkflow(
  steps: Step[],
  env: Record<string, string>,
  cwd: string,
): Promise<StepResult[]> {
  const results: StepResult[] = [];
  let failed = false;
  for (const step of steps) {
    if (!step.run) continue;
    const name = step.name ?? step.run;
    if (failed && !step.if?.includes("always()")) {
      results.push({ name, code: "skipped", output: "" });
      continue;
    }
    // GITHUB_PATH: what earlier steps added goes in front of PATH for the later ones.
    const added = (await Deno.readTextFile(env.GITHUB_PATH)).split("\n").filter(Boolean).reverse();
    const out = await new Deno.Command("bash", {
      args: ["--noprofile", "--norc", "-eo", "pipefail", "-c", step.run],
      cwd,
      env: { ...env, PATH: [...added, env.PATH].join(":") },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    results.push({ name, code: out.code, output: dec.decode(out.stdout) + dec.decode(out.stderr) });
    if (out.code !== 0) failed = true;
  }
  return results;
}

/** A fake release: the asset (dbxr from source as a launcher script) and SHA256SUMS, optionally wrong. */
async function fakeRelease(corrupt: boolean) {
  const asset = new TextEncoder().encode(
    shLauncher(LAUNCHERS.find((l) => l.name === "dbxr")!, ROOT_DIR, Deno.execPath()),
  );
  const sum = corrupt ? "0".repeat(64) : await sha256(asset);
  const sums = `${"1".repeat(64)}  dbxr-emulator-x86_64-unknown-linux-gnu\n${sum}  ${ASSET}\n`;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const file = new URL(req.url).pathname.split("/").at(-1);
    if (file === ASSET) return new Response(asset);
    if (file === "SHA256SUMS") return new Response(sums);
    return new Response("Not Found", { status: 404 });
  });
  return { url: `http://127.0.0.1:${server.addr.port}/download`, server };
}

async function scenario(opts: { score: number; corrupt?: boolean }) {
  const yaml = await Deno.readTextFile(EXAMPLE);
  const base = await Deno.makeTempDir({ prefix: "dbxr-ci-" });
  const release = await fakeRelease(opts.corrupt ?? false);
  await using emu = await served({ seed: 1 });
  try {
    const checkout = `${base}/checkout`;
    await Deno.mkdir(`${checkout}/jobs`, { recursive: true });
    await Deno.mkdir(`${base}/home`);
    await Deno.mkdir(`${base}/runner-temp`);
    await Deno.writeTextFile(`${checkout}/jobs/quality.py`, `def score():\n    return ${opts.score}\n`);
    await Deno.writeTextFile(
      `${checkout}/jobs/train.py`,
      "import sys\nfrom quality import score\n\ns = score()\nprint('score', s, sys.argv[1:])\n" +
        "if s < 0.9:\n    raise SystemExit(f'score {s} is below 0.9')\n",
    );
    await Deno.writeTextFile(`${base}/github_path`, "");
    await Deno.writeTextFile(`${base}/summary.md`, "");
    // No dbxr on PATH until the install step puts it there.
    const path = (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":").filter((dir) => {
      try {
        Deno.statSync(`${dir}/dbxr`);
        return false;
      } catch {
        return true;
      }
    }).join(":");
    const env = {
      PATH: path,
      HOME: `${base}/home`,
      RUNNER_TEMP: `${base}/runner-temp`,
      GITHUB_PATH: `${base}/github_path`,
      GITHUB_STEP_SUMMARY: `${base}/summary.md`,
      GITHUB_REPOSITORY: "acme/models",
      GITHUB_SHA: "0123456789abcdef",
      DBXR_RELEASES: release.url,
      DATABRICKS_HOST: emu.host,
      DATABRICKS_CLIENT_ID: emu.emulator.clientId,
      DATABRICKS_CLIENT_SECRET: emu.emulator.clientSecret,
      DENO_DIR: denoDir(), // the "binary" here is dbxr from source
      NO_COLOR: "1",
      TZ: "UTC",
    };
    const results = await runWorkflow(workflowSteps(yaml), env, checkout);
    const file = async (p: string) => {
      try {
        return await Deno.readTextFile(p);
      } catch {
        return undefined;
      }
    };
    return {
      results,
      codes: Object.fromEntries(results.map((r) => [r.name, r.code])),
      report: await file(`${checkout}/run.json`).then((t) => t === undefined ? undefined : JSON.parse(t)),
      summary: await file(`${base}/summary.md`),
      log: results.map((r) => `--- ${r.name} (${r.code})\n${r.output}`).join("\n"),
    };
  } finally {
    await release.server.shutdown();
    await Deno.remove(base, { recursive: true });
  }
}

const GATE = "Run it on Databricks";

Deno.test("CI example: its steps and the flags of every dbxr command it runs", async () => {
  const steps = workflowSteps(await Deno.readTextFile(EXAMPLE));
  assertEquals(steps.map((s) => s.name ?? s.uses), [
    "actions/checkout@v4",
    "Install dbxr",
    "Show the workspace and the auth method (oauth-m2m), never the secret",
    "Check the job script (static, in a second, no cluster)",
    GATE,
    "Summary",
    "Keep the report and the task logs",
  ]);
  // The asset it downloads is the one the release builds.
  assertEquals(assetName("dbxr", "x86_64-unknown-linux-gnu"), ASSET);
  const install = steps.find((s) => s.name === "Install dbxr")!.run!;
  assert(install.includes(`$DBXR_RELEASES/${ASSET}`) && install.includes("sha256sum --check"), install);
  // Workflow expressions stay out of the scripts (script injection): values come in through env.
  for (const s of steps) assert(!s.run?.includes("${{"), s.name);

  const calls = steps.flatMap((s) => s.run ? dbxrCalls(s.run) : []);
  assertEquals(calls.map((c) => c.path.join(" ")), ["auth describe", "job check", "job run"]);
  for (const { path, flags } of calls) {
    const help = await new Deno.Command(`${ROOT_DIR}.tools/bin/dbxr`, {
      args: [...path, "--help"],
      env: { DENO_DIR: denoDir() },
      stdout: "piped",
      stderr: "piped",
    }).output().catch(() => undefined);
    // Without setup's launcher (a bare `deno task test`), the gate scenarios below still run the commands.
    if (!help) continue;
    const text = new TextDecoder().decode(help.stdout);
    assertEquals(help.code, 0, text);
    for (const f of flags) assert(new RegExp(`${f}\\b`).test(text), `dbxr ${path.join(" ")} has no ${f}`);
  }
});

Deno.test("CI example: a passing job passes the gate, with SUCCESS in run.json and the summary", async () => {
  const r = await scenario({ score: 0.93 });
  for (const [name, code] of Object.entries(r.codes)) assertEquals(code, 0, `${name}\n${r.log}`);
  assertEquals(r.report?.status, "SUCCESS", r.log);
  assert(r.summary?.startsWith(`dbxr job run: SUCCESS, run ${r.report.run_id} http://127.0.0.1:`), r.summary);
  const describe = r.results.find((s) => s.name.startsWith("Show the workspace"))!.output;
  assertEquals(JSON.parse(describe.slice(0, describe.lastIndexOf("}") + 1)).auth_type, "oauth-m2m");
});

Deno.test("CI example: a failing job fails the gate with exit 1 and RunFailed, and the summary says so", async () => {
  const r = await scenario({ score: 0.5 });
  assertEquals(r.codes[GATE], 1, r.log);
  assertEquals(r.codes["Summary"], 0, r.log);
  assertEquals(r.report?.status, "RunFailed", r.log);
  assert(String(r.report?.message).includes("score 0.5 is below 0.9"), JSON.stringify(r.report));
  assert(r.summary?.startsWith("dbxr job run: RunFailed"), r.summary);
});

Deno.test("CI example: a download that does not match SHA256SUMS stops at the install step", async () => {
  const r = await scenario({ score: 0.93, corrupt: true });
  assertEquals(r.codes["Install dbxr"], 1, r.log);
  assertEquals(r.codes[GATE], "skipped");
  assert(r.log.includes("FAILED"), r.log);
});
