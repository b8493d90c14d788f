// Upload a local file or tree into the workspace as workspace FILES, never notebooks: every byte goes through
// workspace-files/import-file, because `workspace import --language PYTHON` makes a NOTEBOOK that a
// spark_python_task cannot read ("Cannot read the python file", the seed's trap).
//
// Unchanged files are not sent twice. A tree upload keeps a manifest, `.dbxr-manifest.json`, in the remote
// root: per relative path the SHA-256 and size that were uploaded and the `modified_at` the workspace gave the
// file. A file is skipped when its local hash matches the manifest and the remote object still has that size
// and modified_at (so a change made by anyone else is noticed). Without a matching entry (a single-file upload,
// a lost manifest, a file changed remotely) a remote file of the same size is exported and hashed: identical
// content is skipped too. A different remote file is replaced only with `overwrite`; a notebook or folder in
// the way is always an error, since import-file cannot replace it.
//
// The decisions are a pure function (decide); the IO around them plans everything first and uploads only
// when nothing conflicts, so a refused upload leaves the workspace as it was.

import { basename, isAbsolute, join, relative } from "node:path";
import type { ApiClient } from "../api/http.ts";
import * as ws from "../api/workspace.ts";
import type { ObjectInfo } from "../api/workspace.ts";
import type { Ctx } from "../ctx.ts";
import { DbxrError, isDbxrError } from "../errors.ts";
import { fusePath, joinRemote, normalizeRemotePath, remoteBaseName, remoteParent } from "./paths.ts";
import { shellQuote } from "../shell.ts";

export const MANIFEST_NAME = ".dbxr-manifest.json";
/** Directories never uploaded: VCS data, caches, virtual environments. */
export const EXCLUDED_DIRS: readonly string[] = [".git", "__pycache__", ".venv", "node_modules"];
const CONCURRENCY = 4;

export interface UploadOptions {
  /** Replace remote files whose content differs. */
  overwrite?: boolean;
}

export interface UploadedFile {
  /** API path (without /Workspace). */
  path: string;
  size: number;
  action: "created" | "overwritten";
}

export interface SkippedFile {
  path: string;
  reason: "unchanged";
}

export interface UploadResult {
  /** The target: the remote folder of a tree, or the remote file (API form). */
  remote: string;
  /** The same as a cluster sees it (/Workspace/...). */
  fuse_path: string;
  kind: "file" | "directory";
  uploaded: UploadedFile[];
  skipped: SkippedFile[];
  /** Local files and folders left out (.git, __pycache__, .venv, node_modules, *.pyc). */
  excluded: number;
  /** Symbolic links in the tree that point outside it (or nowhere): never followed, never uploaded. */
  links_outside: string[];
}

export type UploadItem =
  | { local: string; remote: string }
  /** In-memory content written as one remote file (e.g. a wrapper script). */
  | { content: string | Uint8Array; remote: string };

// ---------------------------------------------------------------------------------------------------------
// The pure core.

export interface ManifestEntry {
  sha256: string;
  size: number;
  modified_at?: number;
}

export interface Manifest {
  version: 1;
  files: Record<string, ManifestEntry>;
}

export type Decision =
  | "create"
  | "skip"
  /** Same size, no trustworthy manifest entry: export and compare hashes. */
  | "verify"
  | "overwrite"
  /** A different file is there and overwrite was not asked for. */
  | "conflict"
  /** A notebook (or folder, or other object) is at the path: import-file cannot replace it. */
  | "blocked";

export function decide(
  local: { sha256: string; size: number },
  remote: ObjectInfo | undefined,
  entry: ManifestEntry | undefined,
  overwrite: boolean,
): Decision {
  if (!remote) return "create";
  if (remote.object_type !== "FILE") return "blocked";
  if (
    entry && entry.sha256 === local.sha256 && entry.size === local.size && remote.size === entry.size &&
    remote.modified_at === entry.modified_at
  ) return "skip";
  if (remote.size === undefined || remote.size === local.size) return "verify";
  return overwrite ? "overwrite" : "conflict";
}

/** After an export: identical bytes are skipped, different ones follow the overwrite rule. */
export function decideAfterVerify(same: boolean, overwrite: boolean): Decision {
  return same ? "skip" : overwrite ? "overwrite" : "conflict";
}

