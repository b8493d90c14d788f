// Unity Catalog (docs/databricks-behaviour.md §6): catalogs and schemas under /api/2.1/unity-catalog/, with
// UC's paging (`max_results`, `page_token`, loop until no token), its case-insensitive names, and just enough
// of its permissions to answer PERMISSION_DENIED where a real metastore would: a read-only catalog refuses
// CREATE SCHEMA, and the control API grants or revokes it per catalog.

import { ControlError } from "./control.ts";
import { apiError, invalidParameter } from "./errors.ts";
import { type EmuRequest, jsonResponse, ok } from "./http.ts";
import { createRng, type Rng } from "./random.ts";
import type { Router } from "./router.ts";
import type { EmulatorModule, EmulatorState, Principal } from "./state.ts";

/** The Unity Catalog part of the control API (also under /__emulator/unity/, see README.md). */
export interface UnityControl {
  /** Lets every caller create schemas in a catalog; throws ControlError 404 for an unknown catalog. */
  grantCreateSchema(catalog: string): void;
  /** Takes CREATE SCHEMA away again: creating a schema there is then 403 PERMISSION_DENIED. */
  revokeCreateSchema(catalog: string): void;
  /** The page size used when a list asks for `max_results=0` (server-chosen; default 50). */
  setUnityPageSize(n: number): void;
  unity(): UnitySnapshot;
}

export interface UnitySnapshot {
  catalogs: { name: string; create_schema: boolean; schemas: string[] }[];
  page_size: number;
}

interface Catalog {
  name: string;
  catalog_type: string;
  owner: string;
  comment: string;
  created_at: number;
  created_by: string;
  createSchema: boolean;
}

interface Schema {
  name: string;
  catalog_name: string;
  schema_id: string;
  owner: string;
  comment?: string;
  properties?: Record<string, string>;
  storage_root?: string;
  created_at: number;
  created_by: string;
  updated_at: number;
  updated_by: string;
}

const PREFIX = "/api/2.1/unity-catalog";
const DAY = 86_400_000;
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;
/** What UC refuses in a name (the message in docs/databricks-behaviour.md §1.4 names the same characters). */
// deno-lint-ignore no-control-regex
const BAD_NAME = /[\s./\x00-\x1f\x7f]/;

const catalogMissing = (name: string) =>
  apiError(404, "RESOURCE_DOES_NOT_EXIST", `Catalog '${name}' does not exist.`);
const schemaMissing = (fullName: string) =>
  apiError(404, "RESOURCE_DOES_NOT_EXIST", `Schema '${fullName}' does not exist.`);

function invalidName(rpc: string, field: string, name: string) {
  return invalidParameter(
    `Invalid input: RPC ${rpc} Field managedcatalog.SchemaInfo.${field}: name "${name}" is not a valid name. ` +
      "Valid names cannot contain spaces, periods, forward slashes, or control characters.",
  );
}

function checkName(rpc: string, field: string, v: unknown): string {
  const name = typeof v === "string" ? v : "";
  if (name === "" || name.length > 255 || BAD_NAME.test(name)) throw invalidName(rpc, field, name);
  return name.toLowerCase();
}

/** `max_results` absent: everything at once (UC's legacy answer); 0: the server's page size. */
function paginate<T extends { name: string }>(
  req: EmuRequest,
  items: T[],
  serverPageSize: number,
): { page: T[]; next?: string } {
  const raw = req.query.get("max_results");
  const token = req.query.get("page_token");
  let after: string | undefined;
  if (token) {
    try {
      const v = JSON.parse(atob(token));
      if (typeof v?.after !== "string") throw new Error();
      after = v.after;
    } catch {
      throw invalidParameter(`Invalid page token: ${token}`);
    }
  }
  const rest = after === undefined ? items : items.filter((i) => i.name > after!);
  if ((raw === null || raw === "") && !token) return { page: rest };
  const n = raw === null || raw === "" ? 0 : Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    throw invalidParameter(`max_results must be greater than or equal to 0, got ${raw}.`);
  }
  const size = Math.min(n === 0 ? serverPageSize : n, MAX_PAGE_SIZE);
  const page = rest.slice(0, size);
  return rest.length > size ? { page, next: btoa(JSON.stringify({ after: page.at(-1)!.name })) } : { page };
}

