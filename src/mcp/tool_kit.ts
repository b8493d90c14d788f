// How a dbxr MCP tool is declared: a zod input schema, a description for the model, and a run function that
// calls a service and returns the CLI's JSON answer with its exit code. Tools with several actions
// (`repl`, `job`, `cluster`) are built from a table of actions, so that adding an action is one entry.

import { z } from "zod";
import type { Ctx } from "../ctx.ts";
import { DbxrError } from "../errors.ts";

/** The server-wide flags (`dbxr mcp --project-dir DIR --profile P --host URL`). */
export interface ServerFlags {
  projectDir?: string;
  profile?: string;
  host?: string;
}

export interface ToolCall {
  /** This call's own context: its signal aborts when the client cancels the call. */
  ctx: Ctx;
  flags: ServerFlags;
}

/** The CLI's answer: the JSON it prints and the exit code it would exit with. */
export interface ToolAnswer {
  data: unknown;
  exitCode: number;
}

export interface ToolDef {
  name: string;
  description: string;
  schema: z.ZodObject;
  /** Arguments as the client sent them; validated here. */
  run(args: unknown, call: ToolCall): Promise<ToolAnswer>;
}

export type Args = Record<string, unknown>;

export interface Action {
  /** One line for the tool's description. */
  summary: string;
  /** The fields this action takes (merged into the tool's schema; the same name must mean the same). */
  fields?: z.ZodRawShape;
  /** Fields that must be given. */
  required?: string[];
  run(args: Args, call: ToolCall): Promise<ToolAnswer>;
}

export const answer = (data: unknown, exitCode = 0): ToolAnswer => ({ data, exitCode });

/** A tool whose input is `{action, ...fields}`: one flat object, which models fill in more reliably. */
export function actionTool(name: string, intro: string, actions: Record<string, Action>): ToolDef {
  const names = Object.keys(actions);
  const shape: Record<string, z.ZodType> = {};
  for (const a of Object.values(actions)) {
    for (const [k, v] of Object.entries(a.fields ?? {})) shape[k] ??= (v as z.ZodType).optional();
  }
  const schema = z.object({
    action: z.enum(names as [string, ...string[]]),
    ...shape,
  }).strict();
  const description = [intro, ...names.map((n) => `- ${n}: ${actions[n].summary}`)].join("\n");
  return {
    name,
    description,
    schema,
    async run(raw, call) {
      const args = parseArgs(name, schema, raw);
      const action = actions[args.action as string];
      const allowed = new Set(["action", ...Object.keys(action.fields ?? {})]);
      const extra = Object.keys(args).filter((k) => !allowed.has(k) && args[k] !== undefined);
      if (extra.length) {
        throw new DbxrError(
          "InvalidArgument",
          `${name} ${args.action} does not take ${extra.join(", ")}` +
            (allowed.size > 1 ? `; it takes ${[...allowed].slice(1).join(", ")}` : "; it takes no arguments"),
          { details: { tool: name, action: args.action, unexpected: extra } },
        );
      }
      const missing = (action.required ?? []).filter((k) => args[k] === undefined);
      if (missing.length) {
        throw new DbxrError("InvalidArgument", `${name} ${args.action} needs ${missing.join(" and ")}`, {
          details: { tool: name, action: args.action, missing },
        });
      }
      return await action.run(args, call);
    },
  };
}

/** A tool without actions. */
export function simpleTool(
  name: string,
  description: string,
  fields: z.ZodRawShape,
  run: (args: Args, call: ToolCall) => Promise<ToolAnswer>,
): ToolDef {
  const schema = z.object(fields).strict();
  return { name, description, schema, run: (raw, call) => run(parseArgs(name, schema, raw), call) };
}

/** zod's verdict as dbxr's InvalidArgument, one line per problem, naming the field. */
function parseArgs(tool: string, schema: z.ZodObject, raw: unknown): Args {
  const r = schema.safeParse(raw ?? {});
  if (r.success) return r.data as Args;
  const problems = r.error.issues.map((i) => {
    const where = i.path.length ? i.path.join(".") : "arguments";
    return i.code === "unrecognized_keys"
      ? `unknown argument(s) ${i.keys.join(", ")}`
      : `${where}: ${i.message}`;
  });
  throw new DbxrError("InvalidArgument", `${tool}: ${problems.join("; ")}`, {
    details: { tool, problems },
  });
}

/** The tool's entry in tools/list: the JSON Schema of its input, without the $schema line. */
export function listing(
  t: ToolDef,
): { name: string; description: string; inputSchema: Record<string, unknown> } {
  const { $schema: _, ...schema } = z.toJSONSchema(t.schema, { io: "input" }) as Record<string, unknown>;
  // zod bounds every integer by the safe-integer range: true, and bytes sent to the model on every request.
  const inputSchema = JSON.parse(
    JSON.stringify(
      schema,
      (k, v) =>
        (k === "maximum" && v === Number.MAX_SAFE_INTEGER) ||
          (k === "minimum" && v === Number.MIN_SAFE_INTEGER)
          ? undefined
          : v,
    ),
  );
  return { name: t.name, description: t.description, inputSchema };
}
