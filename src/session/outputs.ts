// A step's files on disk and the previews of exec responses. The `.cmd.*` file is written (and
// fsynced) before the command is submitted, so the code survives even kill -9; outputs are written
// atomically when the command has ended, whatever its status (failed, cancelled and truncated output
// is kept).

import { indexOfBytes, Utf8Chunks } from "../utf8.ts";
import { writeFileAtomic } from "./atomic.ts";
import { imageFile, OUTPUT_DIR, projectPath, type StepFiles } from "./files.ts";

export const DEFAULT_PREVIEW = 200;
/** What Databricks puts in place of text output past its size limit. */
export const TRUNCATION_MARKER = "*** WARNING: max output size exceeded, skipping output. ***";

/**
 * Output as the API gave it (a string, or a large output's UTF-8 bytes as they came: Utf8Chunks) or as raw
 * bytes; written as UTF-8.
 */
export type Content = string | Uint8Array | Utf8Chunks;

const encoder = new TextEncoder();
const decoder = new TextDecoder(); // not fatal: broken bytes become U+FFFD in previews, never a throw

const toText = (c: Content): string =>
  typeof c === "string" ? c : c instanceof Utf8Chunks ? c.text() : decoder.decode(c);

/** Size in bytes of the UTF-8 form (what `stdout_bytes` reports). */
export function byteLength(c: Content): number {
  return typeof c === "string" ? encoder.encode(c).length : c.byteLength;
}

/** What writeFileAtomic takes: a large output's pieces as they are. */
const toWritable = (c: Content) => c instanceof Utf8Chunks ? c.chunks : c;

async function ensureOutputDir(projectDir: string): Promise<void> {
  await Deno.mkdir(projectPath(projectDir, OUTPUT_DIR), { recursive: true });
}

/** Writes the step's code to `repl_outputs/NNN_slug.cmd.*`. Call it before submitting. */
export async function writeCommandFile(projectDir: string, files: StepFiles, code: string): Promise<void> {
  await ensureOutputDir(projectDir);
  await writeFileAtomic(projectPath(projectDir, files.cmd), code);
}

export interface StepOutputs {
  stdout?: Content;
  stderr?: Content;
  /** A table result (any JSON value), written to `.result.json`. */
  result?: unknown;
  /** Image results (PNG bytes): `.png`, `.2.png`, ... */
  images?: Uint8Array[];
}

export interface WrittenOutputs {
  stdout_file: string;
  stderr_file: string;
  stdout_bytes: number;
  stderr_bytes: number;
  /** `.result.json` for a table, else the first `.png`; relative to the project dir. */
  result_file?: string;
  image_files?: string[];
}

/**
 * Writes `.stdout` and `.stderr` (always, empty when there was none, as the seed did), and
 * `.result.json` / `.png` when given. Paths returned are relative to the project dir.
 */
export async function writeStepOutputs(
  projectDir: string,
  files: StepFiles,
  o: StepOutputs,
): Promise<WrittenOutputs> {
  await ensureOutputDir(projectDir);
  // Written from the text itself (the byte counts come from the write): no encoded copy of a large output.
  // Both at once: independent files, each atomic and fsynced; the caller records the step after both.
  const [stdoutBytes, stderrBytes] = await Promise.all([
    writeFileAtomic(projectPath(projectDir, files.stdout), toWritable(o.stdout ?? "")),
    writeFileAtomic(projectPath(projectDir, files.stderr), toWritable(o.stderr ?? "")),
  ]);
  const out: WrittenOutputs = {
    stdout_file: files.stdout,
    stderr_file: files.stderr,
    stdout_bytes: stdoutBytes,
    stderr_bytes: stderrBytes,
  };
  if (o.result !== undefined) {
    await writeFileAtomic(projectPath(projectDir, files.result_json), JSON.stringify(o.result) + "\n");
    out.result_file = files.result_json;
  }
  if (o.images && o.images.length > 0) {
    out.image_files = [];
    for (const [i, png] of o.images.entries()) {
      const rel = imageFile(files, i + 1);
      await writeFileAtomic(projectPath(projectDir, rel), png);
      out.image_files.push(rel);
    }
    out.result_file ??= out.image_files[0];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Previews. "Characters" are code points, as in the seed's Python slicing, so a cut never falls inside
// a surrogate pair (and, counted on decoded text, never inside a UTF-8 sequence).

const ELLIPSIS = "...";

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;
/** True when a surrogate pair (one code point) starts at index i. */
const pairAt = (s: string, i: number) => isHigh(s.charCodeAt(i)) && isLow(s.charCodeAt(i + 1));

/** The first `n` code points of `s` (all of it when shorter). Stops scanning after n: cheap on 20 MiB. */
export function cutCodePoints(s: string, n: number): string {
  if (s.length <= n) return s;
  let i = 0;
  for (let count = 0; i < s.length && count < n; count++) i += pairAt(s, i) ? 2 : 1;
  return s.slice(0, i);
}

/** The last `n` code points of `s`. */
function lastCodePoints(s: string, n: number): string {
  let i = s.length;
  for (let count = 0; i > 0 && count < n; count++) i -= i >= 2 && pairAt(s, i - 2) ? 2 : 1;
  return s.slice(i);
}

function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    if (pairAt(s, i)) {
      n--;
      i++;
    }
  }
  return n;
}

