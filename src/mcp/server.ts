// `dbxr mcp`: the tools of src/mcp/tools.ts served over MCP on stdin/stdout with the official SDK.
//
// stdout carries MCP messages only: every tool call gets its own Ctx whose Output sends "stdout" and
// stderr lines to the server's stderr (and progress lines to the client as progress notifications), and
// whose signal aborts when the client cancels the call, so a cancelled exec cancels the remote command
// as Ctrl-C does in the CLI. The low-level Server (not McpServer) is used so that a bad argument is
// answered as dbxr's JSON error (InvalidArgument) rather than the SDK's own validation text.

import process from "node:process";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import {
  type CallToolRequest,
  CallToolRequestSchema,
  type CallToolResult,
  ListToolsRequestSchema,
  type ServerNotification,
} from "@modelcontextprotocol/sdk/types.js";
import type { Ctx } from "../ctx.ts";
import { DbxrError, toDbxrError } from "../errors.ts";
import { Output } from "../output.ts";
import { VERSION } from "../version.ts";
import { listing, type ServerFlags, type ToolAnswer, type ToolDef } from "./tool_kit.ts";
import { dbxrTools } from "./tools.ts";

export const INSTRUCTIONS =
  "dbxr: a stateful Python session on a Databricks cluster (repl), job runs (job), clusters (cluster), " +
  "serving-endpoint LLMs (llm_ask). Typical flow: cluster find -> repl create -> repl exec (step by " +
  "step; read long outputs with read_output) -> repl consolidate -> job check / job run. Answers are the " +
  "dbxr CLI's JSON; errors carry a hint with the next step (given as a dbxr CLI command).";

/** Between two heartbeat progress notifications while a call only waits. */
const HEARTBEAT_MS = 1_000;
/** The least time between a call's last progress notification and its answer. */
const SETTLE_MS = 100;

export interface CallTools {
  tools: ToolDef[];
  listed: ReturnType<typeof listing>[];
}

export function buildTools(): CallTools {
  const tools = dbxrTools();
  return { tools, listed: tools.map(listing) };
}

/** A tool's answer as an MCP result: the CLI's JSON as text and as structured content. */
export function toolResult(a: ToolAnswer, notes: string[] = []): CallToolResult {
  const structured = a.data !== null && typeof a.data === "object" && !Array.isArray(a.data)
    ? a.data as Record<string, unknown>
    : { result: a.data }; // structuredContent must be an object: arrays (cluster list) are wrapped
  return {
    content: [
      { type: "text", text: JSON.stringify(a.data) },
      ...notes.map((n) => ({ type: "text" as const, text: n })),
    ],
    structuredContent: structured,
    _meta: { "dbxr/exit_code": a.exitCode },
  };
}

/** A dbxr error as an MCP tool error: its JSON {status, error, message, hint, details} as the text. */
export function toolError(e: DbxrError, notes: string[] = []): CallToolResult {
  return {
    content: [
      { type: "text", text: JSON.stringify(e.toJSON()) },
      ...notes.map((n) => ({ type: "text" as const, text: n })),
    ],
    isError: true,
    _meta: { "dbxr/exit_code": e.exitCode },
  };
}

interface CallExtra {
  signal: AbortSignal;
  _meta?: { progressToken?: string | number };
  sendNotification(n: ServerNotification): Promise<void>;
}

/**
 * One call's Ctx: the server's, with its own abort signal, stdin closed (it carries the protocol), and an
 * Output whose lines go to stderr; progress and info lines also reach the client as progress
 * notifications when it asked for them, and a heartbeat is sent while the call waits.
 */