export function unityModule(state: EmulatorState): EmulatorModule & { control: UnityControl } {
  const catalogs = new Map<string, Catalog>();
  const schemas = new Map<string, Schema>();
  let rng: Rng = createRng(state.settings.seed, "unity");
  let metastoreId = "";
  let pageSize = DEFAULT_PAGE_SIZE;

  function seed(): void {
    catalogs.clear();
    schemas.clear();
    rng = createRng(state.settings.seed, "unity");
    metastoreId = rng.uuid();
    pageSize = DEFAULT_PAGE_SIZE;
    const t = state.now();
    const system = "System user";
    const admins = "dbxr-admins";
    const cat = (c: Omit<Catalog, "created_by"> & { created_by?: string }) =>
      catalogs.set(c.name, { created_by: c.owner, ...c });
    cat({
      name: "main",
      catalog_type: "MANAGED_CATALOG",
      owner: admins,
      comment: "Main catalog (auto-created)",
      created_at: t - 400 * DAY,
      createSchema: true,
    });
    cat({
      name: "hive_metastore",
      catalog_type: "INTERNAL_CATALOG",
      owner: system,
      comment: "The legacy Hive metastore of the workspace",
      created_at: t - 400 * DAY,
      createSchema: false,
    });
    cat({
      name: "samples",
      catalog_type: "DELTASHARING_CATALOG",
      owner: system,
      comment: "Sample datasets shared by Databricks (read-only)",
      created_at: t - 400 * DAY,
      createSchema: false,
    });
    cat({
      name: "system",
      catalog_type: "SYSTEM_CATALOG",
      owner: system,
      comment: "System catalog (auto-created)",
      created_at: t - 400 * DAY,
      createSchema: false,
    });
    const seeded: [string, string, string, string][] = [
      ["main", "default", admins, "Default schema (auto-created)"],
      ["main", "information_schema", system, "Information schema (auto-created)"],
      ["hive_metastore", "default", system, "Default Hive database"],
      ["samples", "nyctaxi", system, "New York City taxi trips"],
      ["samples", "tpch", system, "TPC-H benchmark tables"],
      ["samples", "information_schema", system, "Information schema (auto-created)"],
      ["system", "access", system, "Audit logs and lineage"],
      ["system", "billing", system, "Billable usage"],
      ["system", "information_schema", system, "Information schema (auto-created)"],
    ];
    for (const [catalog_name, name, owner, comment] of seeded) {
      const at = t - 300 * DAY;
      schemas.set(`${catalog_name}.${name}`, {
        name,
        catalog_name,
        schema_id: rng.uuid(),
        owner,
        comment,
        created_at: at,
        created_by: owner,
        updated_at: at,
        updated_by: owner,
      });
    }
  }
  seed();
  state.events.on("reset", seed);

  const catalogJson = (c: Catalog) => ({
    name: c.name,
    full_name: c.name,
    catalog_type: c.catalog_type,
    owner: c.owner,
    comment: c.comment,
    properties: {},
    metastore_id: metastoreId,
    isolation_mode: "OPEN",
    securable_type: "CATALOG",
    browse_only: false,
    created_at: c.created_at,
    created_by: c.created_by,
    updated_at: c.created_at,
    updated_by: c.created_by,
  });

  const schemaJson = (s: Schema) => ({
    name: s.name,
    catalog_name: s.catalog_name,
    full_name: `${s.catalog_name}.${s.name}`,
    schema_id: s.schema_id,
    owner: s.owner,
    ...(s.comment !== undefined ? { comment: s.comment } : {}),
    ...(s.properties ? { properties: s.properties } : {}),
    ...(s.storage_root ? { storage_root: s.storage_root } : {}),
    metastore_id: metastoreId,
    catalog_type: catalogs.get(s.catalog_name)?.catalog_type,
    securable_type: "SCHEMA",
    browse_only: false,
    created_at: s.created_at,
    created_by: s.created_by,
    updated_at: s.updated_at,
    updated_by: s.updated_by,
  });

  const findCatalog = (name: string): Catalog => {
    const c = catalogs.get(name.toLowerCase());
    if (!c) throw catalogMissing(name);
    return c;
  };

  /** `catalog.schema`; the catalog's absence is named before the schema's, as UC does. */
  const findSchema = (fullName: string): Schema => {
    const parts = fullName.split(".");
    if (parts.length !== 2 || parts.some((p) => p === "")) {
      throw invalidParameter(`Invalid schema full name '${fullName}': expected '<catalog>.<schema>'.`);
    }
    findCatalog(parts[0]);
    const s = schemas.get(fullName.toLowerCase());
    if (!s) throw schemaMissing(fullName);
    return s;
  };

  const controlCatalog = (name: string): Catalog => {
    const c = catalogs.get(String(name).toLowerCase());
    if (!c) throw new ControlError(404, `no catalog ${name}`);
    return c;
  };

  const control: UnityControl = {
    grantCreateSchema(catalog) {
      controlCatalog(catalog).createSchema = true;
    },
    revokeCreateSchema(catalog) {
      controlCatalog(catalog).createSchema = false;
    },
    setUnityPageSize(n) {
      if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE) {
        throw new ControlError(400, `n must be an integer from 1 to ${MAX_PAGE_SIZE}`);
      }
      pageSize = n;
    },
    unity: () => ({
      catalogs: [...catalogs.values()].sort((a, b) => a.name < b.name ? -1 : 1).map((c) => ({
        name: c.name,
        create_schema: c.createSchema,
        schemas: [...schemas.values()].filter((s) => s.catalog_name === c.name).map((s) => s.name).sort(),
      })),
      page_size: pageSize,
    }),
  };

  const userName = (p: Principal | undefined) => p?.userName ?? "unknown";

  return {
    name: "unity",
    control,
    routes(router: Router) {
      router.get(`${PREFIX}/catalogs`, (req) => {
        const all = [...catalogs.values()].sort((a, b) => a.name < b.name ? -1 : 1);
        const { page, next } = paginate(req, all, pageSize);
        return ok({ catalogs: page.map(catalogJson), ...(next ? { next_page_token: next } : {}) });
      });

      router.get(`${PREFIX}/catalogs/:name`, (req) => ok(catalogJson(findCatalog(req.params.name))));

      router.get(`${PREFIX}/schemas`, (req) => {
        const name = req.query.get("catalog_name");
        if (!name) throw invalidParameter("Missing required field: catalog_name");
        const c = findCatalog(name);
        const all = [...schemas.values()].filter((s) => s.catalog_name === c.name)
          .sort((a, b) => a.name < b.name ? -1 : 1);
        const { page, next } = paginate(req, all, pageSize);
        return ok({ schemas: page.map(schemaJson), ...(next ? { next_page_token: next } : {}) });
      });

      router.get(`${PREFIX}/schemas/:full_name`, (req) => ok(schemaJson(findSchema(req.params.full_name))));

      router.post(`${PREFIX}/schemas`, (req) => {
        const body = req.json();
        const catalogName = checkName("CreateSchema", "catalog_name", body.catalog_name);
        const name = checkName("CreateSchema", "name", body.name);
        if (body.comment !== undefined && typeof body.comment !== "string") {
          throw invalidParameter("comment must be a string.");
        }
        const properties = body.properties;
        if (
          properties !== undefined &&
          (typeof properties !== "object" || properties === null || Array.isArray(properties) ||
            Object.values(properties).some((v) => typeof v !== "string"))
        ) throw invalidParameter("properties must be a map of strings.");
        const c = findCatalog(catalogName);
        if (!c.createSchema) {
          throw apiError(
            403,
            "PERMISSION_DENIED",
            `User does not have CREATE SCHEMA on Catalog '${c.name}'.`,
          );
        }
        const fullName = `${c.name}.${name}`;
        if (schemas.has(fullName)) {
          throw apiError(409, "RESOURCE_ALREADY_EXISTS", `Schema '${fullName}' already exists.`);
        }
        const who = userName(req.principal);
        const at = state.now();
        const s: Schema = {
          name,
          catalog_name: c.name,
          schema_id: rng.uuid(),
          owner: who,
          ...(typeof body.comment === "string" ? { comment: body.comment } : {}),
          ...(properties ? { properties: properties as Record<string, string> } : {}),
          ...(typeof body.storage_root === "string" ? { storage_root: body.storage_root } : {}),
          created_at: at,
          created_by: who,
          updated_at: at,
          updated_by: who,
        };
        schemas.set(fullName, s);
        return ok(schemaJson(s));
      });

      router.add("DELETE", `${PREFIX}/schemas/:full_name`, (req) => {
        const s = findSchema(req.params.full_name);
        const fullName = `${s.catalog_name}.${s.name}`;
        // Only the owner may drop a schema here (no metastore admins in the emulator).
        if (s.owner !== userName(req.principal)) {
          throw apiError(403, "PERMISSION_DENIED", `User does not have MANAGE on Schema '${fullName}'.`);
        }
        schemas.delete(fullName);
        return ok();
      });
    },
    controlRoutes(router: Router) {
      const json = (v: unknown) => jsonResponse(200, v);
      const body = (req: EmuRequest): Record<string, unknown> => {
        try {
          const v = req.text().trim() === "" ? {} : JSON.parse(req.text());
          if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error();
          return v;
        } catch {
          throw new ControlError(400, "expected a JSON object");
        }
      };
      const privilege = (req: EmuRequest) => {
        const p = body(req).privilege ?? "CREATE_SCHEMA";
        if (p !== "CREATE_SCHEMA") throw new ControlError(400, "privilege must be CREATE_SCHEMA");
      };
      router.get("/__emulator/unity", () => json(control.unity()));
      router.post("/__emulator/unity/catalogs/:name/grant", (req) => {
        privilege(req);
        control.grantCreateSchema(req.params.name);
        return json(control.unity());
      });
      router.post("/__emulator/unity/catalogs/:name/revoke", (req) => {
        privilege(req);
        control.revokeCreateSchema(req.params.name);
        return json(control.unity());
      });
      router.post("/__emulator/unity/page-size", (req) => {
        control.setUnityPageSize(body(req).n as number);
        return json({ n: pageSize });
      });
    },
  };
}
