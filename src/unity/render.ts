// Stable JSON shapes and text renderers for Unity Catalog results.

import type { CatalogInfo, SchemaInfo } from "../api/unity.ts";
import { table } from "../table.ts";

export function catalogJson(c: CatalogInfo) {
  return {
    name: c.name,
    catalog_type: c.catalog_type ?? null,
    owner: c.owner ?? null,
    comment: c.comment ?? null,
  };
}

export function schemaJson(s: SchemaInfo) {
  return {
    full_name: s.full_name,
    name: s.name,
    catalog_name: s.catalog_name,
    owner: s.owner ?? null,
    comment: s.comment ?? null,
  };
}

export const catalogListText = (cs: ReturnType<typeof catalogJson>[]) =>
  table(
    ["NAME", "TYPE", "OWNER", "COMMENT"],
    cs.map((c) => [c.name, c.catalog_type ?? "", c.owner ?? "", c.comment ?? ""]),
  );

export const schemaListText = (ss: ReturnType<typeof schemaJson>[]) =>
  table(["FULL NAME", "OWNER", "COMMENT"], ss.map((s) => [s.full_name, s.owner ?? "", s.comment ?? ""]));