export function callContext(base: Ctx, extra: CallExtra, label: string) {
  const controller = new AbortController();
  const abort = () =>
    controller.abort(new DOMException(`${label}: cancelled by the MCP client`, "AbortError"));
  if (extra.signal.aborted) abort();
  else extra.signal.addEventListener("abort", abort, { once: true });
  const notes: string[] = [];
  const token = extra._meta?.progressToken;
  const started = base.now();
  let lastSent = -Infinity;
  let lastProgress = 0;
  const pending: Promise<void>[] = [];
  let finished = false;
  const progress = (message?: string) => {
    if (token === undefined || controller.signal.aborted || finished) return;
    const now = base.now();
    // progress must grow with every notification: the seconds waited, nudged when two come at once.
    const value = Math.max((now - started) / 1000, lastProgress + 0.001);
    lastProgress = value;
    lastSent = now;
    pending.push(
      extra.sendNotification({
        method: "notifications/progress",
        params: {
          progressToken: token,
          progress: value,
          message: message ?? `${label}: waiting (${Math.round((now - started) / 1000)}s)`,
        },
      }).catch(() => {}),
    );
  };
  const log = (text: string) => base.out.info(text.replace(/\n$/, ""));
  const out = new Output({
    stdout: log,
    stderr: (text) => {
      log(text);
      for (const line of text.split("\n").filter((l) => l.trim() !== "")) {
        if (line.startsWith("warning: ")) notes.push(line);
        else progress(line);
      }
    },
    stdoutIsTty: false,
    stderrIsTty: true, // so that progress lines (waits, uploads) are written, and forwarded
    envFormat: "json",
    noColor: "1",
  });
  out.debugEnabled = base.out.debugEnabled;
  const ctx: Ctx = {
    ...base,
    signal: controller.signal,
    out,
    async sleep(ms, signal) {
      if (base.now() - lastSent >= HEARTBEAT_MS) progress();
      return await base.sleep(ms, signal);
    },
    readStdin() {
      return Promise.reject(
        new DbxrError("InvalidArgument", "stdin carries the MCP protocol; pass the input as an argument"),
      );
    },
  };
  return {
    ctx,
    notes,
    abort,
    /** Waits for the progress notifications already sent: none may follow the call's answer. */
    async finish() {
      finished = true;
      await Promise.all(pending);
      // The SDK's client handles a notification a microtask after it reads it, but a response at once: a
      // notification that arrives in the same read as the response finds its token gone ("unknown token").
      const since = base.now() - lastSent;
      if (since < SETTLE_MS) await base.sleep(SETTLE_MS - since);
    },
    dispose: () => extra.signal.removeEventListener("abort", abort),
  };
}

/** Runs one tools/call: never throws; a failure is a tool error with dbxr's JSON. */
export async function callTool(
  base: Ctx,
  flags: ServerFlags,
  tools: ToolDef[],
  name: string,
  args: unknown,
  extra: CallExtra,
  inflight?: Set<() => void>,
): Promise<CallToolResult> {
  const tool = tools.find((t) => t.name === name);
  if (!tool) {
    return toolError(
      new DbxrError("InvalidArgument", `No tool named ${name}`, {
        hint: `tools: ${tools.map((t) => t.name).join(", ")}`,
      }),
    );
  }
  const action = typeof (args as Record<string, unknown>)?.action === "string"
    ? ` ${(args as Record<string, unknown>).action}`
    : "";
  const call = callContext(base, extra, `${name}${action}`);
  inflight?.add(call.abort);
  try {
    const answer = await tool.run(args, { ctx: call.ctx, flags });
    await call.finish();
    return toolResult(answer, call.notes);
  } catch (e) {
    await call.finish();
    const err = toDbxrError(e);
    if (err.code === "Error" && err.cause instanceof Error) {
      base.out.debug(err.cause.stack ?? String(err.cause));
    }
    return toolError(err, call.notes);
  } finally {
    inflight?.delete(call.abort);
    call.dispose();
  }
}

/**
 * Serves until stdin closes (or SIGINT/SIGTERM aborts base.signal). Calls still running then are aborted
 * like a Ctrl-C (a running step is cancelled remotely and recorded) and given a moment to finish.
 */
export async function serveMcp(base: Ctx, flags: ServerFlags): Promise<void> {
  const { tools, listed } = buildTools();
  const server = new Server(
    { name: "dbxr", version: VERSION },
    { capabilities: { tools: {} }, instructions: INSTRUCTIONS },
  );
  const inflight = new Set<() => void>();
  const running = new Set<Promise<unknown>>();
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: listed }));
  server.setRequestHandler(CallToolRequestSchema, (req: CallToolRequest, extra: CallExtra) => {
    const p = callTool(base, flags, tools, req.params.name, req.params.arguments, extra, inflight);
    running.add(p);
    p.finally(() => running.delete(p));
    return p;
  });
  server.onerror = (e: unknown) => base.out.info(`mcp: ${e instanceof Error ? e.message : String(e)}`);
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve();
  });
  const stop = () => void server.close().catch(() => {});
  process.stdin.once("end", stop);
  base.signal.addEventListener("abort", stop, { once: true });
  await server.connect(new StdioServerTransport());
  base.out.info(
    `dbxr mcp ${VERSION}: serving ${tools.length} tools on stdio (project dir ${flags.projectDir ?? "."})`,
  );
  await closed;
  for (const abort of inflight) abort();
  // A cancelled step needs a few requests to be cancelled and recorded; do not wait forever.
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.allSettled([...running]),
    new Promise((r) => timer = setTimeout(r, 15_000)),
  ]);
  clearTimeout(timer);
}
