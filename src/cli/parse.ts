// Option value parsers shared by the commands. They throw commander's InvalidArgumentError, which
// runProgram turns into the JSON error InvalidArgument (exit 2).

import { InvalidArgumentError } from "@commander-js/extra-typings";

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  }
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new InvalidArgumentError(`expected a whole number ≥ 0, got "${value}"`);
  }
  return n;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
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
