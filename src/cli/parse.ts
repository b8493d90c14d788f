// Commander's side of options declared as data (src/cli/options.ts) and of the value checks
// (src/cli/values.ts): their ValueError becomes commander's InvalidArgumentError, which runProgram turns
// into the JSON error InvalidArgument (exit 2).

import { InvalidArgumentError, Option } from "@commander-js/extra-typings";
import type { OptionSpec } from "./options.ts";
import * as values from "./values.ts";
import { previewSpec } from "./repl_commands.ts";

/** A value check for commander: its complaint becomes commander's "argument ... is invalid" error. */
export function forCommander<T>(check: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return check(value);
    } catch (e) {
      if (e instanceof values.ValueError) throw new InvalidArgumentError(e.message);
      throw e;
    }
  };
}

export const positiveNumber = forCommander(values.positiveNumber);
export const nonNegativeInt = forCommander(values.nonNegativeInt);
export const positiveInt = forCommander(values.positiveInt);
export const temperature = forCommander(values.temperature);
export const runTimeoutSeconds = forCommander(values.runTimeoutSeconds);

/** Commander's option for a spec. */
export function toOption(spec: OptionSpec): Option {
  let o = new Option(spec.flags, spec.description);
  if (spec.parse) o = o.argParser(forCommander(spec.parse)) as unknown as Option;
  if (spec.choices) o = o.choices(spec.choices) as unknown as Option;
  if (spec.default !== undefined) o = o.default(spec.default) as unknown as Option;
  if (spec.required) o = o.makeOptionMandatory() as unknown as Option;
  if (spec.conflicts) o = o.conflicts(spec.conflicts) as unknown as Option;
  return o;
}

/** `--preview N`: how many characters of an output the answer quotes (the seed's 200 by default). */
export function previewOption(what: string) {
  // Built with commander's types (not toOption) so that commands see `preview` as a number.
  const spec = previewSpec(what);
  return new Option("--preview <n>", spec.description).argParser(nonNegativeInt).default(
    spec.default as number,
  );
}
