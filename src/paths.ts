// Local file-system paths (remote workspace paths are src/workspace/paths.ts), without node:path: every
// `node:` built-in costs Deno milliseconds of start-up (issue 9 §3), and `dbxr exec` must start as fast as
// it can. The algorithms are Node's (lib/path.js, which Deno's node:path follows), for both flavours, so
// that the answers are the same byte for byte: tests/unit/paths_test.ts compares them with node:path's
// posix and win32 over a corpus and every short string of path pieces. The flavour objects are pure (the
// cwd is passed in), so that both are tested on any OS; the top-level functions use this OS's flavour.

const SLASH = 47; // '/'
const BACKSLASH = 92; // '\\'
const DOT = 46; // '.'
const COLON = 58; // ':'

export interface PathFlavor {
  readonly sep: "/" | "\\";
  isAbsolute(path: string): boolean;
  normalize(path: string): string;
  join(...paths: string[]): string;
  /** path.resolve with the working directory asked for only when it is needed. */
  resolve(cwd: () => string, ...paths: string[]): string;
  dirname(path: string): string;
  /** path.basename without a suffix to strip. */
  basename(path: string): string;
}

const isPosixSep = (code: number) => code === SLASH;
const isWinSep = (code: number) => code === SLASH || code === BACKSLASH;
const isDriveLetter = (code: number) => (code >= 65 && code <= 90) || (code >= 97 && code <= 122);

/**
 * For a path that starts with two separators: its server and share (`\\server\share`, or `\\.\x`,
 * `\\?\x` for device paths) and where the share ends; undefined when either part is missing.
 */
function uncParts(path: string): { server: string; share: string; end: number } | undefined {
  const len = path.length;
  let j = 2;
  while (j < len && !isWinSep(path.charCodeAt(j))) j++;
  if (j === 2) return undefined; // no server
  const server = path.slice(2, j);
  while (j < len && isWinSep(path.charCodeAt(j))) j++;
  if (j === len) return undefined; // no share
  const shareStart = j;
  while (j < len && !isWinSep(path.charCodeAt(j))) j++;
  return { server, share: path.slice(shareStart, j), end: j };
}

/** Resolves `.` and `..` segments and squeezes separators (Node's normalizeString). */
function normalizeString(
  path: string,
  allowAboveRoot: boolean,
  separator: string,
  isSep: (code: number) => boolean,
): string {
  let res = "";
  let lastSegmentLength = 0;
  let lastSlash = -1;
  let dots = 0;
  let code = 0;
  for (let i = 0; i <= path.length; ++i) {
    if (i < path.length) code = path.charCodeAt(i);
    else if (isSep(code)) break;
    else code = SLASH;
    if (isSep(code)) {
      if (lastSlash === i - 1 || dots === 1) {
        // An empty segment or ".": nothing to add.
      } else if (dots === 2) {
        if (
          res.length < 2 || lastSegmentLength !== 2 || res.charCodeAt(res.length - 1) !== DOT ||
          res.charCodeAt(res.length - 2) !== DOT
        ) {
          if (res.length > 2) {
            const lastSlashIndex = res.lastIndexOf(separator);
            if (lastSlashIndex === -1) {
              res = "";
              lastSegmentLength = 0;
            } else {
              res = res.slice(0, lastSlashIndex);
              lastSegmentLength = res.length - 1 - res.lastIndexOf(separator);
            }
            lastSlash = i;
            dots = 0;
            continue;
          } else if (res.length !== 0) {
            res = "";
            lastSegmentLength = 0;
            lastSlash = i;
            dots = 0;
            continue;
          }
        }
        if (allowAboveRoot) {
          res += res.length > 0 ? `${separator}..` : "..";
          lastSegmentLength = 2;
        }
      } else {
        if (res.length > 0) res += `${separator}${path.slice(lastSlash + 1, i)}`;
        else res = path.slice(lastSlash + 1, i);
        lastSegmentLength = i - lastSlash - 1;
      }
      lastSlash = i;
      dots = 0;
    } else if (code === DOT && dots !== -1) {
      ++dots;
    } else {
      dots = -1;
    }
  }
  return res;
}

function basenameOf(path: string, start: number, isSep: (code: number) => boolean): string {
  let end = -1;
  let matchedSlash = true;
  for (let i = path.length - 1; i >= start; --i) {
    if (isSep(path.charCodeAt(i))) {
      if (!matchedSlash) {
        start = i + 1;
        break;
      }
    } else if (end === -1) {
      matchedSlash = false;
      end = i + 1;
    }
  }
  return end === -1 ? "" : path.slice(start, end);
}

