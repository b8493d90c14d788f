// A per-user registry of the execution contexts that dbxr created (~/.dbxr/contexts.jsonl), so that a
// garbage collector can later find contexts whose sessions were abandoned. Append-only JSON lines: a
// crash can lose at most the line being written, never the earlier ones. Best effort: a registry that
// cannot be written never fails the command.

import type { Ctx } from "../ctx.ts";
import { isoUtc } from "../session/time.ts";

export interface ContextRecord {
  host: string;
  cluster_id: string;
  context_id: string;
  project_dir: string;
  session_name: string;
  reason: "create" | "eviction";
}

export function registryPath(ctx: Ctx): string | undefined {
  const home = ctx.env("HOME") ?? ctx.env("USERPROFILE");
  return home ? `${home}/.dbxr/contexts.jsonl` : undefined;
}

export async function recordContext(ctx: Ctx, r: ContextRecord): Promise<void> {
  const path = registryPath(ctx);
  if (!path) return;
  try {
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    let projectDir = r.project_dir;
    try {
      projectDir = await Deno.realPath(r.project_dir);
    } catch { /* keep as given */ }
    const line = JSON.stringify({ ...r, project_dir: projectDir, created_at: isoUtc(ctx.now()) }) + "\n";
    await Deno.writeTextFile(path, line, { append: true, create: true });
  } catch (e) {
    ctx.out.warn(`could not record the context in the registry: ${(e as Error).message}`);
  }
}
