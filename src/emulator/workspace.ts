// Workspace API 2.0 and workspace-files import (docs/databricks-behaviour.md §5.1): get-status, list, mkdirs,
// delete, import (JSON and multipart), import-file and export over the tree in workspace_store.ts. The FILE
// vs NOTEBOOK outcome of an import follows the reference's table exactly, because that is the trap the seed
// fell into: `workspace import --language PYTHON` makes a NOTEBOOK, which a spark_python_task cannot read.

import { apiError, EmulatorHttpError, invalidParameter } from "./errors.ts";
import { type EmuRequest, ok } from "./http.ts";
import type { Router } from "./router.ts";
import type { EmulatorModule, EmulatorState } from "./state.ts";
import {
  baseName,
  canonicalPath,
  type NotebookLanguage,
  parentOf,
  type WorkspaceObject,
  type WorkspaceStore,
} from "./workspace_store.ts";

/** Workspace import and export refuse more than 10 MB per item (MAX_NOTEBOOK_SIZE_EXCEEDED). */
export const MAX_IMPORT_BYTES = 10 * 1024 * 1024;

const FORMATS = ["SOURCE", "AUTO", "RAW", "HTML", "JUPYTER", "DBC", "R_MARKDOWN"] as const;
type ImportFormat = typeof FORMATS[number];
const LANGUAGES: readonly NotebookLanguage[] = ["PYTHON", "SQL", "SCALA", "R"];

/** The first line of a notebook exported as SOURCE, per language. */
const HEADERS: Record<NotebookLanguage, string> = {
  PYTHON: "# Databricks notebook source",
  SQL: "-- Databricks notebook source",
  SCALA: "// Databricks notebook source",
  R: "# Databricks notebook source",
};
const EXTENSIONS: Record<string, NotebookLanguage> = { py: "PYTHON", sql: "SQL", scala: "SCALA", r: "R" };
const FILE_TYPES: Record<NotebookLanguage, string> = { PYTHON: "py", SQL: "sql", SCALA: "scala", R: "r" };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const doesNotExist = (p: string) => apiError(404, "RESOURCE_DOES_NOT_EXIST", `Path (${p}) doesn't exist.`);
const parentMissing = (dir: string) =>
  apiError(404, "RESOURCE_DOES_NOT_EXIST", `The parent folder (${dir}) does not exist.`);
const alreadyExists = (p: string, status = 400) =>
  apiError(status, "RESOURCE_ALREADY_EXISTS", `Path (${p}) already exists.`);
const tooLarge = (verb: "imported" | "exported", n: number) =>
  apiError(
    400,
    "MAX_NOTEBOOK_SIZE_EXCEEDED",
    `File size ${verb} is (${n} bytes), exceeded max size (${MAX_IMPORT_BYTES} bytes)`,
  );

/** The object as ObjectInfo: notebooks carry a language, files a size, both their times. */
export function objectInfo(o: WorkspaceObject): Record<string, unknown> {
  return {
    object_type: o.object_type,
    path: o.path,
    object_id: o.object_id,
    resource_id: String(o.object_id),
    ...(o.language ? { language: o.language } : {}),
    ...(o.object_type === "FILE" ? { size: o.bytes?.length ?? 0 } : {}),
    ...(o.object_type !== "DIRECTORY" ? { created_at: o.created_at, modified_at: o.modified_at } : {}),
  };
}

/** A required absolute path; a relative one is refused rather than guessed at. */
function pathArg(raw: unknown): string {
  if (typeof raw !== "string" || raw === "") throw invalidParameter("Path must be specified.");
  const p = canonicalPath(raw);
  if (p === undefined) throw invalidParameter(`Path (${raw}) is not a valid absolute path.`);
  return p;
}

function boolArg(v: unknown): boolean {
  return v === true || v === "true";
}

function decodeBase64(content: string): Uint8Array {
  try {
    return Uint8Array.from(atob(content.replace(/\s+/g, "")), (c) => c.charCodeAt(0));
  } catch {
    throw invalidParameter("The content is not valid base64.");
  }
}

function encodeBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

interface ImportRequest {
  path: string;
  format: ImportFormat;
  language?: NotebookLanguage;
  content: Uint8Array;
  overwrite: boolean;
}

