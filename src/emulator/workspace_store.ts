// The workspace tree of the fake workspace (docs/databricks-behaviour.md §5.1): directories, notebooks and
// files kept in memory, keyed by their canonical path. "/Workspace/Users/x" and "/Users/x" name the same
// object, as on Databricks (the FUSE path on a cluster is /Workspace/<path>). The routes live in
// workspace.ts; other modules (the jobs runner) read the tree through the WorkspaceFiles interface.

import { createRng, type Rng } from "./random.ts";

export type WorkspaceObjectType = "DIRECTORY" | "NOTEBOOK" | "FILE";
export type NotebookLanguage = "PYTHON" | "SQL" | "SCALA" | "R";

/** One object as other modules see it; `bytes` is the content of files and the source of notebooks. */
export interface WorkspaceObject {
  /** Canonical path: absolute, without the /Workspace prefix, no trailing slash ("/" for the root). */
  path: string;
  object_type: WorkspaceObjectType;
  object_id: number;
  /** Notebooks only. */
  language?: NotebookLanguage;
  bytes?: Uint8Array;
  created_at: number;
  modified_at: number;
}

/** What the jobs runner (and any module) may read of the workspace tree. */
export interface WorkspaceFiles {
  /** The object at a path (with or without /Workspace), or undefined. */
  get(path: string): WorkspaceObject | undefined;
  /** Every object strictly below a directory (recursive), sorted by path; [] when it is not a directory. */
  list(prefix: string): WorkspaceObject[];
  /**
   * Writes the tree below `root` (default "/") into the local directory `dir`, the way the /Workspace FUSE
   * mount shows it: /Users/x/a.py becomes `${dir}/Users/x/a.py`. Notebooks are written at their own path
   * (no extension added) with their source. Nothing is deleted: give it a fresh directory.
   */
  materialize(dir: string, root?: string): Promise<void>;
  /** Incremented on every change, so a reader can tell whether its materialized copy is stale. */
  readonly generation: number;
}

const WORKSPACE_PREFIX = "/Workspace";

/**
 * The canonical form of a workspace path, or undefined when it is not an absolute path. `/Workspace` and
 * `/Workspace/...` drop the prefix; repeated and trailing slashes go.
 */
export function canonicalPath(raw: string): string | undefined {
  if (!raw.startsWith("/")) return undefined;
  let p = raw.replace(/\/+/g, "/");
  if (p.length > 1) p = p.replace(/\/$/, "");
  if (p === WORKSPACE_PREFIX) return "/";
  if (p.startsWith(WORKSPACE_PREFIX + "/")) p = p.slice(WORKSPACE_PREFIX.length);
  if (p.split("/").some((seg) => seg === "." || seg === "..")) return undefined;
  return p;
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

export class WorkspaceStore implements WorkspaceFiles {
  #objects = new Map<string, WorkspaceObject>();
  #rng: Rng;
  #nextId = 0;
  #generation = 0;

  constructor(
    private readonly opts: {
      seed: number;
      now: () => number;
      /** Home folders to create (user names: e-mail of the user, application id of the service principal). */
      homes: () => string[];
      /** Subscribes to the workspace reset (the control API), which brings the seed tree back. */
      onReset?: (listener: () => void) => void;
    },
  ) {
    this.#rng = createRng(opts.seed, "workspace-objects");
    this.#seed();
    opts.onReset?.(() => this.#seed());
  }

  #seed(): void {
    this.#objects.clear();
    this.#rng = createRng(this.opts.seed, "workspace-objects");
    // Object ids look like Databricks' (15-16 digits) and grow, so that a later object has a larger id.
    this.#nextId = 1_000_000_000_000_000 + this.#rng.int(900_000_000) * 1_000_000;
    const at = this.opts.now();
    this.#put({ path: "/", object_type: "DIRECTORY" }, at);
    for (const dir of ["/Users", "/Shared", ...this.opts.homes().map((u) => `/Users/${u}`)]) {
      this.#put({ path: dir, object_type: "DIRECTORY" }, at);
    }
    this.#generation++;
  }

  get generation(): number {
    return this.#generation;
  }

  get(path: string): WorkspaceObject | undefined {
    const p = canonicalPath(path);
    return p === undefined ? undefined : this.#objects.get(p);
  }

  /** Direct children of a directory, sorted by path. */
  children(dir: string): WorkspaceObject[] {
    const prefix = dir === "/" ? "/" : dir + "/";
    return [...this.#objects.values()]
      .filter((o) =>
        o.path !== "/" && o.path.startsWith(prefix) && !o.path.slice(prefix.length).includes("/")
      )
      .sort((a, b) => a.path < b.path ? -1 : 1);
  }

  list(prefix: string): WorkspaceObject[] {
    const dir = this.get(prefix);
    if (!dir || dir.object_type !== "DIRECTORY") return [];
    const start = dir.path === "/" ? "/" : dir.path + "/";
    return [...this.#objects.values()]
      .filter((o) => o.path !== "/" && o.path.startsWith(start))
      .sort((a, b) => a.path < b.path ? -1 : 1);
  }

  /** Creates or replaces the object at a canonical path (the caller has checked the rules). */
  put(
    o: { path: string; object_type: WorkspaceObjectType; language?: NotebookLanguage; bytes?: Uint8Array },
  ) {
    this.#generation++;
    return this.#put(o, this.opts.now());
  }

  #put(
    o: { path: string; object_type: WorkspaceObjectType; language?: NotebookLanguage; bytes?: Uint8Array },
    at: number,
  ): WorkspaceObject {
    const old = this.#objects.get(o.path);
    // Replacing content keeps the object (its id and creation time), as an overwrite does on Databricks.
    const keep = old && old.object_type === o.object_type;
    const obj: WorkspaceObject = {
      path: o.path,
      object_type: o.object_type,
      object_id: keep ? old.object_id : this.#nextId++,
      ...(o.language ? { language: o.language } : {}),
      ...(o.bytes ? { bytes: o.bytes } : {}),
      created_at: keep ? old.created_at : at,
      modified_at: at,
    };
    this.#objects.set(o.path, obj);
    return obj;
  }

  /** Removes an object and everything below it. */
  remove(path: string): void {
    const prefix = path === "/" ? "/" : path + "/";
    for (const key of [...this.#objects.keys()]) {
      if (key === path || key.startsWith(prefix)) this.#objects.delete(key);
    }
    this.#generation++;
  }

  async materialize(dir: string, root = "/"): Promise<void> {
    const top = this.get(root);
    if (!top) return;
    const objects = top.object_type === "DIRECTORY" ? [top, ...this.list(root)] : [top];
    const local = (p: string) => `${dir.replace(/\/+$/, "")}${p === "/" ? "" : p}`;
    for (const o of objects) {
      if (o.object_type === "DIRECTORY") await Deno.mkdir(local(o.path), { recursive: true });
      else {
        await Deno.mkdir(local(parentOf(o.path)), { recursive: true });
        await Deno.writeFile(local(o.path), o.bytes ?? new Uint8Array());
      }
    }
  }
}
