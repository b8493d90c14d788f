// The start path of the seed's commands (the REPL's six, find-cluster) and `cluster list`: their usual command
// lines parsed without commander, whose Node built-ins cost ~30 ms of every `dbxr exec` (issue 9 §3,
// BENCHMARKS.md). It is deliberately partial:
// anything it is not sure to read exactly as commander does (help, --version, an unknown or short-bundled
// option, a positional word, "--", a missing or repeated-conflicting flag, a value that the option refuses)
// is declined, and main.ts then runs commander, which answers with its own messages. A unit test checks on
// a generated corpus that what it accepts, commander parses to the very same invocation.

import type { Ctx } from "../ctx.ts";
import {
  CLUSTER_COMMANDS,
  type ClusterInvocation,
  clusterInvocationFrom,
  runCluster,
} from "./cluster_commands.ts";
import { flagNames, GLOBAL_OPTIONS, type GlobalFlags, type OptionSpec } from "./options.ts";
import { invocationFrom, REPL_COMMANDS, type ReplInvocation, runRepl } from "./repl_commands.ts";

export type FastInvocation = ReplInvocation | ClusterInvocation;

export interface FastRun {
  invocation: FastInvocation;
  globals: GlobalFlags;
}

type Known = { spec: OptionSpec; global: boolean } & ReturnType<typeof flagNames>;

function table(specs: readonly OptionSpec[], global: boolean): Map<string, Known> {
  const t = new Map<string, Known>();
  for (const spec of specs) {
    const n = { spec, global, ...flagNames(spec) };
    t.set(n.long, n);
    if (n.short) t.set(n.short, n);
  }
  return t;
}

interface FastCommand {
  path: readonly string[];
  options: Map<string, Known>;
  invocation(values: Record<string, unknown>, given: (attr: string) => boolean): FastInvocation;
}

const GLOBALS = table(GLOBAL_OPTIONS, true);
const COMMANDS: FastCommand[] = [
  ...REPL_COMMANDS.map((c) => ({
    path: [c.name],
    options: table(c.options, false),
    invocation: (v: Record<string, unknown>, given: (attr: string) => boolean) =>
      invocationFrom(c.name, v, given),
  })),
  ...CLUSTER_COMMANDS.map((c) => ({
    path: c.path,
    options: table(c.options, false),
    invocation: (v: Record<string, unknown>) => clusterInvocationFrom(c.path, v),
  })),
];

/** The command that argv runs, parsed; undefined when commander must read it. */
export function parseFast(argv: readonly string[]): FastRun | undefined {
  let command: FastCommand | undefined;
  const words: string[] = [];
  let options = GLOBALS;
  const values: Record<string, unknown> = {};
  const globals: Record<string, unknown> = {};
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("-") || arg === "-") {
      if (command !== undefined) return undefined; // these commands take no arguments
      // A group word ("cluster") waits for the next; a word that is no command leaves `command` unset.
      words.push(arg);
      command = COMMANDS.find((c) =>
        c.path.length === words.length && c.path.every((w, i) => words[i] === w)
      );
      if (command) options = new Map([...GLOBALS, ...command.options]);
      continue;
    }
    if (arg === "--") return undefined;
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const o = options.get(name);
    if (!o) return undefined; // help, version, an unknown option, -pVALUE: commander's to answer
    let value: unknown;
    if (o.takesValue) {
      const raw = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (raw === undefined) return undefined;
      if (o.spec.choices && !o.spec.choices.includes(raw)) return undefined;
      try {
        value = o.spec.parse ? o.spec.parse(raw) : raw;
      } catch {
        return undefined;
      }
    } else {
      if (eq > 0) return undefined;
      value = !o.negate;
    }
    (o.global ? globals : values)[o.attr] = value;
    given.add(o.attr);
  }
  if (command === undefined) return undefined;
  for (const o of options.values()) {
    if (o.spec.conflicts && given.has(o.attr) && given.has(o.spec.conflicts)) return undefined;
    if (o.global || given.has(o.attr)) continue;
    if (o.spec.required) return undefined;
    if (o.spec.default !== undefined) values[o.attr] = o.spec.default;
  }
  return {
    invocation: command.invocation(values, (attr) => given.has(attr)),
    globals: globals as GlobalFlags,
  };
}

/** Runs what parseFast read, printing through ctx.out. */
export async function runFast(ctx: Ctx, run: FastRun): Promise<void> {
  const inv = run.invocation;
  if (inv.command === "find-cluster" || inv.command === "cluster list") {
    return await runCluster(ctx, inv, run.globals);
  }
  return await runRepl(ctx, inv, run.globals);
}