async function importRequest(req: EmuRequest): Promise<ImportRequest> {
  const type = req.headers.get("content-type") ?? "";
  let fields: Record<string, unknown>;
  let content: Uint8Array;
  if (type.toLowerCase().startsWith("multipart/form-data")) {
    // The SDKs' workspace.upload(): form fields plus a `content` file part.
    let form: FormData;
    try {
      form = await new Response(req.bytes.slice(), { headers: { "content-type": type } }).formData();
    } catch {
      throw invalidParameter("The multipart body could not be parsed.");
    }
    fields = Object.fromEntries([...form.entries()].filter(([k]) => k !== "content"));
    const part = form.get("content");
    content = part === null
      ? new Uint8Array()
      : typeof part === "string"
      ? encoder.encode(part)
      : new Uint8Array(await part.arrayBuffer());
  } else {
    fields = req.json();
    if (fields.content !== undefined && typeof fields.content !== "string") {
      throw invalidParameter("content must be a base64 string.");
    }
    content = decodeBase64((fields.content as string | undefined) ?? "");
  }
  const format = fields.format === undefined || fields.format === "" ? "SOURCE" : fields.format;
  if (!(FORMATS as readonly unknown[]).includes(format)) {
    throw invalidParameter(`Invalid format: ${format}. Valid formats: ${FORMATS.join(", ")}.`);
  }
  const language = fields.language === undefined || fields.language === "" ? undefined : fields.language;
  if (language !== undefined && !(LANGUAGES as readonly unknown[]).includes(language)) {
    throw invalidParameter(`Invalid language: ${language}. Valid languages: ${LANGUAGES.join(", ")}.`);
  }
  return {
    path: pathArg(fields.path),
    format: format as ImportFormat,
    language: language as NotebookLanguage | undefined,
    content,
    overwrite: boolArg(fields.overwrite),
  };
}

function startsWithHeader(content: Uint8Array, language: NotebookLanguage): boolean {
  const head = decoder.decode(content.subarray(0, 64)).replace(/^\uFEFF/, "");
  return head.startsWith(HEADERS[language]);
}

/** Where an import lands and as what: the FILE vs NOTEBOOK table of docs/databricks-behaviour.md §5.1. */
function importOutcome(r: ImportRequest): {
  path: string;
  object_type: "FILE" | "NOTEBOOK";
  language?: NotebookLanguage;
} {
  const ext = /\.([A-Za-z]+)$/.exec(baseName(r.path))?.[1];
  switch (r.format) {
    case "SOURCE":
      if (!r.language) {
        throw invalidParameter("The language must be specified when importing a notebook in SOURCE format.");
      }
      return { path: r.path, object_type: "NOTEBOOK", language: r.language };
    case "AUTO": {
      const lang = ext ? EXTENSIONS[ext.toLowerCase()] : undefined;
      if (lang && startsWithHeader(r.content, lang)) {
        return { path: r.path.slice(0, -(ext!.length + 1)), object_type: "NOTEBOOK", language: lang };
      }
      if (ext?.toLowerCase() === "ipynb") {
        return { path: r.path.slice(0, -".ipynb".length), object_type: "NOTEBOOK", language: "PYTHON" };
      }
      return { path: r.path, object_type: "FILE" };
    }
    case "RAW":
      return { path: r.path, object_type: "FILE" };
    case "JUPYTER":
      return { path: r.path, object_type: "NOTEBOOK", language: "PYTHON" };
    case "R_MARKDOWN":
      return { path: r.path, object_type: "NOTEBOOK", language: "R" };
    default:
      // HTML and DBC are archives of rendered notebooks; the emulator cannot read them.
      throw invalidParameter(`Importing the ${r.format} format is not supported by the dbxr emulator.`);
  }
}

function requireParentDirectory(ws: WorkspaceStore, path: string): void {
  const dir = parentOf(path);
  const parent = ws.get(dir);
  if (!parent) throw parentMissing(dir);
  if (parent.object_type !== "DIRECTORY") {
    throw invalidParameter(`The parent path (${dir}) is not a folder.`);
  }
}

function exportBody(o: WorkspaceObject): { bytes: Uint8Array; fileType: string } {
  if (o.object_type === "FILE") {
    const ext = /\.([A-Za-z0-9]+)$/.exec(baseName(o.path))?.[1];
    return { bytes: o.bytes ?? new Uint8Array(), fileType: ext ?? "" };
  }
  const lang = o.language ?? "PYTHON";
  const source = o.bytes ?? new Uint8Array();
  // A notebook exported as SOURCE starts with its header, whether or not the import had one.
  const bytes = startsWithHeader(source, lang)
    ? source
    : new Uint8Array([...encoder.encode(HEADERS[lang] + "\n"), ...source]);
  return { bytes, fileType: FILE_TYPES[lang] };
}

