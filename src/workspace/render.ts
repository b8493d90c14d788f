// Stable JSON shapes and text renderers for workspace results. Never print an API object as-is.

import type { ObjectInfo } from "../api/workspace.ts";
import { table } from "../table.ts";
import { fusePath } from "./paths.ts";
import type { UploadResult } from "./upload.ts";

export function objectJson(o: ObjectInfo) {
  return {
    path: o.path,
    fuse_path: fusePath(o.path),
    object_type: o.object_type,
    object_id: o.object_id ?? null,
    language: o.language ?? null,
    size: o.size ?? null,
    created_at: o.created_at ?? null,
    modified_at: o.modified_at ?? null,
  };
}

export type ObjectJson = ReturnType<typeof objectJson>;

export function uploadJson(r: UploadResult) {
  return {
    remote: r.remote,
    fuse_path: r.fuse_path,
    kind: r.kind,
    uploaded: r.uploaded.map((u) => ({ path: u.path, size: u.size, action: u.action })),
    skipped: r.skipped.map((s) => ({ path: s.path, reason: s.reason })),
    excluded: r.excluded,
    links_outside: r.links_outside,
  };
}

export function uploadText(r: ReturnType<typeof uploadJson>): string {
  const extra = [
    r.skipped.length ? `${r.skipped.length} unchanged` : "",
    r.excluded ? `${r.excluded} excluded` : "",
    r.links_outside.length ? `${r.links_outside.length} symlink(s) out of the folder not uploaded` : "",
  ].filter(Boolean);
  const head = `uploaded ${r.uploaded.length} file(s) to ${r.fuse_path}${
    extra.length ? ` (${extra.join(", ")})` : ""
  }`;
  if (r.uploaded.length === 0) return head;
  return [head, "", table(["ACTION", "SIZE", "PATH"], r.uploaded.map((u) => [u.action, u.size, u.path]))]
    .join(
      "\n",
    );
}

export const objectListText = (os: ObjectJson[]) =>
  table(
    ["TYPE", "SIZE", "LANGUAGE", "PATH"],
    os.map((o) => [o.object_type, o.size ?? "", o.language ?? "", o.path]),
  );

export function objectText(o: ObjectJson): string {
  const rows: [string, unknown][] = [
    ["path", o.path],
    ["fuse_path", o.fuse_path],
    ["object_type", o.object_type],
    ["object_id", o.object_id],
    ["language", o.language],
    ["size", o.size],
    ["modified_at", o.modified_at === null ? null : new Date(o.modified_at).toISOString()],
  ];
  return rows.filter(([, v]) => v !== null).map(([k, v]) => `${k.padEnd(12)} ${v}`).join("\n");
}
