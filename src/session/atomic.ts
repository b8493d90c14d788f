// Atomic file replacement: readers see the old file or the new one, never a half-written one, and
// a crash (kill -9, power loss) cannot leave an empty session.json behind.

import { basename, dirname, join } from "../paths.ts";
import { mark } from "../trace.ts";

const encoder = new TextEncoder();

/**
 * Writes `data` to a temp file beside `path`, fsyncs it, renames it over `path`, then fsyncs the dir.
 * `mode` is the file's POSIX mode (0o600 for files holding secrets); the rename replaces the old mode too.
 * A string is written as UTF-8 piece by piece, never encoded whole (a 20 MiB output would otherwise be held
 * twice: as text and as bytes); a list of byte pieces one after the other, never joined. Returns the number
 * of bytes written.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array | readonly Uint8Array[],
  opts: { mode?: number } = {},
): Promise<number> {
  const dir = dirname(path);
  mark(`write:${basename(path)}`);
  // Same directory, so that rename() never crosses a file system; a leading dot keeps it out of the
  // `NNN_` scan of repl_outputs/ and out of sight in listings.
  const tmp = join(dir, `.${basename(path)}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`);
  const file = await Deno.open(tmp, {
    write: true,
    createNew: true,
    ...(opts.mode !== undefined ? { mode: opts.mode } : {}),
  });
  // The umask applies at creation; set the mode itself so that 0o600 is 0o600 (no-op on Windows).
  if (opts.mode !== undefined && Deno.build.os !== "windows") await Deno.chmod(tmp, opts.mode);
  let written = 0;
  try {
    try {
      if (typeof data === "string") written = await writeText(file, data);
      else if (data instanceof Uint8Array) written = await writeAll(file, data);
      else for (const piece of data) written += await writeAll(file, piece);
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  await syncDir(dir);
  mark("write:done");
  return written;
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<number> {
  let off = 0;
  while (off < bytes.length) off += await file.write(bytes.subarray(off));
  return bytes.length;
}

/** UTF-16 code units per piece: at most 3 UTF-8 bytes each, so a piece always fits in the 192 KiB buffer. */
const PIECE = 64 * 1024;

/** Writes text as UTF-8 through one reused buffer; a piece never ends inside a surrogate pair. */
async function writeText(file: Deno.FsFile, text: string): Promise<number> {
  if (text.length <= PIECE) return await writeAll(file, encoder.encode(text));
  const buf = new Uint8Array(PIECE * 3);
  let total = 0;
  for (let pos = 0; pos < text.length;) {
    let end = Math.min(text.length, pos + PIECE);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    const { written } = encoder.encodeInto(text.slice(pos, end), buf);
    total += await writeAll(file, buf.subarray(0, written));
    pos = end;
  }
  return total;
}

/** Makes the rename itself durable. Best effort: Windows cannot open a directory as a file. */
async function syncDir(dir: string): Promise<void> {
  let d: Deno.FsFile | undefined;
  try {
    d = await Deno.open(dir, { read: true });
    await d.sync();
  } catch {
    // Not supported here; the rename is still atomic, only its durability across power loss is weaker.
  } finally {
    d?.close();
  }
}

/**
 * Writes `data` under `rel` (relative to `root`) without ever replacing a different file that is already
 * there: the same content is left as it is; other content makes the name `<stem>.1<ext>`, `.2`… Returns the
 * relative path used. Outputs are evidence (a job's log from an earlier emulator or workspace whose ids
 * repeat); losing one to a name clash is never right.
 */
export async function writeFileKeepingOthers(
  root: string,
  rel: string,
  data: string | Uint8Array,
): Promise<string> {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  const dot = rel.lastIndexOf(".");
  const slash = rel.lastIndexOf("/");
  const [stem, ext] = dot > slash + 1 ? [rel.slice(0, dot), rel.slice(dot)] : [rel, ""];
  for (let n = 0;; n++) {
    const candidate = n === 0 ? rel : `${stem}.${n}${ext}`;
    let existing: Uint8Array;
    try {
      existing = await Deno.readFile(join(root, candidate));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      await writeFileAtomic(join(root, candidate), bytes);
      return candidate;
    }
    if (sameBytes(existing, bytes)) return candidate;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