export const posix: PathFlavor = {
  sep: "/",

  isAbsolute(path) {
    return path.length > 0 && path.charCodeAt(0) === SLASH;
  },

  normalize(path) {
    if (path.length === 0) return ".";
    const isAbsolute = path.charCodeAt(0) === SLASH;
    const trailingSeparator = path.charCodeAt(path.length - 1) === SLASH;
    let out = normalizeString(path, !isAbsolute, "/", isPosixSep);
    if (out.length === 0 && !isAbsolute) out = ".";
    if (out.length > 0 && trailingSeparator) out += "/";
    return isAbsolute ? `/${out}` : out;
  },

  join(...paths) {
    let joined: string | undefined;
    for (const p of paths) {
      if (p.length > 0) joined = joined === undefined ? p : `${joined}/${p}`;
    }
    return joined === undefined ? "." : posix.normalize(joined);
  },

  resolve(cwd, ...paths) {
    if (paths.length === 0 || (paths.length === 1 && (paths[0] === "" || paths[0] === "."))) {
      const dir = cwd();
      if (dir.charCodeAt(0) === SLASH) return dir;
    }
    let resolved = "";
    let absolute = false;
    for (let i = paths.length - 1; i >= 0 && !absolute; i--) {
      const p = paths[i];
      if (p.length === 0) continue;
      resolved = `${p}/${resolved}`;
      absolute = p.charCodeAt(0) === SLASH;
    }
    if (!absolute) {
      const dir = cwd();
      resolved = `${dir}/${resolved}`;
      absolute = dir.charCodeAt(0) === SLASH;
    }
    resolved = normalizeString(resolved, !absolute, "/", isPosixSep);
    if (absolute) return `/${resolved}`;
    return resolved.length > 0 ? resolved : ".";
  },

  dirname(path) {
    if (path.length === 0) return ".";
    const hasRoot = path.charCodeAt(0) === SLASH;
    let end = -1;
    let matchedSlash = true;
    for (let i = path.length - 1; i >= 1; --i) {
      if (path.charCodeAt(i) === SLASH) {
        if (!matchedSlash) {
          end = i;
          break;
        }
      } else {
        matchedSlash = false;
      }
    }
    if (end === -1) return hasRoot ? "/" : ".";
    if (hasRoot && end === 1) return "//";
    return path.slice(0, end);
  },

  basename(path) {
    return basenameOf(path, 0, isPosixSep);
  },
};

// DOS device names: Node treats `CON:` and the like as a device, and never lets a normalized relative
// path start with something that Windows would read as a drive or a device.
const RESERVED = new Set([
  "CON",
  "PRN",
  "AUX",
  "NUL",
  ..."123456789".split("").flatMap((d) => [`COM${d}`, `LPT${d}`]),
  "COM\xb9",
  "COM\xb2",
  "COM\xb3",
  "LPT\xb9",
  "LPT\xb2",
  "LPT\xb3",
]);

function isReservedName(path: string, colonIndex: number): boolean {
  return RESERVED.has(path.slice(0, colonIndex).toUpperCase());
}

