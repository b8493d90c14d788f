// The TypeScript side of the REPL bootstrap (repl_bootstrap.py): the command that `dbxr create` injects,
// and the small commands that dbxr sends afterwards to read what the bootstrap keeps. See README.md here.

import BOOTSTRAP_SOURCE from "./repl_bootstrap_py.ts";

/** The command to run once in a new execution context; it prints nothing and can be sent again. */
export { BOOTSTRAP_SOURCE };

/** `_dbxr.version` of the bootstrap in this build (a unit test keeps the two equal). */
export const BOOTSTRAP_VERSION = "1";

/** Prints `dbxr-bootstrap <version>`; a NameError means the bootstrap is gone (restartPython). */
export const PING_COMMAND = "_dbxr.ping()";

/** Bytes per follow-up: 40,000 base64 characters, well under the API's 50,000-character output limit. */
export const OUTPUT_CHUNK_SIZE = 30_000;

/** The bootstrap serves at most this many bytes per call, whatever size is asked for. */
export const OUTPUT_CHUNK_MAX = 36_000;

/** The follow-up that prints bytes [offset, offset + size) of the previous command's kept output. */
export function outputChunkCommand(offset: number, size: number = OUTPUT_CHUNK_SIZE): string {
  return `_dbxr.output_chunk(${Math.max(0, Math.trunc(offset))}, ${Math.max(0, Math.trunc(size))})`;
}

export interface OutputChunk {
  /** Bytes of the kept copy (UTF-8, stdout and stderr in write order, a cut marker included). */
  total: number;
  offset: number;
  bytes: Uint8Array;
  /** True when the command printed more than `_dbxr.max_bytes` and the middle was dropped. */
  cut: boolean;
}

/** Parses the text result of {@link outputChunkCommand}: its last line that is the chunk's JSON
 * (another thread of the user's may print around it). Null when there is none. */
export function parseOutputChunk(text: string): OutputChunk | null {
  const lines = text.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i].trim();
    if (!line.startsWith('{"total":')) continue;
    try {
      const v = JSON.parse(line);
      if (
        Number.isSafeInteger(v.total) && Number.isSafeInteger(v.offset) && typeof v.data === "string" &&
        typeof v.cut === "boolean"
      ) {
        return { total: v.total, offset: v.offset, bytes: fromBase64(v.data), cut: v.cut };
      }
    } catch { /* not ours */ }
  }
  return null;
}

/** The version in a {@link PING_COMMAND} result, or null. */
export function parsePing(text: string): string | null {
  const m = /^dbxr-bootstrap (\S+)$/m.exec(text);
  return m ? m[1] : null;
}

export interface KeptOutput {
  /** The kept bytes, or their first `maxBytes` when there were more. */
  bytes: Uint8Array;
  /** Size of the whole kept copy. */
  total: number;
  cut: boolean;
  /** False when `maxBytes` stopped the paging early. */
  complete: boolean;
}

/**
 * Pages through the previous command's kept output with as many follow-ups as it takes. `run` sends one
 * command to the same context and resolves with its text result, or null when the command failed (no
 * bootstrap there, say). The follow-ups do not replace what they read, so this can be retried.
 */
export async function readKeptOutput(
  run: (command: string) => Promise<string | null>,
  options: { maxBytes?: number; chunkSize?: number } = {},
): Promise<KeptOutput | null> {
  const chunkSize = options.chunkSize ?? OUTPUT_CHUNK_SIZE; // the bootstrap serves at most _dbxr.max_chunk
  const maxBytes = options.maxBytes ?? Infinity;
  const parts: Uint8Array[] = [];
  let offset = 0;
  let total = 0;
  let cut = false;
  do {
    const text = await run(outputChunkCommand(offset, Math.min(chunkSize, maxBytes - offset)));
    const chunk = text === null ? null : parseOutputChunk(text);
    if (!chunk || chunk.offset !== offset) return null;
    total = chunk.total;
    cut = chunk.cut;
    if (chunk.bytes.length === 0) break; // the copy cannot shrink, but never loop on nothing
    parts.push(chunk.bytes);
    offset += chunk.bytes.length;
  } while (offset < total && offset < maxBytes);
  const bytes = new Uint8Array(offset);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return { bytes, total, cut, complete: offset >= total };
}

function fromBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
