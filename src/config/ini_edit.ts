// Writing one profile into a .databrickscfg text without touching anything else: other profiles, comments,
// blank lines and line endings stay as they were. Pure; the result is checked by reading it back with the
// same parser that auth uses (src/api/ini.ts).

import { DEFAULT_SECTION, getProfile, parseIni } from "../api/ini.ts";

export type ProfileEntries = Array<[key: string, value: string]>;

/** A section header line's name, as parseIni reads it; undefined for other lines. */
function headerName(line: string): string | undefined {
  const t = line.trim();
  if (!t.startsWith("[")) return undefined;
  const close = t.indexOf("]");
  return close < 0 ? undefined : t.slice(1, close).trim();
}

function isKeyLine(line: string): boolean {
  const t = line.trim();
  return t !== "" && !t.startsWith("#") && !t.startsWith(";") && headerName(line) === undefined;
}

/** `key = value`, quoted when the parser would otherwise cut or trim the value. */
function keyLine(key: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new RangeError(`${key}: a value cannot span lines`);
  const plain = value === value.trim() && !/[ \t][#;]/.test(value) && !/^["'`]/.test(value);
  if (plain) return `${key} = ${value}`;
  const quote = ['"', "'", "`"].find((q) => !value.includes(q));
  if (!quote) throw new RangeError(`${key}: the value cannot be quoted for .databrickscfg`);
  return `${key} = ${quote}${value}${quote}`;
}

/**
 * Sets profile `name` to exactly `entries`. An existing profile keeps its place, its comments and blank lines;
 * its keys are replaced (in every part of it, when the section appears twice). A new one is appended.
 * `existed` says whether the profile had keys before.
 */
export function setProfile(
  text: string | undefined,
  name: string,
  entries: ProfileEntries,
): { text: string; existed: boolean } {
  const source = text ?? "";
  const existed = source.trim() !== "" && getProfile(parseIni(source), name) !== undefined;
  const eol = source.includes("\r\n") ? "\r\n" : "\n";
  const newKeys = entries.map(([k, v]) => keyLine(k, v));

  const lines = source === "" ? [] : source.split(/\r\n|\n/);
  const trailingNewline = lines.length > 0 && lines[lines.length - 1] === "";
  if (trailingNewline) lines.pop();

  const out: string[] = [];
  let current: string = DEFAULT_SECTION; // keys before any header belong to DEFAULT, as in go-ini
  let inserted = false;
  // DEFAULT written as bare keys at the top of the file: the new keys take their place.
  const implicitDefault = name === DEFAULT_SECTION &&
    lines.slice(0, firstHeader(lines)).some((l) => isKeyLine(l));
  if (implicitDefault) {
    out.push(...newKeys);
    inserted = true;
  }
  for (const line of lines) {
    const header = headerName(line);
    if (header !== undefined) {
      current = header;
      out.push(line);
      if (header === name && !inserted) {
        out.push(...newKeys);
        inserted = true;
      }
      continue;
    }
    if (current === name && isKeyLine(line)) continue; // replaced by newKeys
    out.push(line);
  }
  if (!inserted) {
    if (out.length > 0 && out[out.length - 1].trim() !== "") out.push("");
    out.push(`[${name}]`, ...newKeys);
  }
  const result = out.join(eol) + eol;

  // Read it back: the profile must hold exactly what was asked, and the file must still parse.
  const check = getProfile(parseIni(result), name);
  const want = Object.fromEntries(entries.map(([k, v]) => [k.toLowerCase(), v]));
  if (!check || JSON.stringify(check.values) !== JSON.stringify(want)) {
    throw new Error(`internal: profile [${name}] did not read back as written`);
  }
  return { text: result, existed };
}

function firstHeader(lines: string[]): number {
  const i = lines.findIndex((l) => headerName(l) !== undefined);
  return i < 0 ? lines.length : i;
}
