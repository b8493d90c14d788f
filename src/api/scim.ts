// SCIM "Me" (docs/databricks-behaviour.md §8): who the credentials belong to.

import type { ApiClient } from "./http.ts";

export interface ScimUser {
  id: string;
  /** An e-mail for users; the application id (a UUID) for service principals. */
  userName: string;
  displayName?: string;
  active?: boolean;
  emails?: Array<{ value: string; type?: string; primary?: boolean }>;
  name?: { givenName?: string; familyName?: string };
  groups?: Array<{ display?: string; value?: string; $ref?: string; type?: string }>;
  entitlements?: Array<{ value: string }>;
  roles?: Array<{ value: string }>;
  externalId?: string;
  schemas?: string[];
  [key: string]: unknown;
}

export interface Me {
  user: ScimUser;
  /** The workspace id, from the X-Databricks-Org-Id response header. */
  workspaceId?: string;
}

const ME = "/api/2.0/preview/scim/v2/Me";

export async function me(client: ApiClient, signal?: AbortSignal): Promise<ScimUser> {
  return (await whoami(client, signal)).user;
}

export async function whoami(client: ApiClient, signal?: AbortSignal): Promise<Me> {
  const res = await client.requestFull<ScimUser>({ method: "GET", path: ME, signal });
  const workspaceId = res.headers.get("x-databricks-org-id") ?? undefined;
  return { user: res.data, ...(workspaceId ? { workspaceId } : {}) };
}