export function parseManifest(text: string): Manifest {
  try {
    const v = JSON.parse(text);
    if (v?.version === 1 && typeof v.files === "object" && v.files !== null) {
      const files: Record<string, ManifestEntry> = {};
      for (const [k, e] of Object.entries(v.files as Record<string, Partial<ManifestEntry>>)) {
        if (typeof e?.sha256 === "string" && typeof e.size === "number") {
          files[k] = {
            sha256: e.sha256,
            size: e.size,
            ...(typeof e.modified_at === "number" ? { modified_at: e.modified_at } : {}),
          };
        }
      }
      return { version: 1, files };
    }
  } catch {
    // A damaged manifest only costs a verification per file.
  }
  return { version: 1, files: {} };
}

export function isExcluded(name: string, isDirectory: boolean): boolean {
  return isDirectory ? EXCLUDED_DIRS.includes(name) : name.endsWith(".pyc") || name === MANIFEST_NAME;
}

export async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// ---------------------------------------------------------------------------------------------------------
// Local side.

interface LocalFile {
  /** Relative to the remote base, "/"-separated. */
  rel: string;
  read: () => Promise<Uint8Array<ArrayBuffer>>;
  size: number;
  sha256: string;
}

interface LocalTree {
  files: LocalFile[];
  /** Folders relative to the base ("" is the base itself), parents first. */
  dirs: string[];
  excluded: number;
  /** Relative paths of symlinks that lead out of the tree (or nowhere). */
  linksOutside: string[];
}

async function statLocal(path: string): Promise<Deno.FileInfo> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new DbxrError("FileNotFound", `Local path ${path} does not exist.`, { details: { path } });
    }
    throw e;
  }
}

async function localFile(rel: string, abs: string): Promise<LocalFile> {
  const read = () => Deno.readFile(abs);
  const bytes = await read();
  return { rel, read, size: bytes.length, sha256: await sha256Hex(bytes) };
}

function memoryFile(rel: string, content: string | Uint8Array): Promise<LocalFile> {
  const bytes = typeof content === "string" ? new TextEncoder().encode(content) : new Uint8Array(content);
  return sha256Hex(bytes).then((sha256) => ({
    rel,
    read: () => Promise.resolve(bytes),
    size: bytes.length,
    sha256,
  }));
}

/**
 * The files of a local tree, sorted. A symlink to a file inside the tree is followed; one that leads out of
 * it (an uploaded tree must never carry ~/.ssh or a secret from elsewhere) or nowhere is skipped and
 * reported; symlinks to folders are not followed (loops).
 */
async function walk(root: string): Promise<LocalTree> {
  const tree: LocalTree = { files: [], dirs: [""], excluded: 0, linksOutside: [] };
  const realRoot = await Deno.realPath(root);
  const visit = async (absDir: string, relDir: string) => {
    const entries: Deno.DirEntry[] = [];
    for await (const e of Deno.readDir(absDir)) entries.push(e);
    entries.sort((a, b) => a.name < b.name ? -1 : 1);
    for (const e of entries) {
      const abs = join(absDir, e.name);
      const rel = relDir ? `${relDir}/${e.name}` : e.name;
      let isDir = e.isDirectory;
      let isFile = e.isFile;
      if (e.isSymlink) {
        const real = await Deno.realPath(abs).catch(() => undefined);
        const target = real === undefined ? undefined : await Deno.stat(real).catch(() => undefined);
        isDir = false;
        isFile = target?.isFile ?? false;
        if (real === undefined || !isInside(real, realRoot)) {
          tree.linksOutside.push(rel);
          continue;
        }
      }
      if (isExcluded(e.name, isDir)) {
        tree.excluded++;
        continue;
      }
      if (isDir) {
        tree.dirs.push(rel);
        await visit(abs, rel);
      } else if (isFile) {
        tree.files.push(await localFile(rel, abs));
      }
    }
  };
  await visit(root, "");
  return tree;
}

// ---------------------------------------------------------------------------------------------------------
// Remote side.

/** The remote objects under the base, folder by folder: only folders that exist are listed. */
async function listRemote(
  client: ApiClient,
  base: string,
  baseExists: boolean,
  dirs: string[],
): Promise<{ objects: Map<string, ObjectInfo>; existingDirs: Set<string> }> {
  const objects = new Map<string, ObjectInfo>();
  const existingDirs = new Set<string>();
  if (!baseExists) return { objects, existingDirs };
  existingDirs.add("");
  for (const rel of dirs) {
    if (!existingDirs.has(rel)) continue; // its parent listing did not show it: nothing below exists
    for (const o of await ws.list(client, joinRemote(base, rel))) {
      const childRel = rel ? `${rel}/${remoteBaseName(o.path)}` : remoteBaseName(o.path);
      objects.set(childRel, o);
      if (o.object_type === "DIRECTORY") existingDirs.add(childRel);
    }
  }
  return { objects, existingDirs };
}

