// read_output: a window of a step's .stdout/.stderr or of a job log, so that a model reads only the part it
// needs instead of a whole file. Only files under the project dir can be read (symlinks resolved first).

import { isAbsolute, join, relative, resolve } from "node:path";
import { DbxrError } from "../errors.ts";

export type Unit = "lines" | "bytes";

export interface ReadOutputOptions {
  /** The project dir as the server was started with it. */
  projectDir: string;
  cmdId?: string;
  stream?: "stdout" | "stderr";
  path?: string;
  unit: Unit;
  /** From the start (≥ 0) or, negative, from the end: -50 lines is the last 50 lines. */
  offset: number;
  limit: number;
}

export interface ReadOutputResult {
  path: string;
  unit: Unit;
  offset: number;
  returned: number;
  total: number;
  next_offset: number | null;
  eof: boolean;
  text: string;
}

export const MAX_LIMIT: Record<Unit, number> = { lines: 20_000, bytes: 1_000_000 };

const CMD_ID = /^\d{3,}_[A-Za-z0-9._-]+$/;

export async function readOutput(o: ReadOutputOptions): Promise<ReadOutputResult> {
  const target = await locate(o);
  if (!Number.isInteger(o.limit) || o.limit < 1 || o.limit > MAX_LIMIT[o.unit]) {
    throw new DbxrError("InvalidArgument", `limit must be 1 to ${MAX_LIMIT[o.unit]} ${o.unit}`, {
      details: { limit: o.limit },
    });
  }
  const bytes = await Deno.readFile(target.absolute);
  const window = o.unit === "bytes"
    ? byteWindow(bytes, o.offset, o.limit)
    : lineWindow(bytes, o.offset, o.limit);
  return { path: target.shown, unit: o.unit, ...window };
}

/** The file to read: a step's stream by cmd_id, or a path under the project dir. */
async function locate(o: ReadOutputOptions): Promise<{ absolute: string; shown: string }> {
  if ((o.cmdId === undefined) === (o.path === undefined)) {
    throw new DbxrError(
      "InvalidArgument",
      "read_output needs either cmd_id (with stream) or path, not both",
      {
        hint: 'read_output {"cmd_id": "003_train", "stream": "stderr"}',
      },
    );
  }
  const root = await realDir(o.projectDir);
  let candidates: string[];
  if (o.cmdId !== undefined) {
    if (!CMD_ID.test(o.cmdId)) {
      throw new DbxrError(
        "InvalidArgument",
        `cmd_id looks like 003_train (from an exec answer), got "${o.cmdId}"`,
      );
    }
    candidates = [join(root, "repl_outputs", `${o.cmdId}.${o.stream ?? "stdout"}`)];
  } else {
    const p = o.path!;
    // As shown in answers: relative to the project dir (job logs) or to where dbxr runs (step files).
    candidates = isAbsolute(p) ? [p] : [resolve(root, p), resolve(p)];
  }
  for (const c of candidates) {
    let real: string;
    try {
      real = await Deno.realPath(c);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      throw e;
    }
    const rel = relative(root, real);
    if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) {
      throw new DbxrError("PermissionDenied", `${o.path ?? c} is outside the project dir ${o.projectDir}`, {
        hint: "read_output reads step outputs and job logs under the project dir only",
        details: { path: o.path ?? c, project_dir: o.projectDir },
      });
    }
    const info = await Deno.stat(real);
    if (!info.isFile) {
      throw new DbxrError("InvalidArgument", `${o.path ?? c} is not a file`, { details: { path: rel } });
    }
    return { absolute: real, shown: rel };
  }
  const shown = o.path ?? relative(root, candidates[0]);
  throw new DbxrError("FileNotFound", `No such output: ${shown}`, {
    hint: o.cmdId ? 'repl {"action": "status"} shows the last step' : "paths come from exec and job answers",
    details: { path: shown },
  });
}

async function realDir(dir: string): Promise<string> {
  try {
    return await Deno.realPath(dir);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new DbxrError("FileNotFound", `Project dir not found: ${dir}`, { details: { path: dir } });
    }
    throw e;
  }
}

type Window = Omit<ReadOutputResult, "path" | "unit">;

const decoder = new TextDecoder();

/** A UTF-8 continuation byte (10xxxxxx): never cut a character in two. */
const isContinuation = (b: number | undefined) => b !== undefined && (b & 0xc0) === 0x80;

export function byteWindow(bytes: Uint8Array, offset: number, limit: number): Window {
  const total = bytes.length;
  let start = offset < 0 ? Math.max(0, total + offset) : Math.min(offset, total);
  while (start < total && isContinuation(bytes[start])) start++;
  let end = Math.min(total, start + limit);
  if (end < total) { while (end > start && isContinuation(bytes[end])) end--; }
  return {
    offset: start,
    returned: end - start,
    total,
    next_offset: end < total ? end : null,
    eof: end >= total,
    text: decoder.decode(bytes.subarray(start, end)),
  };
}

export function lineWindow(bytes: Uint8Array, offset: number, limit: number): Window {
  const text = decoder.decode(bytes);
  // A final newline ends the last line; it does not start an empty one.
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  const total = lines.length;
  const start = offset < 0 ? Math.max(0, total + offset) : Math.min(offset, total);
  const end = Math.min(total, start + limit);
  const slice = lines.slice(start, end);
  return {
    offset: start,
    returned: slice.length,
    total,
    next_offset: end < total ? end : null,
    eof: end >= total,
    text: slice.join("\n") + (slice.length && (end < total || text.endsWith("\n")) ? "\n" : ""),
  };
}