export function workspaceModule(state: EmulatorState): EmulatorModule {
  const ws = state.workspace;

  const find = (raw: unknown): WorkspaceObject => {
    const p = pathArg(raw);
    const o = ws.get(p);
    if (!o) throw doesNotExist(String(raw));
    return o;
  };

  return {
    name: "workspace",
    routes(router: Router) {
      router.get("/api/2.0/workspace/get-status", (req) => {
        const o = find(req.query.get("path"));
        const info = objectInfo(o);
        if (o.object_type === "NOTEBOOK" && boolArg(req.query.get("return_export_info"))) {
          info.repos_export_format = "SOURCE";
        }
        return ok(info);
      });

      router.get("/api/2.0/workspace/list", (req) => {
        const o = find(req.query.get("path"));
        if (o.object_type !== "DIRECTORY") return ok({ objects: [objectInfo(o)] });
        const children = ws.children(o.path).map(objectInfo);
        // An empty folder leaves `objects` out, as protobuf JSON does.
        return ok(children.length ? { objects: children } : {});
      });

      router.post("/api/2.0/workspace/mkdirs", (req) => {
        const p = pathArg(req.json().path);
        const parts = p.split("/").filter(Boolean);
        const missing: string[] = [];
        for (let i = 1; i <= parts.length; i++) {
          const prefix = "/" + parts.slice(0, i).join("/");
          const o = ws.get(prefix);
          if (o && o.object_type !== "DIRECTORY") throw alreadyExists(prefix);
          if (!o) missing.push(prefix);
        }
        for (const dir of missing) ws.put({ path: dir, object_type: "DIRECTORY" });
        return ok();
      });

      router.post("/api/2.0/workspace/delete", (req) => {
        const body = req.json();
        const o = find(body.path);
        if (o.path === "/" || o.path === "/Users" || o.path === "/Shared" || parentOf(o.path) === "/Users") {
          throw apiError(
            403,
            "PERMISSION_DENIED",
            `Folder (${o.path}) is a system folder and cannot be deleted.`,
          );
        }
        if (o.object_type === "DIRECTORY" && !boolArg(body.recursive) && ws.children(o.path).length > 0) {
          throw apiError(400, "DIRECTORY_NOT_EMPTY", `Folder (${o.path}) is not empty.`);
        }
        ws.remove(o.path);
        return ok();
      });

      router.post("/api/2.0/workspace/import", async (req) => {
        const r = await importRequest(req);
        if (r.content.length > MAX_IMPORT_BYTES) throw tooLarge("imported", r.content.length);
        const target = importOutcome(r);
        requireParentDirectory(ws, target.path);
        const existing = ws.get(target.path);
        if (existing && (!r.overwrite || existing.object_type === "DIRECTORY")) {
          throw alreadyExists(target.path);
        }
        ws.put({ ...target, bytes: r.content });
        return ok();
      });

      router.get("/api/2.0/workspace/export", (req) => {
        const o = find(req.query.get("path"));
        const format = req.query.get("format") ?? "SOURCE";
        if (!(FORMATS as readonly string[]).includes(format)) {
          throw invalidParameter(`Invalid format: ${format}. Valid formats: ${FORMATS.join(", ")}.`);
        }
        if (o.object_type === "DIRECTORY") {
          // Databricks answers with a DBC archive here, even for SOURCE; the emulator does not build one.
          throw invalidParameter(
            `Exporting a folder (${o.path}) as a DBC archive is not supported by the dbxr emulator.`,
          );
        }
        if (!["SOURCE", "AUTO", "RAW"].includes(format) && o.object_type === "NOTEBOOK") {
          throw invalidParameter(`Exporting notebooks as ${format} is not supported by the dbxr emulator.`);
        }
        const { bytes, fileType } = exportBody(o);
        if (bytes.length > MAX_IMPORT_BYTES) throw tooLarge("exported", bytes.length);
        if (boolArg(req.query.get("direct_download"))) {
          return new Response(bytes.slice(), {
            status: 200,
            headers: { "content-type": "application/octet-stream" },
          });
        }
        return ok({ content: encodeBase64(bytes), file_type: fileType });
      });

      // Files only, never notebooks; the path follows the prefix without its leading slash.
      router.post("/api/2.0/workspace-files/import-file/*path", (req) => {
        const path = pathArg("/" + req.params.path.replace(/^\/+/, ""));
        const existing = ws.get(path);
        if (existing?.object_type === "NOTEBOOK" || existing?.object_type === "DIRECTORY") {
          // The older wording, with no error_code: clients match "already exists." and the status.
          throw new EmulatorHttpError(400, { message: `Path (${path}) already exists.` });
        }
        if (existing && !boolArg(req.query.get("overwrite"))) throw alreadyExists(path, 409);
        requireParentDirectory(ws, path);
        ws.put({ path, object_type: "FILE", bytes: req.bytes.slice() });
        return ok();
      });
    },
  };
}
