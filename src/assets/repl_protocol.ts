// The TypeScript side of the REPL bootstrap (repl_bootstrap.py): the command that `dbxr create` injects,
// and the small commands that dbxr sends afterwards to read what the bootstrap keeps. See README.md here.

import BOOTSTRAP_SOURCE from "./repl_bootstrap_py.ts";

/** The command to run once in a new execution context; it prints nothing and can be sent again. */
export { BOOTSTRAP_SOURCE };

/** `_dbxr.version` of the bootstrap in this build (a unit test keeps the two equal). */
export const BOOTSTRAP_VERSION = "2";

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
  return lastChunkLine(
    text,
    (v) =>
      Number.isSafeInteger(v.total) && Number.isSafeInteger(v.offset) && typeof v.data === "string" &&
        typeof v.cut === "boolean"
        ? { total: v.total, offset: v.offset, bytes: fromBase64(v.data), cut: v.cut }
        : null,
  );
}

/**
 * The last line of a helper command's output that is its chunk JSON (`{"total":…}`) and that `accept`
 * takes: the user's other threads may print around it. Null when there is none.
 */
// deno-lint-ignore no-explicit-any
function lastChunkLine<T>(text: string, accept: (v: any) => T | null): T | null {
  const lines = text.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i].trim();
    if (!line.startsWith('{"total":')) continue;
    try {
      const r = accept(JSON.parse(line));
      if (r !== null) return r;
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

// ---------------------------------------------------------------------------------------------------
// The compressed follow-up (bootstrap version 2): the END of the copy, in as few round trips as zlib allows.

/** The follow-up that prints the compressed slice [offset, offset + n) of the copy; a negative offset
 * counts from the end. n is as large as fits one line of `_dbxr.max_zline` characters. */
export function outputZChunkCommand(offset: number, size?: number): string {
  const o = Math.trunc(offset);
  return size === undefined
    ? `_dbxr.output_zchunk(${o})`
    : `_dbxr.output_zchunk(${o}, ${Math.max(0, Math.trunc(size))})`;
}

/**
 * The first follow-up of {@link readKeptTail}: the compressed tail, or, from a version-1 bootstrap,
 * the plain chunk that gives the copy's size. One command either way: a follow-up that failed (a
 * missing method) would count as a command of the user's and replace the copy it came to read.
 */
export function firstTailCommand(maxBytes: number): string {
  return `${outputZChunkCommand(-Math.max(1, Math.trunc(maxBytes)))} if hasattr(_dbxr, "output_zchunk") ` +
    `else ${outputChunkCommand(0, 0)}`;
}

export interface OutputZChunk {
  total: number;
  offset: number;
  /** Raw bytes in `z` once inflated. */
  n: number;
  /** zlib stream (RFC 1950). */
  z: Uint8Array;
  cut: boolean;
  /** Bytes the command wrote in all (more than `total` when the bootstrap cut the middle). */
  written: number;
}

/** Parses the text result of {@link outputZChunkCommand} (its last line that is the chunk's JSON). */
export function parseOutputZChunk(text: string): OutputZChunk | null {
  return lastChunkLine(
    text,
    (v) =>
      Number.isSafeInteger(v.total) && Number.isSafeInteger(v.offset) && Number.isSafeInteger(v.n) &&
        typeof v.z === "string" && typeof v.cut === "boolean" && Number.isSafeInteger(v.written)
        ? { total: v.total, offset: v.offset, n: v.n, z: fromBase64(v.z), cut: v.cut, written: v.written }
        : null,
  );
}

async function inflate(z: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([z as BlobPart]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export interface KeptTail {
  /** The last bytes of the copy (at most maxBytes, starting on a UTF-8 character boundary). */
  bytes: Uint8Array;
  /** Where `bytes` start in the copy (0 when the whole copy came back). */
  start: number;
  /** Size of the whole copy. */
  total: number;
  /** The bootstrap dropped the middle of what the command wrote (its marker is in the copy). */
  cut: boolean;
  /** What the command wrote in all; `total` when the bootstrap does not say (version 1). */
  written: number;
  /** Follow-up commands that it took. */
  requests: number;
}

/**
 * The END of the previous command's kept copy: its last `maxBytes` bytes (the part that an agent needs:
 * what led to the error). Uses the compressed follow-up, and the plain one of bootstrap version 1 when
 * the context has an older bootstrap. `run` as in {@link readKeptOutput}.
 */
export async function readKeptTail(
  run: (command: string) => Promise<string | null>,
  maxBytes: number,
): Promise<KeptTail | null> {
  let requests = 0;
  const ask = async (command: string) => {
    requests++;
    return await run(command);
  };
  const parts: Uint8Array[] = [];
  let first = await ask(firstTailCommand(maxBytes));
  let chunk = first === null ? null : parseOutputZChunk(first);
  if (chunk) {
    const start = chunk.offset;
    const { total, cut, written } = chunk;
    let offset = start;
    for (;;) {
      const raw = await inflate(chunk.z);
      if (chunk.offset !== offset || raw.length !== chunk.n) return null;
      if (raw.length === 0 && offset < total) return null; // never loop on nothing
      parts.push(raw);
      offset += raw.length;
      if (offset >= total) break;
      first = await ask(outputZChunkCommand(offset));
      chunk = first === null ? null : parseOutputZChunk(first);
      if (!chunk || chunk.total !== total) return null;
    }
    return alignTail({ bytes: concat(parts), start, total, cut, written, requests });
  }
  // Bootstrap version 1: the first follow-up gave the size; page through the end in plain chunks.
  const sized = first === null ? null : parseOutputChunk(first);
  if (!sized) return null;
  const start = Math.max(0, sized.total - maxBytes);
  let offset = start;
  while (offset < sized.total) {
    const text = await ask(outputChunkCommand(offset, OUTPUT_CHUNK_MAX));
    const c = text === null ? null : parseOutputChunk(text);
    if (!c || c.offset !== offset || c.bytes.length === 0) return null;
    parts.push(c.bytes);
    offset += c.bytes.length;
  }
  return alignTail({
    bytes: concat(parts),
    start,
    total: sized.total,
    cut: sized.cut,
    written: sized.total,
    requests,
  });
}

/** Moves a tail that starts inside a UTF-8 character to the start of the next one. */
function alignTail(t: KeptTail): KeptTail {
  if (t.start === 0) return t;
  let k = 0;
  while (k < t.bytes.length && k < 3 && (t.bytes[k] & 0xC0) === 0x80) k++;
  return k === 0 ? t : { ...t, bytes: t.bytes.subarray(k), start: t.start + k };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
