// Workspace API 2.0 and workspace-files import (docs/databricks-behaviour.md §5.1): typed calls, no policy.
// Paths are passed as given (with or without /Workspace); the services decide which form to send.

import { isDbxrError } from "../errors.ts";
import { type ApiClient, encodePath, listField } from "./http.ts";

export type ObjectType = "NOTEBOOK" | "DIRECTORY" | "FILE" | "LIBRARY" | "REPO" | "DASHBOARD";
export type NotebookLanguage = "PYTHON" | "SCALA" | "SQL" | "R";

/** The fields of ObjectInfo that dbxr reads; the server may send more. */
export interface ObjectInfo {
  path: string;
  object_type: ObjectType;
  object_id?: number;
  resource_id?: string;
  /** Notebooks only. */
  language?: NotebookLanguage;
  /** Files only. */
  size?: number;
  /** Epoch ms. */
  created_at?: number;
  modified_at?: number;
  [key: string]: unknown;
}

export function getStatus(client: ApiClient, path: string): Promise<ObjectInfo> {
  return client.get<ObjectInfo>("/api/2.0/workspace/get-status", { path });
}

/** The object, or undefined when nothing is at the path (404). */
export async function getStatusOrUndefined(client: ApiClient, path: string): Promise<ObjectInfo | undefined> {
  try {
    return await getStatus(client, path);
  } catch (e) {
    if (isDbxrError(e, "NotFound")) return undefined;
    throw e;
  }
}

/** Direct children of a folder; a file's path lists that file. An empty folder may omit `objects`. */
export async function list(client: ApiClient, path: string): Promise<ObjectInfo[]> {
  const r = await client.get<{ objects?: unknown }>("/api/2.0/workspace/list", { path });
  return listField<ObjectInfo>(r.objects, "GET", "/api/2.0/workspace/list", "objects");
}

/** mkdir -p; idempotent. */
export async function mkdirs(client: ApiClient, path: string): Promise<void> {
  await client.post("/api/2.0/workspace/mkdirs", { path }, { idempotent: true });
}

export async function deleteObject(
  client: ApiClient,
  path: string,
  opts: { recursive?: boolean } = {},
): Promise<void> {
  await client.post("/api/2.0/workspace/delete", { path, recursive: opts.recursive ?? false });
}

/**
 * Writes raw bytes as a workspace FILE through workspace-files/import-file: never a notebook, whatever the
 * extension or content (unlike `workspace/import` with SOURCE + language, the seed's trap). Answers 404 when
 * the parent folder is missing, 409 over an existing file without overwrite, 400 over a notebook.
 */
export async function importFile(
  client: ApiClient,
  path: string,
  bytes: Uint8Array<ArrayBuffer>,
  opts: { overwrite?: boolean } = {},
): Promise<void> {
  const rel = encodePath(path.replace(/^\/+/, ""));
  await client.request({
    method: "POST",
    path: `/api/2.0/workspace-files/import-file/${rel}`,
    query: { overwrite: opts.overwrite ?? false },
    rawBody: bytes,
    // The same bytes land on the same path: repeating it after a dropped connection is harmless.
    idempotent: opts.overwrite ?? false,
  });
}

/** A file's bytes or a notebook's source (`direct_download=true`); 10 MB at most. */
export function exportBytes(client: ApiClient, path: string): Promise<Uint8Array> {
  return client.request<Uint8Array>({
    method: "GET",
    path: "/api/2.0/workspace/export",
    query: { path, format: "SOURCE", direct_download: true },
    responseType: "bytes",
  });
}
