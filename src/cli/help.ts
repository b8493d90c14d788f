// How --help reads. Commander's layout, with four changes applied to every command of the tree:
// descriptions are paragraphs that wrap to the terminal (a lone "\n" in a description would break a
// sentence in the middle on a wide terminal), empty defaults of repeatable options are not shown, the
// global flags are listed under each subcommand (its examples use them), and the Examples block is
// wrapped to the same width as the rest, with shell continuations so that a wrapped example still pastes.

import { type Command, Help, type Option } from "@commander-js/extra-typings";

// deno-lint-ignore no-explicit-any
type AnyCommand = Command<any, any, any>;

const EXAMPLES = new WeakMap<object, string[]>();

/** Adds an Examples block to a command's help; every command has one. */
export function examples<C extends object>(cmd: C, lines: string[]): C {
  EXAMPLES.set(cmd, [...(EXAMPLES.get(cmd) ?? []), ...lines]);
  return cmd;
}

/** The example command lines of a command (empty when it has none). */
export function examplesOf(cmd: object): string[] {
  return EXAMPLES.get(cmd) ?? [];
}

/** One paragraph per blank-line-separated block: single line breaks become spaces. */
export function paragraphs(text: string): string {
  return text.split(/\n[ \t]*\n/).map((p) => p.replace(/\s*\n\s*/g, " ").trim()).join("\n\n");
}

/** The first sentence: the summary in command lists. "e.g. x" does not end a sentence. */
export function firstSentence(text: string): string {
  const flat = paragraphs(text).split("\n\n")[0];
  const m = /^(.*?[.!?])\s+(?=[A-Z(`])/.exec(flat);
  return (m ? m[1] : flat).replace(/\.$/, "");
}

/**
 * Splits an example into shell words (quotes kept) and packs them into lines of at most `width`
 * characters after `indent`, ending every line but the last with " \" so that it pastes as one command.
 */
export function wrapExample(line: string, width: number, indent = "  "): string[] {
  if (indent.length + line.length <= width) return [indent + line];
  const words = line.match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g) ?? [line];
  const out: string[] = [];
  const next = indent + "    ";
  let cur = indent + words[0];
  for (const w of words.slice(1)) {
    if (cur.length + 1 + w.length + 2 <= width) {
      cur += " " + w;
    } else {
      out.push(cur + " \\");
      cur = next + w;
    }
  }
  out.push(cur);
  return out;
}

/** The help configuration shared by every command (commander does not pass it down to added commands). */
export function helpConfiguration(): Partial<Help> {
  return {
    showGlobalOptions: true,
    // Commander stops wrapping when fewer than 40 columns are left beside the longest term
    // (`ensure-schema [options] <catalog.schema>`), and the lines then run past 80.
    minWidthToWrap: 20,
    commandDescription: (cmd) => paragraphs(cmd.description()),
    subcommandDescription: (cmd) => cmd.summary() || firstSentence(cmd.description()),
    optionDescription(this: Help, option: Option) {
      // A repeatable option's `[]` start value is an implementation detail, not a default to show.
      if (Array.isArray(option.defaultValue) && option.defaultValue.length === 0) {
        const copy = Object.assign(Object.create(Object.getPrototypeOf(option)), option) as Option;
        copy.defaultValue = undefined;
        return paragraphs(Help.prototype.optionDescription.call(this, copy));
      }
      return paragraphs(Help.prototype.optionDescription.call(this, option));
    },
    argumentDescription(this: Help, arg) {
      return paragraphs(Help.prototype.argumentDescription.call(this, arg));
    },
    // --version belongs to the program; repeating it under every subcommand is noise.
    visibleGlobalOptions(this: Help, cmd) {
      return Help.prototype.visibleGlobalOptions.call(this, cmd).filter((o) => o.long !== "--version");
    },
    formatHelp(this: Help, cmd, helper) {
      const base = Help.prototype.formatHelp.call(this, cmd, helper);
      const lines = examplesOf(cmd);
      if (lines.length === 0) return base;
      const width = helper.helpWidth ?? 80;
      return `${base}\nExamples:\n${lines.flatMap((l) => wrapExample(l, width)).join("\n")}\n`;
    },
  };
}

/** The help text of `cmd` as a terminal of `width` columns shows it (the reference leaves out the global flags). */
export function helpText(cmd: AnyCommand, width: number, opts: { globalOptions?: boolean } = {}): string {
  const helper = Object.assign(new Help(), cmd.configureHelp());
  if (opts.globalOptions === false) helper.showGlobalOptions = false;
  helper.prepareContext({ helpWidth: width, outputHasColors: false });
  return helper.formatHelp(cmd as never, helper);
}

/** Every command of the tree, depth first, with its path of names (the program's is []). */
export function walkCommands(
  cmd: AnyCommand,
  path: string[] = [],
): Array<{ path: string[]; cmd: AnyCommand }> {
  const subs = cmd.commands as readonly AnyCommand[];
  return [{ path, cmd }, ...subs.flatMap((c) => walkCommands(c, [...path, c.name()]))];
}
