// A small INI parser for .databrickscfg, following the rules of gopkg.in/ini.v1 as the Databricks CLI
// loads it (SpaceBeforeInlineComment: true), so a file that works there reads the same here.

export interface IniSection {
  name: string;
  /** 1-based line of the section header (0 for keys written before any header). */
  line: number;
  /** Keys lower-cased; the last assignment of a key wins, as in go-ini. */
  values: Record<string, string>;
  /** The line each key was last assigned on, for error messages. */
  lines: Record<string, number>;
}

export interface IniFile {
  /** In file order; a section that appears twice is merged into its first appearance. */
  sections: Map<string, IniSection>;
}

export class IniError extends Error {
  constructor(readonly line: number, reason: string) {
    super(`line ${line}: ${reason}`);
    this.name = "IniError";
  }
}

/** go-ini puts keys that come before any section header into DEFAULT. */
export const DEFAULT_SECTION = "DEFAULT";
/** Reserved for CLI settings such as default_profile; never a profile. */
export const SETTINGS_SECTION = "__settings__";

export function parseIni(text: string): IniFile {
  const sections = new Map<string, IniSection>();
  const section = (name: string, line: number): IniSection => {
    let s = sections.get(name);
    if (!s) {
      s = { name, line, values: {}, lines: {} };
      sections.set(name, s);
    }
    return s;
  };

  let current: IniSection | undefined;
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\n|\r/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i].trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;

    if (line.startsWith("[")) {
      const close = line.indexOf("]");
      if (close < 0) throw new IniError(lineNo, `unclosed section header ${JSON.stringify(line)}`);
      // Text after "]" is a comment in go-ini.
      const name = line.slice(1, close).trim();
      if (name === "") throw new IniError(lineNo, "empty section name");
      current = section(name, lineNo);
      continue;
    }

    // go-ini accepts both "=" and ":" as the delimiter; the first one on the line splits.
    const eq = line.indexOf("=");
    const colon = line.indexOf(":");
    const cut = eq < 0 ? colon : colon < 0 ? eq : Math.min(eq, colon);
    if (cut < 0) throw new IniError(lineNo, `expected "key = value", got ${JSON.stringify(line)}`);
    const key = line.slice(0, cut).trim().toLowerCase();
    if (key === "") throw new IniError(lineNo, "empty key name");

    const target = current ?? section(DEFAULT_SECTION, 0);
    target.values[key] = parseValue(line.slice(cut + 1));
    target.lines[key] = lineNo;
  }
  return { sections };
}

/** Quotes are stripped; otherwise "#" or ";" starts a comment only after whitespace (passwords keep theirs). */
function parseValue(raw: string): string {
  const v = raw.trim();
  for (const q of ['"""', '"', "'", "`"]) {
    if (v.startsWith(q)) {
      const end = v.indexOf(q, q.length);
      if (end >= 0) return v.slice(q.length, end);
    }
  }
  const m = /[ \t][#;]/.exec(v);
  return (m ? v.slice(0, m.index) : v).trim();
}

/**
 * The profiles of a file: sections other than [__settings__] that hold at least one key. An empty
 * section counts as absent, as in the Go SDK (`databricks auth login` leaves an empty [DEFAULT]).
 */
export function profileNames(ini: IniFile): string[] {
  return [...ini.sections.values()]
    .filter((s) => s.name !== SETTINGS_SECTION && Object.keys(s.values).length > 0)
    .map((s) => s.name);
}

export function getProfile(ini: IniFile, name: string): IniSection | undefined {
  const s = ini.sections.get(name);
  return s && name !== SETTINGS_SECTION && Object.keys(s.values).length > 0 ? s : undefined;
}
