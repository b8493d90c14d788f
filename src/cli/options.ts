// Options as data: what a flag is called, what it means, how its value is checked. The seed's REPL commands
// and the global flags are declared this way once; src/cli/parse.ts builds commander's options from them
// (help, completion, docs, every error message), and src/cli/fast.ts parses the common command lines of
// those commands without loading commander (issue 9 §3: `dbxr exec` start-up). Commander-free on purpose.

import type { Ctx } from "../ctx.ts";

export interface OptionSpec {
  /** Commander's syntax: "--timeout <seconds>", "-p, --profile <name>", "--force", "--no-replay". */
  flags: string;
  description: string;
  /** Checks and converts the value; throws ValueError (src/cli/values.ts). */
  parse?: (value: string) => unknown;
  default?: unknown;
  required?: boolean;
  choices?: readonly string[];
  /** The attribute of another option that may not be given with this one. */
  conflicts?: string;
}

/** The parts of a spec's flags, as commander reads them. */
export interface FlagNames {
  long: string;
  short?: string;
  /** The attribute that holds the value: --cluster-id → clusterId, --no-replay → replay. */
  attr: string;
  takesValue: boolean;
  /** --no-x: sets x to false. */
  negate: boolean;
}

export function flagNames(spec: OptionSpec): FlagNames {
  const m = /^(?:(-[A-Za-z]), )?(--[a-z][a-z0-9-]*)(?: <[^>]+>)?$/.exec(spec.flags);
  if (!m) throw new Error(`unsupported option syntax: ${spec.flags}`);
  const negate = m[2].startsWith("--no-");
  const words = m[2].slice(negate ? 5 : 2);
  return {
    long: m[2],
    ...(m[1] ? { short: m[1] } : {}),
    attr: words.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase()),
    takesValue: spec.flags.endsWith(">"),
    negate,
  };
}

export interface GlobalFlags {
  projectDir?: string;
  profile?: string;
  host?: string;
  debug?: boolean;
  json?: boolean;
  text?: boolean;
}

/** The program's own flags, accepted before or after any command word. */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  {
    flags: "--project-dir <dir>",
    description: "project folder holding session.json and repl_outputs/ (default: cwd)",
  },
  { flags: "-p, --profile <name>", description: "~/.databrickscfg profile" },
  { flags: "--host <url>", description: "workspace URL (overrides the profile's host)" },
  { flags: "--debug", description: "trace every HTTP request and response on stderr (secrets redacted)" },
  {
    flags: "--json",
    description: "print JSON (the default when stdout is not a terminal)",
    conflicts: "text",
  },
  { flags: "--text", description: "print text for people (the default on a terminal)" },
];

/** What the global flags change before any command runs: the output format, --debug tracing. */
export function applyGlobalFlags(ctx: Ctx, g: GlobalFlags): void {
  if (g.json) ctx.out.flagFormat = "json";
  if (g.text) ctx.out.flagFormat = "text";
  if (g.debug) ctx.out.debugEnabled = true;
}
