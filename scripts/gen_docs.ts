// `deno task docs`: writes the command reference into README.md between <!-- commands:start --> and
// <!-- commands:end -->, from the command tree itself (src/cli/reference.ts), then formats README.md
// with deno fmt. tests/unit/readme_reference_test.ts fails when README.md is out of date.

import type { Command } from "@commander-js/extra-typings";
import { buildProgram } from "../src/cli/tree.ts";
import { commandReference, replaceReference } from "../src/cli/reference.ts";
import { docsCtx } from "./docs_ctx.ts";

const readmePath = new URL("../README.md", import.meta.url).pathname;
const program = await buildProgram(docsCtx()) as unknown as Command;
const before = await Deno.readTextFile(readmePath);
await Deno.writeTextFile(readmePath, replaceReference(before, commandReference(program)));
const fmt = await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", readmePath] }).output();
if (!fmt.success) {
  throw new Error(`deno fmt README.md failed: ${new TextDecoder().decode(fmt.stderr)}`);
}
const after = await Deno.readTextFile(readmePath);
// deno-lint-ignore no-console
console.log(
  after === before
    ? "README.md: command reference already up to date"
    : "README.md: command reference updated",
);
