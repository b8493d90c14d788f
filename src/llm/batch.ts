// `dbxr llm batch`: many prompts from a JSONL file, answered with bounded concurrency into another JSONL
// file that doubles as the checkpoint. Each answer is appended as one line the moment it arrives, so a
// kill -9 loses only the calls in flight; a second run skips every prompt whose answer is already there
// (same index, same prompt), and the file is rewritten in input order when the run ends.

import type { ApiClient } from "../api/http.ts";
import type { Ctx } from "../ctx.ts";
import { DbxrError, toDbxrError } from "../errors.ts";
import { writeFileAtomic } from "../session/atomic.ts";
import { addUsage, ask, NO_USAGE, type Usage } from "./ask.ts";

export interface BatchPrompt {
  index: number;
  id?: string | number;
  prompt: string;
  system?: string;
  max_tokens?: number;
  temperature?: number;
  /** Identifies the question (prompt and system), so that a changed input file is asked again. */
  key: string;
}

export interface ResultLine {
  index: number;
  id?: string | number;
  key: string;
  text?: string;
  error?: { code: string; message: string };
  usage?: Usage;
  model?: string | null;
  finish_reason?: string | null;
}

/** Each line a JSON string (the prompt) or an object with "prompt" and optional id, system, max_tokens. */
export async function parsePrompts(text: string, file: string): Promise<BatchPrompt[]> {
  const out: BatchPrompt[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw badLine(file, i + 1, "is not JSON");
    }
    const o = typeof v === "string" ? { prompt: v } : v;
    if (
      typeof o !== "object" || o === null || Array.isArray(o) ||
      typeof (o as { prompt?: unknown }).prompt !== "string"
    ) {
      throw badLine(file, i + 1, 'needs a "prompt" string (or be a JSON string)');
    }
    const p = o as Record<string, unknown>;
    const system = typeof p.system === "string" ? p.system : undefined;
    out.push({
      index: out.length,
      ...(typeof p.id === "string" || typeof p.id === "number" ? { id: p.id } : {}),
      prompt: p.prompt as string,
      ...(system ? { system } : {}),
      ...(typeof p.max_tokens === "number" ? { max_tokens: p.max_tokens } : {}),
      ...(typeof p.temperature === "number" ? { temperature: p.temperature } : {}),
      key: await keyOf(p.prompt as string, system),
    });
  }
  return out;
}

function badLine(file: string, line: number, what: string): DbxrError {
  return new DbxrError("InvalidArgument", `${file} line ${line} ${what}`, {
    hint: `head -n ${line} ${file} | tail -n 1`,
    details: { file, line },
  });
}

async function keyOf(prompt: string, system?: string): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify([system ?? "", prompt]));
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...hash.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The last line per index of an earlier run's output; torn or foreign lines are ignored. */
export function readResults(text: string): Map<number, ResultLine> {
  const byIndex = new Map<number, ResultLine>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const r = JSON.parse(line) as ResultLine;
      if (Number.isSafeInteger(r.index) && typeof r.key === "string") byIndex.set(r.index, r);
    } catch {
      // A line cut short by a kill -9: that prompt is simply asked again.
    }
  }
  return byIndex;
}

export interface BatchOptions {
  endpoint: string;
  inFile: string;
  outFile: string;
  concurrency: number;
  maxTokens?: number;
  system?: string;
}

export async function runBatch(ctx: Ctx, client: ApiClient, o: BatchOptions) {
  const inText = await ctx.readTextFile(o.inFile);
  if (inText === undefined) {
    throw new DbxrError("FileNotFound", `Prompts file not found: ${o.inFile}`, {
      details: { path: o.inFile },
    });
  }
  const prompts = await parsePrompts(inText, o.inFile);
  const earlier = readResults((await ctx.readTextFile(o.outFile)) ?? "");
  const answered = (p: BatchPrompt) => {
    const r = earlier.get(p.index);
    return r !== undefined && r.key === p.key && r.text !== undefined;
  };
  const todo = prompts.filter((p) => !answered(p));
  const skipped = prompts.length - todo.length;

  const results = new Map<number, ResultLine>();
  for (const p of prompts) if (answered(p)) results.set(p.index, earlier.get(p.index)!);
  let usage = NO_USAGE;
  let succeeded = 0;
  let failed = 0;
  let lastReport = 0;
  ctx.out.info(`llm batch: ${todo.length} to ask, ${skipped} already answered in ${o.outFile}`);

  const out = await Deno.open(o.outFile, { append: true, create: true });
  const encoder = new TextEncoder();
  const append = (r: ResultLine) => {
    // One write per line: a kill -9 tears at most the line being written, which the next run ignores.
    const bytes = encoder.encode(JSON.stringify(r) + "\n");
    let off = 0;
    while (off < bytes.length) off += out.writeSync(bytes.subarray(off));
  };
  let next = 0;
  const worker = async () => {
    while (next < todo.length && !ctx.signal.aborted) {
      const p = todo[next++];
      const base = { index: p.index, ...(p.id !== undefined ? { id: p.id } : {}), key: p.key };
      let line: ResultLine;
      try {
        const a = await ask(ctx, client, {
          endpoint: o.endpoint,
          prompt: p.prompt,
          system: p.system ?? o.system,
          maxTokens: p.max_tokens ?? o.maxTokens,
          temperature: p.temperature,
        });
        line = { ...base, text: a.text, usage: a.usage, model: a.model, finish_reason: a.finish_reason };
        usage = addUsage(usage, a.usage);
        succeeded++;
      } catch (e) {
        if (ctx.signal.aborted) return; // interrupted: not an answer, asked again next time
        const err = toDbxrError(e);
        line = { ...base, error: { code: err.code, message: err.message } };
        failed++;
      }
      append(line);
      results.set(p.index, line);
      const now = ctx.now();
      if (now - lastReport >= 1000 || succeeded + failed === todo.length) {
        lastReport = now;
        ctx.out.info(`llm batch: ${succeeded + failed}/${todo.length} asked, ${failed} failed`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency, todo.length)) }, worker));
  } finally {
    out.close();
  }
  // In input order, one line per prompt answered so far (stale lines of a changed input dropped).
  const ordered = prompts.flatMap((p) => results.has(p.index) ? [results.get(p.index)!] : []);
  await writeFileAtomic(o.outFile, ordered.map((r) => JSON.stringify(r) + "\n").join(""));

  const interrupted = ctx.signal.aborted;
  const status = interrupted ? "interrupted" : failed ? "partial" : "done";
  return {
    response: {
      status,
      endpoint: o.endpoint,
      in_file: o.inFile,
      out_file: o.outFile,
      total: prompts.length,
      already_answered: skipped,
      asked: succeeded + failed,
      succeeded,
      failed,
      unanswered: prompts.length - ordered.filter((r) => r.text !== undefined).length,
      usage,
    },
    exitCode: interrupted ? 130 : failed ? 1 : 0,
  };
}
