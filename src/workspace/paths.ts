// Remote workspace paths: accepted with or without the /Workspace prefix (the FUSE path on a cluster),
// sent to the API without it, and shown both ways. Pure functions.

import { DbxrError } from "../errors.ts";

const PREFIX = "/Workspace";

/**
 * The API form of a workspace path: absolute, no /Workspace prefix, no repeated or trailing slash. A
 * relative path or one with `.`/`..` segments is InvalidArgument: the workspace has no current directory.
 */
export function normalizeRemotePath(raw: string): string {
  const trimmed = raw.trim();
  if (!trimmed.startsWith("/")) {
    throw new DbxrError(
      "InvalidArgument",
      `Remote path "${raw}" is not absolute: workspace paths start with / ` +
        "(/Users/<you>/project or /Workspace/Users/<you>/project).",
      { hint: "dbxr auth whoami", details: { path: raw } },
    );
  }
  let p = trimmed.replace(/\/+/g, "/");
  if (p.length > 1) p = p.replace(/\/$/, "");
  if (p === PREFIX) return "/";
  if (p.startsWith(PREFIX + "/")) p = p.slice(PREFIX.length);
  if (p.split("/").some((s) => s === "." || s === "..")) {
    throw new DbxrError("InvalidArgument", `Remote path "${raw}" must not contain "." or ".." segments.`, {
      details: { path: raw },
    });
  }
  return p;
}

/** Where a cluster sees the object: /Workspace/<path>. */
export function fusePath(apiPath: string): string {
  return apiPath === "/" ? PREFIX : PREFIX + apiPath;
}

export function joinRemote(base: string, rel: string): string {
  if (rel === "") return base;
  return base === "/" ? `/${rel}` : `${base}/${rel}`;
}

export function remoteParent(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

export function remoteBaseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
