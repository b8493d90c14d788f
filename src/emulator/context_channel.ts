// The private JSON-lines channel between ContextProcess and its Python host
// (src/emulator/python/context_host.py documents the same protocol from the other side).

import type { CommandResults } from "./context_results.ts";

export interface InitMessage {
  type: "init";
  apiUrl: string;
  apiToken: string;
  workspaceHost: string;
  outputLimit: number;
  sparkConf: Record<string, string>;
  cwd: string;
}

export interface ExecuteMessage {
  type: "execute";
  id: string;
  language: "python" | "sql";
  command: string;
}

/** Cancel: the host sends SIGINT to its own main thread while that command runs. */
export interface InterruptMessage {
  type: "interrupt";
  id: string;
}

export type ParentMessage = InitMessage | ExecuteMessage | InterruptMessage;

export type HostMessage =
  | { type: "hello"; pid: number }
  | { type: "ready"; pid: number; python: string; ipython: string }
  | { type: "fatal"; message: string }
  | { type: "done"; id: string; interrupted: boolean; results: CommandResults; captured: string };

/** Yields one parsed message per line until the stream ends; a line that is not JSON is skipped. */
export async function* readMessages(stream: ReadableStream<Uint8Array>): AsyncGenerator<HostMessage> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      const msg = parse(line);
      if (msg) yield msg;
    }
  }
  const last = parse(pending + decoder.decode());
  if (last) yield last;
}

function parse(line: string): HostMessage | null {
  if (!line.trim()) return null;
  try {
    return JSON.parse(line) as HostMessage;
  } catch {
    return null;
  }
}

export function encodeMessage(msg: ParentMessage): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(msg) + "\n");
}
