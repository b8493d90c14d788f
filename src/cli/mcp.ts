// `dbxr mcp`: the REPL, the job runner, clusters and llm ask as MCP tools over stdin/stdout.

import { Command } from "@commander-js/extra-typings";
import type { Ctx } from "../ctx.ts";
import { examples, globals } from "./root.ts";

export function mcpCommand(ctx: Ctx) {
  const cmd = new Command("mcp")
    .description(
      "Serve dbxr as a Model Context Protocol server on stdin/stdout, for agents that speak MCP. Tools:\n" +
        "repl, read_output, job, cluster, llm_ask; each calls what the CLI command calls and answers its\n" +
        "JSON. The session files are the CLI's: an agent can switch between the two in one project folder.\n" +
        "Only MCP messages go to stdout; logs go to stderr. Runs until stdin closes.",
    )
    .action(async (_o, c) => {
      const g = globals(c);
      // Loaded only here: the MCP SDK and zod must not slow down the start of other commands.
      const { serveMcp } = await import("../mcp/server.ts");
      await serveMcp(ctx, { projectDir: g.projectDir, profile: g.profile, host: g.host });
    });
  return examples(cmd, [
    "dbxr mcp",
    "dbxr mcp --project-dir examples/churn --profile dev",
    `claude mcp add dbxr -- dbxr mcp --project-dir "$PWD"`,
  ]);
}