/** `stdout_preview`: the head of the output, `...` appended when cut (the seed's format). */
export function preview(content: Content, max = DEFAULT_PREVIEW): string {
  // Bytes (a large output): only their head is decoded. 4 bytes per code point at most, and a sequence cut
  // at the end is held back (stream), so that more than max whole code points are there and the cut is
  // certain. A leading U+FEFF is kept, as in the text that JSON.parse would have given.
  const enough = max * 4 + 8;
  const bytes = typeof content === "string"
    ? undefined
    : content instanceof Utf8Chunks
    ? content.head(enough)
    : content.subarray(0, enough);
  const text = bytes === undefined ? content as string : new TextDecoder("utf-8", { ignoreBOM: true })
    .decode(bytes, { stream: byteLength(content) > enough });
  const head = cutCodePoints(text, max);
  return head.length === text.length ? text : head + ELLIPSIS;
}

/** The end of a log (`logs_preview` of job run/output): its last `max` code points, `...` first when cut. */
export function tailPreview(content: Content, max = DEFAULT_PREVIEW): string {
  const text = stripAnsi(toText(content)).replace(/\r\n?/g, "\n");
  const tail = lastCodePoints(text, max);
  return tail.length === text.length ? text : ELLIPSIS + tail;
}

/** Removes ANSI escape sequences (the regex the Databricks Python SDK uses on tracebacks). */
export function stripAnsi(s: string): string {
  // deno-lint-ignore no-control-regex
  return s.replace(/(\x9B|\x1B\[)[0-?]*[ -/]*[@-~]/g, "");
}

/** True when the API dropped text output past its size limit. */
export function hasTruncationMarker(content: Content): boolean {
  if (typeof content === "string") return content.includes(TRUNCATION_MARKER);
  // The marker is ASCII, and in UTF-8 an ASCII byte only ever stands for itself: a byte search finds it.
  return content instanceof Utf8Chunks
    ? content.includes(MARKER_BYTES)
    : indexOfBytes(content, MARKER_BYTES) >= 0;
}

const MARKER_BYTES = encoder.encode(TRUNCATION_MARKER);

// `ValueError: ...`, `java.io.FileNotFoundException: ...`, a bare `KeyboardInterrupt`; not IPython's
// header line `ZeroDivisionError      Traceback (most recent call last)`.
const EXCEPTION_LINE = /^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)\b(?::|$)/;

/**
 * `stderr_preview`: what an agent needs from a traceback is its end (the exception and the frame that
 * raised it), not its head. The whole text, ANSI-stripped, when it fits; otherwise `...` and the last
 * whole lines that fit, always with the exception line (put first, before `...`, when output follows
 * it; alone, by its head, when it is longer than the preview). At most max + 3 code points.
 */
export function stderrPreview(content: Content, max = DEFAULT_PREVIEW): string {
  const text = stripAnsi(toText(content)).replace(/\r\n?/g, "\n").replace(/\s+$/, "");
  if (codePointLength(text) <= max) return text;
  const lines = text.split("\n");
  let ei = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (EXCEPTION_LINE.test(lines[i].trim())) {
      ei = i;
      break;
    }
  }
  const exc = ei >= 0 ? lines[ei] : "";
  const excLen = codePointLength(exc);
  // An exception line that alone fills the preview: its head names the exception type.
  if (ei >= 0 && excLen + ELLIPSIS.length + 1 >= max) return cutCodePoints(exc, max) + ELLIPSIS;

  /** The last whole lines within budget, after `...`; or the end of the last line when it alone is longer. */
  const tail = (budget: number): { text: string; from: number } => {
    const kept: string[] = [];
    let used = 0;
    let from = lines.length;
    for (let i = lines.length - 1; i >= 0; i--) {
      const cost = codePointLength(lines[i]) + (kept.length > 0 ? 1 : 0);
      if (used + cost > budget) break;
      kept.unshift(lines[i]);
      used += cost;
      from = i;
    }
    if (kept.length === 0) {
      return { text: ELLIPSIS + lastCodePoints(lines[lines.length - 1], budget), from: lines.length - 1 };
    }
    return { text: `${ELLIPSIS}\n${kept.join("\n")}`, from };
  };

  const plain = tail(max - ELLIPSIS.length - 1);
  if (ei < 0 || plain.from <= ei) return plain.text;
  return `${exc}\n${tail(max - excLen - ELLIPSIS.length - 2).text}`;
}
