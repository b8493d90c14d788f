// The command tree, loaded lazily: a run of one command imports only its own group's module (`dbxr exec`
// never loads the job runner, Unity Catalog or the skill files), which is part of `dbxr exec`'s start-up
// budget (BENCHMARKS.md). Help, completion, an unknown or missing command load every group, in this order.

import type { Command } from "@commander-js/extra-typings";
import type { Ctx } from "../ctx.ts";
import { assembleProgram } from "./root.ts";
import { flagNames, GLOBAL_OPTIONS } from "./options.ts";

type Loader = (ctx: Ctx) => Promise<Command[]>;

const one = (c: unknown) => [c as Command];

/**
 * The groups in help order, each with the top-level command names it defines (a unit test checks them
 * against the built tree, so that a new command cannot be missed here).
 */
export const GROUPS: ReadonlyArray<{ names: readonly string[]; load: Loader }> = [
  {
    names: ["find-cluster"],
    load: async (ctx) => one((await import("./cluster.ts")).findClusterCommand(ctx)),
  },
  {
    names: ["create", "exec", "await", "cancel", "destroy", "status"],
    load: async (ctx) => (await import("./repl.ts")).replCommands(ctx) as unknown as Command[],
  },
  { names: ["repl"], load: async (ctx) => one((await import("./repl_extra.ts")).replGroupCommand(ctx)) },
  { names: ["cluster"], load: async (ctx) => one((await import("./cluster.ts")).clusterCommands(ctx)) },
  { names: ["job"], load: async (ctx) => one((await import("./job.ts")).jobCommands(ctx)) },
  { names: ["workspace"], load: async (ctx) => one((await import("./workspace.ts")).workspaceCommands(ctx)) },
  { names: ["uc"], load: async (ctx) => one((await import("./uc.ts")).ucCommands(ctx)) },
  { names: ["llm"], load: async (ctx) => one((await import("./llm.ts")).llmCommands(ctx)) },
  { names: ["auth"], load: async (ctx) => one((await import("./auth.ts")).authCommands(ctx)) },
  {
    names: ["config"],
    load: async (ctx) => one((await import("./config.ts")).configCommands(ctx, Deno.build.os)),
  },
  { names: ["doctor"], load: async (ctx) => one((await import("./auth.ts")).doctorCommand(ctx)) },
  { names: ["skill"], load: async (ctx) => one((await import("./skill.ts")).skillCommands(ctx)) },
  { names: ["mcp"], load: async (ctx) => one((await import("./mcp.ts")).mcpCommand(ctx)) },
  // Generated from the whole tree: never loaded alone (see commandWord).
  {
    names: ["completion"],
    load: async (ctx) => one((await import("./completion.ts")).completionCommand(ctx)),
  },
];

const GLOBAL_NAMES = GLOBAL_OPTIONS.map(flagNames);
/** The global options that take a value, whose value is not a command word. */
const VALUE_OPTIONS = new Set(
  GLOBAL_NAMES.filter((n) => n.takesValue).flatMap((n) => [n.long, ...(n.short ? [n.short] : [])]),
);
const FLAG_OPTIONS = new Set(GLOBAL_NAMES.filter((n) => !n.takesValue).map((n) => n.long));

/**
 * The top-level command that argv runs, when it can be told without the tree: the first word after the
 * global options. Undefined for help, --version, completion, an unknown option before the command, or a
 * word that is no command (commander then answers with the whole tree: help, suggestions).
 */
export function commandWord(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (VALUE_OPTIONS.has(a)) {
      i++;
      continue;
    }
    if (FLAG_OPTIONS.has(a) || [...VALUE_OPTIONS].some((o) => o.startsWith("--") && a.startsWith(`${o}=`))) {
      continue;
    }
    if (a.startsWith("-")) return undefined;
    if (a === "completion") return undefined;
    return GROUPS.some((g) => g.names.includes(a)) ? a : undefined;
  }
  return undefined;
}

/** The whole program (help, docs, completion, tests), or for argv naming one command only its group. */
export async function buildProgram(ctx: Ctx, argv?: readonly string[]): Promise<Command> {
  const word = argv ? commandWord(argv) : undefined;
  if (argv && !word && argv.length > 0 && argv.every((a) => a === "-V" || a === "--version")) {
    return assembleProgram(ctx, []); // the version needs no command
  }
  const wanted = word ? GROUPS.filter((g) => g.names.includes(word)) : GROUPS;
  const groups = await Promise.all(wanted.map((g) => g.load(ctx)));
  return assembleProgram(ctx, groups.flat());
}
