// Option value parsers shared by the commands. They throw commander's InvalidArgumentError, which
// runProgram turns into the JSON error InvalidArgument (exit 2).

import { InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { DEFAULT_PREVIEW } from "../session/outputs.ts";

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  }
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  // Safe integers only: 1e23 is an integer to JavaScript but not to any API that receives it.
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new InvalidArgumentError(`expected a whole number ≥ 0, got "${value}"`);
  }
  return n;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new InvalidArgumentError(`expected a whole number ≥ 1, got "${value}"`);
  }
  return n;
}

export function temperature(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 2) {
    throw new InvalidArgumentError(`expected a number from 0 to 2, got "${value}"`);
  }
  return n;
}

/** A run's timeout_seconds: an int32 on the Jobs API, 0 for none. */
export function runTimeoutSeconds(value: string): number {
  const n = nonNegativeInt(value);
  if (n > 2_147_483_647) {
    throw new InvalidArgumentError(
      `expected at most 2147483647 seconds (the Jobs API's limit), got "${value}"`,
    );
  }
  return n;
}

/** `--preview N`: how many characters of an output the answer quotes (the seed's 200 by default). */
export function previewOption(what: string) {
  return new Option("--preview <n>", `characters in ${what}`).argParser(nonNegativeInt).default(
    DEFAULT_PREVIEW,
  );
}