async function readManifest(client: ApiClient, base: string): Promise<Manifest> {
  try {
    return parseManifest(
      new TextDecoder().decode(await ws.exportBytes(client, joinRemote(base, MANIFEST_NAME))),
    );
  } catch (e) {
    if (isDbxrError(e)) return { version: 1, files: {} };
    throw e;
  }
}

async function remoteSha(client: ApiClient, path: string): Promise<string | undefined> {
  try {
    return await sha256Hex(new Uint8Array(await ws.exportBytes(client, path)));
  } catch (e) {
    // Too large to export (10 MB) or unreadable: treat it as different, so overwrite decides.
    if (isDbxrError(e)) return undefined;
    throw e;
  }
}

async function pool<T>(items: T[], n: number, f: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await f(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

/** mkdirs only where no missing descendant will create the folder anyway (mkdirs is mkdir -p). */
function leafDirs(missing: string[]): string[] {
  return missing.filter((d) => !missing.some((o) => o !== d && (d === "" || o.startsWith(d + "/"))));
}

async function mkdirsOrExplain(client: ApiClient, path: string): Promise<void> {
  try {
    await ws.mkdirs(client, path);
  } catch (e) {
    if (isDbxrError(e) && e.details.error_code === "RESOURCE_ALREADY_EXISTS") {
      throw new DbxrError(
        "InvalidArgument",
        `Cannot create the folder ${path}: a file or notebook is in the way (${e.message}).`,
        { hint: `dbxr workspace get-status ${shellQuote(remoteParent(path))}`, details: e.details },
      );
    }
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------------------
// The service.

interface Target {
  base: string;
  remote: string;
  kind: "file" | "directory";
  baseExists: boolean;
  tree: LocalTree;
  useManifest: boolean;
}

async function resolveTarget(
  client: ApiClient,
  source: { local: string } | { content: string | Uint8Array },
  rawRemote: string,
): Promise<Target> {
  const remote = normalizeRemotePath(rawRemote);
  const info = "local" in source ? await statLocal(source.local) : undefined;
  const existing = await ws.getStatusOrUndefined(client, remote);
  if (info?.isDirectory) {
    if (existing && existing.object_type !== "DIRECTORY") {
      throw new DbxrError(
        "InvalidArgument",
        `${remote} is a ${existing.object_type}, not a folder: a folder upload needs a folder there.`,
        {
          hint: `dbxr workspace get-status ${shellQuote(remote)}`,
          details: { path: remote, object_type: existing.object_type },
        },
      );
    }
    const local = (source as { local: string }).local;
    return {
      base: remote,
      remote,
      kind: "directory",
      baseExists: existing !== undefined,
      tree: await walk(local),
      useManifest: true,
    };
  }
  // One file: into a folder under its own name when REMOTE is an existing folder or ends with "/", else at
  // exactly the remote path.
  const intoFolder = existing?.object_type === "DIRECTORY" ||
    (rawRemote.trim().endsWith("/") && remote !== "/");
  const name = intoFolder
    ? ("local" in source ? basename(source.local) : remoteBaseName(remote))
    : remoteBaseName(remote);
  const base = intoFolder ? remote : remoteParent(remote);
  const file = "local" in source
    ? await localFile(name, source.local)
    : await memoryFile(name, source.content);
  return {
    base,
    remote: joinRemote(base, name),
    kind: "file",
    baseExists: existing?.object_type === "DIRECTORY" ||
      (!intoFolder && (await ws.getStatusOrUndefined(client, base))?.object_type === "DIRECTORY"),
    tree: { files: [file], dirs: [""], excluded: 0, linksOutside: [] },
    useManifest: false,
  };
}

function conflictError(blocked: ObjectInfo[], conflicts: string[], command: string): DbxrError {
  if (blocked.length > 0) {
    const first = blocked[0];
    const notebooks = blocked.filter((o) => o.object_type === "NOTEBOOK").length;
    return new DbxrError(
      "InvalidArgument",
      `${blocked.length} path(s) already hold something that is not a workspace file, e.g. ${first.path} ` +
        `(a ${first.object_type}); it cannot be replaced by a file, even with --overwrite.` +
        (notebooks > 0
          ? " A notebook named like a .py file usually comes from `workspace import --language PYTHON`, and a " +
            'spark_python_task cannot run it ("Cannot read the python file"): remove it and upload again.'
          : ""),
      {
        hint: `dbxr workspace rm ${shellQuote(first.path)}${
          first.object_type === "DIRECTORY" ? " --recursive" : ""
        }`,
        details: { blocked: blocked.map((o) => ({ path: o.path, object_type: o.object_type })) },
      },
    );
  }
  return new DbxrError(
    "InvalidArgument",
    `${conflicts.length} remote file(s) differ from the local ones, e.g. ${
      conflicts[0]
    }; nothing was uploaded. ` +
      "Add --overwrite to replace them.",
    { hint: `${command} --overwrite`, details: { conflicts } },
  );
}

async function run(
  ctx: Ctx,
  client: ApiClient,
  t: Target,
  overwrite: boolean,
  command: string,
): Promise<UploadResult> {
  const { objects, existingDirs } = await listRemote(client, t.base, t.baseExists, t.tree.dirs);

  // Folders of the tree: a non-folder in the way is blocked; missing ones are created before the files.
  const blocked: ObjectInfo[] = [];
  for (const d of t.tree.dirs) {
    const o = d === "" ? undefined : objects.get(d);
    if (o && o.object_type !== "DIRECTORY") blocked.push(o);
  }
  const missingDirs = t.tree.dirs.filter((d) => !existingDirs.has(d) && !(d !== "" && objects.has(d)));

  const manifest = t.useManifest && objects.has(MANIFEST_NAME)
    ? await readManifest(client, t.base)
    : { version: 1 as const, files: {} };
  const decisions = new Map<string, Decision>();
  const toVerify: LocalFile[] = [];
  for (const f of t.tree.files) {
    const d = decide(f, objects.get(f.rel), manifest.files[f.rel], overwrite);
    decisions.set(f.rel, d);
    if (d === "verify") toVerify.push(f);
    if (d === "blocked") blocked.push(objects.get(f.rel)!);
  }
  await pool(toVerify, CONCURRENCY, async (f) => {
    const sha = await remoteSha(client, joinRemote(t.base, f.rel));
    decisions.set(f.rel, decideAfterVerify(sha === f.sha256, overwrite));
  });
  const conflicts = t.tree.files.filter((f) => decisions.get(f.rel) === "conflict").map((f) =>
    joinRemote(t.base, f.rel)
  );
  if (blocked.length > 0 || conflicts.length > 0) throw conflictError(blocked, conflicts, command);

  for (const d of leafDirs(missingDirs)) await mkdirsOrExplain(client, joinRemote(t.base, d));

  const uploaded: UploadedFile[] = [];
  const skipped: SkippedFile[] = [];
  const sent = new Map<string, { sha256: string; size: number }>();
  const toSend = t.tree.files.filter((f) => {
    const d = decisions.get(f.rel);
    if (d === "skip") skipped.push({ path: joinRemote(t.base, f.rel), reason: "unchanged" });
    return d === "create" || d === "overwrite";
  });
  await pool(toSend, CONCURRENCY, async (f) => {
    const path = joinRemote(t.base, f.rel);
    // Read again and hash what is actually sent: the file may have changed since it was planned.
    const bytes = await f.read();
    const replace = decisions.get(f.rel) === "overwrite";
    ctx.out.progress(`uploading ${fusePath(path)} (${bytes.length} bytes)`);
    await ws.importFile(client, path, bytes, { overwrite: replace });
    sent.set(f.rel, { sha256: await sha256Hex(bytes), size: bytes.length });
    uploaded.push({ path, size: bytes.length, action: replace ? "overwritten" : "created" });
  });
  uploaded.sort((a, b) => a.path < b.path ? -1 : 1);
  if (t.tree.linksOutside.length) {
    ctx.out.warn(
      `not uploaded: ${t.tree.linksOutside.length} symlink(s) pointing outside the folder or nowhere ` +
        `(${t.tree.linksOutside.slice(0, 5).join(", ")}${t.tree.linksOutside.length > 5 ? ", …" : ""}); ` +
        "copy the files into the folder to upload them",
    );
  }

  if (t.useManifest) {
    const listed = new Set(t.tree.dirs.filter((d) => existingDirs.has(d)));
    await writeManifest(ctx, client, t, manifest, { objects, listed }, sent, skipped);
  }
  return {
    remote: t.remote,
    fuse_path: fusePath(t.remote),
    kind: t.kind,
    uploaded,
    skipped,
    excluded: t.tree.excluded,
    links_outside: t.tree.linksOutside,
  };
}

function isInside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
}

/** Records what the workspace now holds; a failure here only costs verifications next time. */
async function writeManifest(
  ctx: Ctx,
  client: ApiClient,
  t: Target,
  old: Manifest,
  remote: { objects: Map<string, ObjectInfo>; listed: Set<string> },
  sent: Map<string, { sha256: string; size: number }>,
  skipped: SkippedFile[],
): Promise<void> {
  const before = remote.objects;
  const files: Record<string, ManifestEntry> = { ...old.files };
  const local = new Map(t.tree.files.map((f) => [f.rel, f]));
  // The new modified_at of what was sent: one list per folder that received files.
  const after = new Map<string, ObjectInfo>();
  const dirs = new Set(
    [...sent.keys()].map((rel) => rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : ""),
  );
  try {
    for (const d of dirs) {
      for (const o of await ws.list(client, joinRemote(t.base, d))) {
        after.set(d ? `${d}/${remoteBaseName(o.path)}` : remoteBaseName(o.path), o);
      }
    }
    for (const [rel, s] of sent) files[rel] = { ...s, modified_at: after.get(rel)?.modified_at };
    for (const s of skipped) {
      const rel = s.path.slice(t.base === "/" ? 1 : t.base.length + 1);
      const f = local.get(rel)!;
      files[rel] = { sha256: f.sha256, size: f.size, modified_at: before.get(rel)?.modified_at };
    }
    // Entries for files that are gone from a folder that was listed are dropped.
    for (const rel of Object.keys(files)) {
      const dir = rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : "";
      if (remote.listed.has(dir) && !before.has(rel) && !sent.has(rel)) delete files[rel];
    }
    const next: Manifest = { version: 1, files: Object.fromEntries(Object.entries(files).sort()) };
    if (
      JSON.stringify(next) ===
        JSON.stringify({ version: 1, files: Object.fromEntries(Object.entries(old.files).sort()) })
    ) {
      return;
    }
    const text = JSON.stringify(
      { ...next, note: "written by dbxr workspace upload; safe to delete" },
      null,
      1,
    );
    await ws.importFile(client, joinRemote(t.base, MANIFEST_NAME), new TextEncoder().encode(text), {
      overwrite: true,
    });
  } catch (e) {
    if (!isDbxrError(e)) throw e;
    ctx.out.warn(`could not update ${fusePath(joinRemote(t.base, MANIFEST_NAME))}: ${e.message}`);
  }
}

/**
 * `dbxr workspace upload LOCAL REMOTE`: a local folder goes into REMOTE (created with its parents); a local
 * file goes to REMOTE, or into it when REMOTE is an existing folder. Without `overwrite` a different remote
 * file is an error and nothing is uploaded.
 */
export async function upload(
  ctx: Ctx,
  client: ApiClient,
  local: string,
  remote: string,
  opts: UploadOptions = {},
): Promise<UploadResult> {
  const t = await resolveTarget(client, { local }, remote);
  const command = `dbxr workspace upload ${shellQuote(local)} ${shellQuote(remote)}`;
  return await run(ctx, client, t, opts.overwrite ?? false, command);
}

/**
 * Several uploads in order (the job runner's script, --include trees, a wrapper given as content). Unlike the
 * `workspace upload` command this overwrites by default: it is meant for dbxr's own staging folders.
 */
export async function uploadPaths(
  ctx: Ctx,
  client: ApiClient,
  items: UploadItem[],
  opts: UploadOptions = { overwrite: true },
): Promise<{ uploaded: UploadedFile[]; skipped: SkippedFile[]; results: UploadResult[] }> {
  const results: UploadResult[] = [];
  for (const item of items) {
    const t = await resolveTarget(client, item, item.remote);
    const label = "local" in item ? shellQuote(item.local) : "<content>";
    const command = `dbxr workspace upload ${label} ${shellQuote(item.remote)}`;
    results.push(await run(ctx, client, t, opts.overwrite ?? true, command));
  }
  return {
    uploaded: results.flatMap((r) => r.uploaded),
    skipped: results.flatMap((r) => r.skipped),
    results,
  };
}
