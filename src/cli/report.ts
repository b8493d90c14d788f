// How a command's failure is shown: one JSON (or text) error with a contract code; for an unexpected
// error the cause's stack under --debug, redacted. Shared by commander's run (root.ts) and the start path
// of the seed's REPL commands (main.ts), which does not load commander.

import { redactText } from "../api/redact.ts";
import type { Ctx } from "../ctx.ts";
import { toDbxrError } from "../errors.ts";

export function reportError(ctx: Ctx, e: unknown): void {
  const err = toDbxrError(e);
  if (err.code === "Error" && err.cause instanceof Error) {
    ctx.out.debug(redactText(err.cause.stack ?? String(err.cause)));
  }
  ctx.out.error(err);
}
