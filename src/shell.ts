// Quoting for the commands that dbxr prints as hints, so that they can be pasted into a POSIX shell.

/** The value as one shell word: as is when it needs no quoting, else in single quotes. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