export const win32: PathFlavor = {
  sep: "\\",

  isAbsolute(path) {
    const len = path.length;
    if (len === 0) return false;
    const code = path.charCodeAt(0);
    if (isWinSep(code)) return true;
    return isDriveLetter(code) && len > 2 && path.charCodeAt(1) === COLON && isWinSep(path.charCodeAt(2));
  },

  normalize(path) {
    const len = path.length;
    if (len === 0) return ".";
    let rootEnd = 0;
    let device: string | undefined;
    let isAbsolute = false;
    const code = path.charCodeAt(0);
    if (len === 1) return isPosixSep(code) ? "\\" : path;
    if (isWinSep(code)) {
      isAbsolute = true;
      if (isWinSep(path.charCodeAt(1))) {
        // UNC (\\server\share) or a device path (\\.\ or \\?\).
        const unc = uncParts(path);
        if (unc?.server === "." || unc?.server === "?") {
          device = `\\\\${unc.server}`;
          rootEnd = 4;
          const possible = path.slice(4, path.indexOf(":") + 1);
          if (isReservedName(possible, possible.length - 1)) {
            device = `\\\\?\\${possible}`;
            rootEnd = 4 + possible.length;
          }
        } else if (unc && unc.end === len) {
          // Only the server and the share: the root of the share.
          return `\\\\${unc.server}\\${unc.share}\\`;
        } else if (unc) {
          device = `\\\\${unc.server}\\${unc.share}`;
          rootEnd = unc.end;
        }
      } else {
        rootEnd = 1;
      }
    } else {
      const colon = path.indexOf(":");
      if (colon > 0) {
        if (isDriveLetter(code) && colon === 1) {
          device = path.slice(0, 2);
          rootEnd = 2;
          if (len > 2 && isWinSep(path.charCodeAt(2))) {
            isAbsolute = true;
            rootEnd = 3;
          }
        } else if (isReservedName(path, colon)) {
          device = path.slice(0, colon + 1);
          rootEnd = colon + 1;
        }
      }
    }
    let tail = rootEnd < len ? normalizeString(path.slice(rootEnd), !isAbsolute, "\\", isWinSep) : "";
    if (tail.length === 0 && !isAbsolute) tail = ".";
    if (tail.length > 0 && isWinSep(path.charCodeAt(len - 1))) tail += "\\";
    if (!isAbsolute && device === undefined && path.includes(":")) {
      // A relative path must not come out reading as a drive (`a/../c:x` → `c:x`) or a stream.
      if (tail.length >= 2 && isDriveLetter(tail.charCodeAt(0)) && tail.charCodeAt(1) === COLON) {
        return `.\\${tail}`;
      }
      let index = path.indexOf(":");
      do {
        if (index === len - 1 || isWinSep(path.charCodeAt(index + 1))) return `.\\${tail}`;
      } while ((index = path.indexOf(":", index + 1)) !== -1);
    }
    if (isReservedName(path, path.indexOf(":"))) return `.\\${device ?? ""}${tail}`;
    if (device === undefined) return isAbsolute ? `\\${tail}` : tail;
    return isAbsolute ? `${device}\\${tail}` : `${device}${tail}`;
  },

  join(...paths) {
    let joined: string | undefined;
    let firstPart = "";
    for (const p of paths) {
      if (p.length === 0) continue;
      if (joined === undefined) joined = firstPart = p;
      else joined += `\\${p}`;
    }
    if (joined === undefined) return ".";
    // A UNC root only when the first part itself starts with exactly two separators and a name: `\\`
    // glued on from a later part does not make one.
    let needsReplace = true;
    let slashCount = 0;
    if (isWinSep(firstPart.charCodeAt(0))) {
      ++slashCount;
      const firstLen = firstPart.length;
      if (firstLen > 1 && isWinSep(firstPart.charCodeAt(1))) {
        ++slashCount;
        if (firstLen > 2) {
          if (isWinSep(firstPart.charCodeAt(2))) ++slashCount;
          else needsReplace = false;
        }
      }
    }
    if (needsReplace) {
      while (slashCount < joined.length && isWinSep(joined.charCodeAt(slashCount))) slashCount++;
      if (slashCount >= 2) joined = `\\${joined.slice(slashCount)}`;
    }
    // A segment naming a device (`CON:`) is kept as given, separators aside.
    let start = 0;
    for (let i = 0; i <= joined.length; i++) {
      if (i === joined.length || isWinSep(joined.charCodeAt(i))) {
        if (i > start) {
          const segment = joined.slice(start, i);
          const colon = segment.indexOf(":");
          if (colon !== -1 && isReservedName(segment, colon)) return joined.split("/").join("\\");
        }
        start = i + 1;
      }
    }
    return win32.normalize(joined);
  },

  resolve(cwd, ...paths) {
    let resolvedDevice = "";
    let resolvedTail = "";
    let resolvedAbsolute = false;
    for (let i = paths.length - 1; i >= -1; i--) {
      let path: string;
      if (i >= 0) {
        path = paths[i];
      } else if (!resolvedDevice) {
        path = cwd();
        if (
          paths.length === 0 ||
          (paths.length === 1 && (paths[0] === "" || paths[0] === ".") && isWinSep(path.charCodeAt(0)))
        ) {
          return path;
        }
      } else {
        // A drive-relative path (`D:x`): relative to the cwd when it is on that drive, else to the
        // drive's root. (Node also reads cmd.exe's per-drive `=D:` variables; dbxr may not read the
        // environment beyond its own variables, and they are seldom set outside cmd.exe.)
        path = cwd();
        if (
          path.slice(0, 2).toLowerCase() !== resolvedDevice.toLowerCase() &&
          path.charCodeAt(2) === BACKSLASH
        ) {
          path = `${resolvedDevice}\\`;
        }
      }
      const len = path.length;
      let rootEnd = 0;
      let device = "";
      let isAbsolute = false;
      const code = path.charCodeAt(0);
      if (len === 1) {
        if (isWinSep(code)) {
          rootEnd = 1;
          isAbsolute = true;
        }
      } else if (isWinSep(code)) {
        isAbsolute = true;
        if (isWinSep(path.charCodeAt(1))) {
          const unc = uncParts(path);
          if (unc?.server === "." || unc?.server === "?") {
            device = `\\\\${unc.server}`;
            rootEnd = 4;
          } else if (unc) {
            device = `\\\\${unc.server}\\${unc.share}`;
            rootEnd = unc.end;
          }
        } else {
          rootEnd = 1;
        }
      } else if (isDriveLetter(code) && path.charCodeAt(1) === COLON) {
        device = path.slice(0, 2);
        rootEnd = 2;
        if (len > 2 && isWinSep(path.charCodeAt(2))) {
          isAbsolute = true;
          rootEnd = 3;
        }
      }
      if (device.length > 0) {
        if (resolvedDevice.length > 0) {
          if (device.toLowerCase() !== resolvedDevice.toLowerCase()) continue; // another drive
        } else {
          resolvedDevice = device;
        }
      }
      if (resolvedAbsolute) {
        if (resolvedDevice.length > 0) break;
      } else {
        resolvedTail = `${path.slice(rootEnd)}\\${resolvedTail}`;
        resolvedAbsolute = isAbsolute;
        if (isAbsolute && resolvedDevice.length > 0) break;
      }
    }
    resolvedTail = normalizeString(resolvedTail, !resolvedAbsolute, "\\", isWinSep);
    return resolvedAbsolute
      ? `${resolvedDevice}\\${resolvedTail}`
      : `${resolvedDevice}${resolvedTail}` || ".";
  },

  dirname(path) {
    const len = path.length;
    if (len === 0) return ".";
    let rootEnd = -1;
    let end = -1;
    let matchedSlash = true;
    let offset = 0;
    const code = path.charCodeAt(0);
    if (len === 1) return isWinSep(code) ? path : ".";
    if (isWinSep(code)) {
      rootEnd = offset = 1;
      if (isWinSep(path.charCodeAt(1))) {
        let j = 2;
        let last = j;
        while (j < len && !isWinSep(path.charCodeAt(j))) j++;
        if (j < len && j !== last) {
          last = j;
          while (j < len && isWinSep(path.charCodeAt(j))) j++;
          if (j < len && j !== last) {
            last = j;
            while (j < len && !isWinSep(path.charCodeAt(j))) j++;
            if (j === len) return path; // the root of a share
            if (j !== last) rootEnd = offset = j + 1;
          }
        }
      }
    } else if (isDriveLetter(code) && path.charCodeAt(1) === COLON) {
      rootEnd = offset = 2;
      if (len > 2 && isWinSep(path.charCodeAt(2))) rootEnd = offset = 3;
    }
    for (let i = len - 1; i >= offset; --i) {
      if (isWinSep(path.charCodeAt(i))) {
        if (!matchedSlash) {
          end = i;
          break;
        }
      } else {
        matchedSlash = false;
      }
    }
    if (end === -1) {
      if (rootEnd === -1) return ".";
      end = rootEnd;
    }
    return path.slice(0, end);
  },

  basename(path) {
    const start = path.length >= 2 && isDriveLetter(path.charCodeAt(0)) && path.charCodeAt(1) === COLON
      ? 2
      : 0;
    return basenameOf(path, start, isWinSep);
  },
};

const flavor: PathFlavor = Deno.build.os === "windows" ? win32 : posix;

/** The separator of the OS that runs dbxr. */
export const SEP = flavor.sep;

export function isAbsolute(path: string): boolean {
  return flavor.isAbsolute(path);
}

export function normalize(path: string): string {
  return flavor.normalize(path);
}

export function join(...paths: string[]): string {
  return flavor.join(...paths);
}

/** An absolute path, against Deno.cwd() (read only when a relative path needs it). */
export function resolve(...paths: string[]): string {
  return flavor.resolve(() => Deno.cwd(), ...paths);
}

export function dirname(path: string): string {
  return flavor.dirname(path);
}

export function basename(path: string): string {
  return flavor.basename(path);
}
