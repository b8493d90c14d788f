// SCIM "Me" (docs/databricks-behaviour.md §8): who the token belongs to. The response carries the workspace
// id in X-Databricks-Org-Id, which the SDKs read to build SQL warehouse paths.

import { ok } from "./http.ts";
import type { EmuRequest } from "./http.ts";
import type { Router } from "./router.ts";
import type { EmulatorModule, EmulatorState, Principal } from "./state.ts";

const USER_SCHEMAS = [
  "urn:ietf:params:scim:schemas:core:2.0:User",
  "urn:ietf:params:scim:schemas:extension:workspace:2.0:User",
];

function meJson(p: Principal, groupIds: { users: string; admins: string }): Record<string, unknown> {
  const groups = [{
    display: "users",
    value: groupIds.users,
    $ref: `Groups/${groupIds.users}`,
    type: "direct",
  }];
  if (p.kind === "user") {
    groups.push({
      display: "admins",
      value: groupIds.admins,
      $ref: `Groups/${groupIds.admins}`,
      type: "direct",
    });
  }
  const [given, ...family] = p.displayName.split(" ");
  return {
    id: p.id,
    userName: p.userName,
    displayName: p.displayName,
    active: true,
    ...(p.kind === "user"
      ? {
        emails: [{ value: p.userName, type: "work", primary: true }],
        name: { givenName: given, familyName: family.join(" ") },
      }
      : {}),
    groups,
    entitlements: [
      { value: "workspace-access" },
      { value: "databricks-sql-access" },
      { value: "allow-cluster-create" },
    ],
    roles: [],
    schemas: USER_SCHEMAS,
  };
}

/** Applies SCIM `attributes` / `excludedAttributes` (comma-separated top-level names). */
function project(obj: Record<string, unknown>, req: EmuRequest): Record<string, unknown> {
  const list = (name: string) => req.query.get(name)?.split(",").map((s) => s.trim()).filter(Boolean) ?? [];
  const include = list("attributes");
  const exclude = new Set(list("excludedAttributes"));
  return Object.fromEntries(
    Object.entries(obj).filter(([k]) =>
      !exclude.has(k) && (include.length === 0 || include.includes(k) || k === "id" || k === "schemas")
    ),
  );
}

export function scimModule(state: EmulatorState): EmulatorModule {
  const groupIds = {
    users: String(BigInt(state.workspaceId) + 11n),
    admins: String(BigInt(state.workspaceId) + 17n),
  };
  return {
    name: "scim",
    routes(router: Router) {
      router.get(
        "/api/2.0/preview/scim/v2/Me",
        (req) =>
          ok(project(meJson(req.principal ?? state.credentials.user, groupIds), req), {
            "x-databricks-org-id": state.workspaceId,
          }),
      );
    },
  };
}
