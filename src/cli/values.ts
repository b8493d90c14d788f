// Option values: the checks behind --timeout, --preview and the other numeric flags, apart from commander
// so that the start path of the seed's REPL commands (src/cli/fast.ts) can use them without loading it.
// They throw ValueError; src/cli/parse.ts turns that into commander's InvalidArgumentError, which
// runProgram answers as the JSON error InvalidArgument (exit 2).

/** A value that an option does not accept; the message says what it expected. */
export class ValueError extends Error {
  override name = "ValueError";
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new ValueError(`expected a positive number, got "${value}"`);
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  // Safe integers only: 1e23 is an integer to JavaScript but not to any API that receives it.
  if (!Number.isSafeInteger(n) || n < 0) throw new ValueError(`expected a whole number ≥ 0, got "${value}"`);
  return n;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new ValueError(`expected a whole number ≥ 1, got "${value}"`);
  return n;
}

export function temperature(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 2) {
    throw new ValueError(`expected a number from 0 to 2, got "${value}"`);
  }
  return n;
}

/** A run's timeout_seconds: an int32 on the Jobs API, 0 for none. */
export function runTimeoutSeconds(value: string): number {
  const n = nonNegativeInt(value);
  if (n > 2_147_483_647) {
    throw new ValueError(`expected at most 2147483647 seconds (the Jobs API's limit), got "${value}"`);
  }
  return n;
}
