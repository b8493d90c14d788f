// Unity Catalog catalogs and schemas (docs/databricks-behaviour.md §6): typed calls, no policy. Lists follow
// next_page_token until it is absent (a page may be empty yet carry a token).

import { isDbxrError } from "../errors.ts";
import type { ApiClient, Query } from "./http.ts";

const UC = "/api/2.1/unity-catalog";

/** The fields of CatalogInfo that dbxr reads. */
export interface CatalogInfo {
  name: string;
  full_name?: string;
  catalog_type?: string;
  owner?: string;
  comment?: string;
  browse_only?: boolean;
  created_at?: number;
  [key: string]: unknown;
}

/** The fields of SchemaInfo that dbxr reads. */
export interface SchemaInfo {
  name: string;
  catalog_name: string;
  full_name: string;
  owner?: string;
  comment?: string;
  schema_id?: string;
  created_at?: number;
  [key: string]: unknown;
}

export interface PageOptions {
  /** 0 (the default, as the SDKs send) lets the server choose the page size. */
  pageSize?: number;
  signal?: AbortSignal;
}

async function listAll<T>(
  client: ApiClient,
  path: string,
  key: string,
  query: Query,
  opts: PageOptions,
): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  // A loop guard: a server that hands the same token back would otherwise page forever.
  const seen = new Set<string>();
  do {
    const page = await client.get<Record<string, unknown>>(path, {
      ...query,
      max_results: opts.pageSize ?? 0,
      page_token: token,
    }, { signal: opts.signal });
    out.push(...((page[key] as T[] | undefined) ?? []));
    token = typeof page.next_page_token === "string" && page.next_page_token !== ""
      ? page.next_page_token
      : undefined;
    if (token !== undefined) {
      if (seen.has(token)) break;
      seen.add(token);
    }
  } while (token !== undefined);
  return out;
}

export function listCatalogs(client: ApiClient, opts: PageOptions = {}): Promise<CatalogInfo[]> {
  return listAll<CatalogInfo>(client, `${UC}/catalogs`, "catalogs", {}, opts);
}

export function listSchemas(
  client: ApiClient,
  catalog: string,
  opts: PageOptions = {},
): Promise<SchemaInfo[]> {
  return listAll<SchemaInfo>(client, `${UC}/schemas`, "schemas", { catalog_name: catalog }, opts);
}

export function getCatalog(client: ApiClient, name: string): Promise<CatalogInfo> {
  return client.get<CatalogInfo>(`${UC}/catalogs/${encodeURIComponent(name)}`);
}

export function getSchema(client: ApiClient, fullName: string): Promise<SchemaInfo> {
  return client.get<SchemaInfo>(`${UC}/schemas/${encodeURIComponent(fullName)}`);
}

/** The schema, or undefined on a 404 (the schema, or its catalog, does not exist). */
export async function getSchemaOrUndefined(
  client: ApiClient,
  fullName: string,
): Promise<SchemaInfo | undefined> {
  try {
    return await getSchema(client, fullName);
  } catch (e) {
    if (isDbxrError(e, "NotFound")) return undefined;
    throw e;
  }
}

export function createSchema(
  client: ApiClient,
  spec: { catalog_name: string; name: string; comment?: string; properties?: Record<string, string> },
): Promise<SchemaInfo> {
  return client.post<SchemaInfo>(`${UC}/schemas`, spec);
}
