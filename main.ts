// dbxr entry point: builds the real context, runs the command tree, prints errors as JSON and exits.
// This is the only place that exits.

import { enableTimings, mark, timingLines } from "./src/trace.ts";
import { parseFast, runFast } from "./src/cli/fast.ts";
import { applyGlobalFlags } from "./src/cli/options.ts";
import { reportError } from "./src/cli/report.ts";
import { type CommandResult, type Ctx, sleepWithSignal } from "./src/ctx.ts";
import { Output } from "./src/output.ts";
import { writeFileAtomic } from "./src/session/atomic.ts";
import { dirname } from "./src/paths.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function writeAll(file: typeof Deno.stdout | typeof Deno.stderr, text: string) {
  const bytes = encoder.encode(text);
  let off = 0;
  try {
    while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
  } catch (e) {
    // The reader went away (`dbxr status | head -1`): nothing more can be shown; not an error of ours.
    if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
  }
}

function safeEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // outside the --allow-env scope: treated as unset
  }
}

function terminalColumns(): number | undefined {
  if (!Deno.stdout.isTerminal()) return undefined;
  try {
    return Deno.consoleSize().columns;
  } catch {
    return undefined; // a terminal that does not say its size: the 80-column default
  }
}

function realCtx(): { ctx: Ctx; interrupt: AbortController } {
  const interrupt = new AbortController();
  const out = new Output({
    stdout: (t) => writeAll(Deno.stdout, t),
    stderr: (t) => writeAll(Deno.stderr, t),
    stdoutIsTty: Deno.stdout.isTerminal(),
    stderrIsTty: Deno.stderr.isTerminal(),
    envFormat: safeEnv("DBXR_OUTPUT"),
    columns: terminalColumns(),
    noColor: safeEnv("NO_COLOR"),
  });
  const ctx: Ctx = {
    env: safeEnv,
    fetch: (req) => fetch(req),
    now: () => Date.now(),
    sleep: sleepWithSignal,
    async readTextFile(path) {
      try {
        return await Deno.readTextFile(path);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return undefined;
        throw e;
      }
    },
    async writeTextFile(path, text, opts) {
      await Deno.mkdir(dirname(path), { recursive: true });
      await writeFileAtomic(path, text, opts);
    },
    async readStdin() {
      return await new Response(Deno.stdin.readable).text();
    },
    async run(cmd, args): Promise<CommandResult> {
      const r = await new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "piped" })
        .output();
      return { code: r.code, stdout: decoder.decode(r.stdout), stderr: decoder.decode(r.stderr) };
    },
    signal: interrupt.signal,
    random: Math.random,
    stdoutIsTty: Deno.stdout.isTerminal(),
    stderrIsTty: Deno.stderr.isTerminal(),
    out,
  };
  return { ctx, interrupt };
}

if (import.meta.main) {
  const timings = safeEnv("DBXR_TRACE_TIMINGS") === "1";
  if (timings) enableTimings();
  mark("main");
  const { ctx, interrupt } = realCtx();
  // Ctrl-C and SIGTERM abort the running command through ctx.signal; the command decides what
  // "interrupted" means (cancel the remote command, cancel the job run) and main still prints its result.
  // A second Ctrl-C exits at once.
  let interrupted = 0;
  const onSignal = (sig: "SIGINT" | "SIGTERM") => () => {
    interrupted++;
    if (interrupted > 1) Deno.exit(130);
    interrupt.abort(new DOMException(`interrupted by ${sig}`, "AbortError"));
  };
  const signals: Array<"SIGINT" | "SIGTERM"> = Deno.build.os === "windows"
    ? ["SIGINT"]
    : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal(s));
  let code: number;
  const fast = parseFast(Deno.args);
  if (fast) {
    // The seed's commands and `cluster list`, read without commander (src/cli/fast.ts): an agent's every step.
    mark("program:built");
    applyGlobalFlags(ctx, fast.globals);
    try {
      await runFast(ctx, fast);
    } catch (e) {
      reportError(ctx, e);
    }
    code = ctx.out.exitCode;
  } else {
    const { buildProgram } = await import("./src/cli/tree.ts");
    const { runProgram } = await import("./src/cli/root.ts");
    const program = await buildProgram(ctx, Deno.args);
    mark("program:built");
    code = await runProgram(program, ctx, Deno.args);
  }
  mark("exit");
  if (timings) writeAll(Deno.stderr, timingLines());
  Deno.exit(code);
}
