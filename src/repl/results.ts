// From a terminal API 1.2 command status to what dbxr records: the derived status (docs/contract.md §4),
// the text for .stdout/.stderr, and table/image payloads. Pure.

import type { CommandResults, CommandStatusResponse } from "../api/commands.ts";
import { type Content, hasTruncationMarker, stripAnsi } from "../session/outputs.ts";
import { Utf8Chunks } from "../utf8.ts";

export type DerivedStatus = "Finished" | "Error" | "Cancelled";

const CANCELLED_CAUSE = "CommandCancelledException";

/**
 * `Finished` when the API says Finished and the result is not an error; `Error` for an error result or
 * the API status Error; `Cancelled` when cancelled, including a Finished error whose cause is
 * CommandCancelledException (Databricks reports a cancel either way).
 */
export function deriveStatus(r: CommandStatusResponse): DerivedStatus {
  const res = r.results ?? undefined;
  if (r.status === "Cancelled" || r.status === "Cancelling") return "Cancelled";
  if (res?.resultType === "error" && (res.cause ?? "").includes(CANCELLED_CAUSE)) return "Cancelled";
  if (r.status === "Error" || res?.resultType === "error") return "Error";
  return "Finished";
}

export interface MappedResult {
  status: DerivedStatus;
  result_type: string;
  /** Text, or the UTF-8 bytes of a large output (CommandResults.data), written and previewed as they are. */
  stdout: Content;
  stderr: string;
  /** A table result for `.result.json`. */
  table?: { schema: unknown; data: unknown; truncated: boolean };
  images: Uint8Array[];
  truncated: boolean;
}

export function mapResult(r: CommandStatusResponse): MappedResult {
  const res: CommandResults = r.results ?? {};
  const status = deriveStatus(r);
  const out: MappedResult = {
    status,
    result_type: res.resultType ?? "text",
    stdout: "",
    stderr: "",
    images: [],
    truncated: false,
  };
  switch (res.resultType) {
    case "error": {
      const summary = htmlToText(res.summary ?? "");
      const cause = stripAnsi(res.cause ?? "");
      out.stderr = cause.trim() ? cause : summary;
      if (out.stderr && !out.stderr.endsWith("\n")) out.stderr += "\n";
      break;
    }
    case "table": {
      const data = Array.isArray(res.data) ? res.data : [];
      const schema = res.schema ?? [];
      out.table = { schema, data, truncated: Boolean(res.truncated) };
      out.truncated = Boolean(res.truncated);
      out.stdout = tableToTsv(schema, data as unknown[][]);
      break;
    }
    case "image":
    case "images": {
      const names = res.resultType === "image" ? [res.fileName] : res.fileNames ?? [];
      for (const n of names) {
        const png = decodeDataUrl(n);
        if (png) out.images.push(png);
      }
      break;
    }
    default: {
      out.stdout = typeof res.data === "string"
        ? res.data
        : res.data instanceof Utf8Chunks
        ? (res.data.byteLength > 0 ? res.data : "")
        : res.data === undefined
        ? ""
        : JSON.stringify(res.data);
      out.truncated = hasTruncationMarker(out.stdout);
    }
  }
  return out;
}

/** The summary is HTML-ish (`<span class='ansi-red-fg'>ZeroDivisionError</span>: division by zero`). */
export function htmlToText(s: string): string {
  return s.replace(/<[^>]*>/g, "")
    .replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'").replace(/&amp;/g, "&");
}

/** A readable, greppable rendering of a table result for `.stdout`; `.result.json` keeps the data. */
export function tableToTsv(schema: Array<{ name: string }>, rows: unknown[][]): string {
  const cell = (v: unknown) =>
    v === null || v === undefined
      ? ""
      : (typeof v === "string" ? v : JSON.stringify(v)).replace(/[\t\n]/g, " ");
  const lines = [schema.map((c) => c.name).join("\t"), ...rows.map((r) => r.map(cell).join("\t"))];
  return lines.join("\n") + "\n";
}

function decodeDataUrl(u: string | undefined): Uint8Array | undefined {
  const m = u?.match(/^data:image\/[\w.+-]+;base64,(.*)$/s);
  if (!m) return undefined;
  const bin = atob(m[1]);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}
