// ensure-schema: the seed's "Verify Catalog and Schema Exist Before Registration" as one call. Get the schema;
// create it when it is missing; turn UC's answers into errors that say what to do (a missing catalog, a
// missing privilege) instead of the bare RESOURCE_DOES_NOT_EXIST / PERMISSION_DENIED.

import type { ApiClient } from "../api/http.ts";
import * as unity from "../api/unity.ts";
import { DbxrError, isDbxrError } from "../errors.ts";

export interface EnsureSchemaResult {
  full_name: string;
  /** True when this call created the schema. */
  created: boolean;
}

/** What UC refuses in a name: spaces, periods, forward slashes, control characters. */
// deno-lint-ignore no-control-regex
const BAD_NAME = /[\s./\x00-\x1f\x7f]/;

/** `catalog.schema` split and checked; anything else is InvalidArgument. */
export function parseSchemaName(fullName: string): { catalog: string; schema: string } {
  const parts = fullName.split(".");
  const ok = parts.length === 2 && parts.every((p) => p !== "" && p.length <= 255 && !BAD_NAME.test(p));
  if (!ok) {
    throw new DbxrError(
      "InvalidArgument",
      `"${fullName}" is not a schema name: expected CATALOG.SCHEMA, each part without spaces, periods, ` +
        "slashes or control characters (e.g. main.agents).",
      { hint: "dbxr uc catalogs", details: { name: fullName } },
    );
  }
  return { catalog: parts[0], schema: parts[1] };
}

/** A catalog name on its own (`uc schemas CATALOG`). */
export function checkCatalogName(name: string): string {
  if (name === "" || name.length > 255 || BAD_NAME.test(name)) {
    throw new DbxrError(
      "InvalidArgument",
      `"${name}" is not a catalog name: no spaces, periods, slashes or control characters (e.g. main).`,
      { hint: "dbxr uc catalogs", details: { name } },
    );
  }
  return name;
}

function catalogMissing(catalog: string, cause: DbxrError): DbxrError {
  return new DbxrError(
    "NotFound",
    `Catalog '${catalog}' does not exist (or you cannot see it). Pick one of the catalogs you can use.`,
    { hint: "dbxr uc catalogs", details: { ...cause.details, catalog } },
  );
}

export async function ensureSchema(
  client: ApiClient,
  fullName: string,
  opts: { comment?: string } = {},
): Promise<EnsureSchemaResult> {
  const { catalog, schema } = parseSchemaName(fullName);
  const name = `${catalog}.${schema}`;
  let found: unity.SchemaInfo | undefined;
  try {
    found = await unity.getSchemaOrUndefined(client, name);
  } catch (e) {
    if (isDbxrError(e, "PermissionDenied")) throw noUsePrivilege(catalog, name, e);
    throw e;
  }
  if (found) return { full_name: found.full_name ?? name, created: false };
  try {
    const created = await unity.createSchema(client, {
      catalog_name: catalog,
      name: schema,
      ...(opts.comment ? { comment: opts.comment } : {}),
    });
    return { full_name: created.full_name ?? name, created: true };
  } catch (e) {
    if (!isDbxrError(e)) throw e;
    if (e.code === "NotFound") throw catalogMissing(catalog, e);
    if (e.code === "PermissionDenied") throw noCreatePrivilege(catalog, e);
    // Someone created it between our get and create: it exists, which is what was asked.
    if (e.details.error_code === "RESOURCE_ALREADY_EXISTS" || e.details.http_status === 409) {
      return { full_name: name.toLowerCase(), created: false };
    }
    throw e;
  }
}

/** The server's own words, without the credentials note the HTTP layer adds or a final period. */
function serverText(e: DbxrError): string {
  return e.message.replace(/ \(host [^()]*\)$/, "").replace(/\.$/, "");
}

function noCreatePrivilege(catalog: string, cause: DbxrError): DbxrError {
  return new DbxrError(
    "PermissionDenied",
    `You cannot create schemas in catalog '${catalog}': the CREATE SCHEMA privilege on it is missing ` +
      `(${serverText(cause)}). Ask the catalog's owner or a metastore admin for ` +
      `USE CATALOG and CREATE SCHEMA on catalog ${catalog}, or use a catalog where you have them ` +
      "(main, or your team's catalog).",
    {
      hint: "dbxr uc catalogs",
      details: {
        ...cause.details,
        catalog,
        privilege: "CREATE SCHEMA",
        grant: `GRANT USE CATALOG, CREATE SCHEMA ON CATALOG ${catalog} TO \`<you>\``,
      },
    },
  );
}

function noUsePrivilege(catalog: string, fullName: string, cause: DbxrError): DbxrError {
  return new DbxrError(
    "PermissionDenied",
    `You cannot read schema ${fullName}: USE CATALOG on '${catalog}' (or USE SCHEMA) is missing ` +
      `(${serverText(cause)}). Ask the catalog's owner for USE CATALOG on ${catalog}.`,
    { hint: "dbxr uc catalogs", details: { ...cause.details, catalog, privilege: "USE CATALOG" } },
  );
}
