// The file-name slug of a step's tag. The seed put the raw tag in file names, so a tag with a slash
// or `..` could write outside repl_outputs/. dbxr keeps every tag that was already a safe name
// unchanged (so `load_data` still gives `001_load_data.cmd.py`, as with the seed) and rewrites the rest.
//
// Dots are rewritten too: a slug never contains one, so in `NNN_slug.kind` the first dot always
// separates the step from the kind of file (`.cmd.py`, `.stdout`, `.2.png`). With dots allowed,
// `v1.2` would give `003_v1.2.stdout`, whose extension a tool would read as `.2.stdout`, and `..` or a
// leading dot would name parent directories or hidden files.

export const SLUG_MAX = 60;
export const SLUG_FALLBACK = "step";

const UNSAFE_RUN = /[^A-Za-z0-9_-]+/g;

/**
 * Case kept; each run of characters outside [A-Za-z0-9_-] becomes one `_` (runs at either end are
 * dropped, so ` train ` is `train` and `../x` is `x`); at most 60 characters; `step` when nothing is left.
 */
export function slugify(tag: string): string {
  const slug = tag
    .replace(
      UNSAFE_RUN,
      (run, offset: number) => (offset === 0 || offset + run.length === tag.length ? "" : "_"),
    )
    .slice(0, SLUG_MAX);
  return slug === "" ? SLUG_FALLBACK : slug;
}

/** True when `s` could have come out of slugify (used to validate slugs read back from session.json). */
export function isSlug(s: string): boolean {
  return s.length > 0 && s.length <= SLUG_MAX && /^[A-Za-z0-9_-]+$/.test(s);
}
