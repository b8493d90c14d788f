// A per-user registry of the execution contexts that dbxr created (~/.dbxr/contexts.jsonl), so that
// `dbxr repl gc` can later find contexts whose sessions were abandoned (API 1.2 cannot list contexts).
// JSON lines: a crash can lose at most the line being written, never the earlier ones. Appends and gc's
// rewrite hold `contexts.lock` so that a context recorded while gc runs is never dropped. Best effort
// for create: a registry that cannot be written never fails the command.

import type { Ctx } from "../ctx.ts";
import { writeFileAtomic } from "../session/atomic.ts";
import { isoUtc } from "../session/time.ts";

export interface ContextRecord {
  host: string;
  cluster_id: string;
  context_id: string;
  project_dir: string;
  session_name: string;
  reason: "create" | "eviction";
}

/** A line as read back: what recordContext wrote, plus `created_at`. */
export interface RegistryEntry extends ContextRecord {
  created_at: string;
}

export function registryPath(ctx: Ctx): string | undefined {
  const home = ctx.env("HOME") ?? ctx.env("USERPROFILE");
  return home ? `${home}/.dbxr/contexts.jsonl` : undefined;
}

const LOCK_WAIT_MS = 5000;

/** Runs fn holding `<registry>.lock`; after LOCK_WAIT_MS runs it anyway (never blocks a create). */
async function withRegistryLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  const file = await Deno.open(path.replace(/\.jsonl$/, ".lock"), { read: true, write: true, create: true });
  try {
    const deadline = performance.now() + LOCK_WAIT_MS;
    let locked = false;
    while (!(locked = await file.tryLock(true)) && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    try {
      return await fn();
    } finally {
      if (locked) await file.unlock();
    }
  } finally {
    file.close();
  }
}

export async function recordContext(ctx: Ctx, r: ContextRecord): Promise<void> {
  const path = registryPath(ctx);
  if (!path) return;
  try {
    let projectDir = r.project_dir;
    try {
      projectDir = await Deno.realPath(r.project_dir);
    } catch { /* keep as given */ }
    const line = JSON.stringify({ ...r, project_dir: projectDir, created_at: isoUtc(ctx.now()) }) + "\n";
    await withRegistryLock(path, () => Deno.writeTextFile(path, line, { append: true, create: true }));
  } catch (e) {
    ctx.out.warn(`could not record the context in the registry: ${(e as Error).message}`);
  }
}

export interface RegistryContent {
  entries: RegistryEntry[];
  /** Lines that are not a readable entry (a torn last line, hand edits): kept as they are. */
  unreadable: string[];
}

export function parseRegistry(text: string): RegistryContent {
  const entries: RegistryEntry[] = [];
  const unreadable: string[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const v = JSON.parse(line);
      const str = (k: string) => typeof v?.[k] === "string";
      if (["host", "cluster_id", "context_id", "project_dir"].every(str)) {
        entries.push({
          ...v,
          session_name: str("session_name") ? v.session_name : "",
          created_at: str("created_at") ? v.created_at : "",
        });
        continue;
      }
    } catch { /* not JSON */ }
    unreadable.push(line);
  }
  return { entries, unreadable };
}

export async function readRegistry(ctx: Ctx): Promise<RegistryContent & { path?: string }> {
  const path = registryPath(ctx);
  if (!path) return { entries: [], unreadable: [] };
  try {
    return { ...parseRegistry(await Deno.readTextFile(path)), path };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { entries: [], unreadable: [], path };
    throw e;
  }
}

/**
 * Drops the entries of the given contexts, atomically and under the lock: the file is read again
 * there, so entries appended since the caller read it are kept.
 */
export async function removeFromRegistry(ctx: Ctx, contextIds: ReadonlySet<string>): Promise<number> {
  const path = registryPath(ctx);
  if (!path || contextIds.size === 0) return 0;
  return await withRegistryLock(path, async () => {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return 0;
      throw e;
    }
    const keep: string[] = [];
    let removed = 0;
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      const id = parseRegistry(line).entries[0]?.context_id;
      if (id !== undefined && contextIds.has(id)) removed++;
      else keep.push(line);
    }
    if (removed > 0) await writeFileAtomic(path, keep.map((l) => l + "\n").join(""));
    return removed;
  });
}
