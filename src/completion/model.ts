// The command tree as data for shell completion: every command path with its subcommands, options (and how
// each option's value completes) and positional arguments. Built by walking commander's tree, so completion
// can never drift from the commands themselves.

/** How a value completes: files, folders, a fixed list of words, or anything (nothing is offered). */
export type ValueKind = "file" | "dir" | "words" | "any";

export interface CompletionOption {
  /** Long and short spellings, e.g. ["--profile", "-p"]. */
  names: string[];
  description: string;
  /** Undefined for a flag that takes no value. */
  value?: { kind: ValueKind; words: string[] };
}

export interface CompletionNode {
  /** The words after `dbxr`, e.g. ["job", "run"]; [] for the program itself. */
  path: string[];
  description: string;
  subcommands: Array<{ name: string; description: string }>;
  /** The node's own options, then the program's global ones, then --help. */
  options: CompletionOption[];
  /** What its positional arguments complete to (only for commands without subcommands). */
  args?: { kind: ValueKind; words: string[] };
}

/** The parts of a commander Command and Option that completion reads (structural, so tests can fake them). */
export interface TreeCommand {
  name(): string;
  description(): string;
  commands: readonly unknown[];
  options: readonly unknown[];
  registeredArguments?: readonly unknown[];
}

interface TreeOption {
  flags: string;
  long?: string;
  short?: string;
  description: string;
  required?: boolean;
  optional?: boolean;
  hidden?: boolean;
  argChoices?: string[];
}

interface TreeArgument {
  name(): string;
  argChoices?: string[];
}

const HELP: CompletionOption = { names: ["--help", "-h"], description: "display help for command" };

/** One line for menus: the first sentence of the description, at most 70 characters. */
export function shortDescription(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  const sentence = flat.split(/(?<=[.;])\s/)[0].replace(/[.;]$/, "");
  return sentence.length <= 70 ? sentence : sentence.slice(0, 67).replace(/\s+\S*$/, "") + "...";
}

/** A value's kind from its choices or its placeholder: `<dir>` folders, `<file>`/`<files...>` files. */
function valueKind(placeholder: string, choices: string[] | undefined): { kind: ValueKind; words: string[] } {
  if (choices?.length) return { kind: "words", words: [...choices] };
  const p = placeholder.toLowerCase();
  if (/\bdir\b|folder/.test(p)) return { kind: "dir", words: [] };
  if (/\bfiles?\b|local/.test(p)) return { kind: "file", words: [] };
  return { kind: "any", words: [] };
}

function completionOption(o: TreeOption): CompletionOption {
  const names = [o.long, o.short].filter((n): n is string => Boolean(n));
  const takesValue = Boolean(o.required || o.optional);
  const placeholder = /[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1] ?? "";
  return {
    names,
    description: shortDescription(o.description),
    ...(takesValue ? { value: valueKind(placeholder, o.argChoices) } : {}),
  };
}

export function completionModel(program: TreeCommand): CompletionNode[] {
  const programOptions = (program.options as TreeOption[]).filter((o) => !o.hidden).map(completionOption);
  // --version belongs to the program alone; the other program options work after any subcommand.
  const globals = programOptions.filter((o) => !o.names.includes("--version"));
  const nodes: CompletionNode[] = [];
  const visit = (cmd: TreeCommand, path: string[]) => {
    const subs = cmd.commands as TreeCommand[];
    const own = path.length === 0
      ? programOptions.filter((o) => o.names.includes("--version"))
      : (cmd.options as TreeOption[]).filter((o) => !o.hidden).map(completionOption);
    const argsList = (cmd.registeredArguments ?? []) as TreeArgument[];
    const withChoices = argsList.find((a) => a.argChoices?.length);
    const args = subs.length > 0 || argsList.length === 0
      ? undefined
      : withChoices
      ? { kind: "words" as const, words: [...withChoices.argChoices!] }
      : valueKind(argsList.map((a) => a.name()).join(" "), undefined);
    nodes.push({
      path,
      description: shortDescription(cmd.description()),
      subcommands: subs.map((s) => ({ name: s.name(), description: shortDescription(s.description()) })),
      options: [...own, ...globals, HELP],
      ...(args && args.kind !== "any" ? { args } : {}),
    });
    for (const s of subs) visit(s, [...path, s.name()]);
  };
  visit(program, []);
  return nodes;
}
