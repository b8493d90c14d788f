// A context for building the command tree without running any command (the docs generator and its
// staleness test): nothing in it may be called; help text needs no I/O.

import type { Ctx } from "../src/ctx.ts";
import { Output } from "../src/output.ts";

export function docsCtx(): Ctx {
  const never = (what: string) => () => {
    throw new Error(`the docs context cannot ${what}`);
  };
  return {
    env: () => undefined,
    fetch: never("fetch"),
    now: () => 0,
    sleep: never("sleep"),
    readTextFile: never("read files"),
    writeTextFile: never("write files"),
    readStdin: never("read stdin"),
    run: never("run programs"),
    signal: new AbortController().signal,
    random: () => 0.5,
    stdoutIsTty: false,
    stderrIsTty: false,
    out: new Output({ stdout: () => {}, stderr: () => {}, stdoutIsTty: false, stderrIsTty: false }),
  };
}
