/**
 * Python's `json.dumps` defaults (`ensure_ascii=True`, separators `", "` / `": "`), which
 * DVC uses for `.dir` manifests: every character outside 0x20-0x7E becomes `\uXXXX` with
 * lowercase hex (astral characters as surrogate pairs, DEL too), and `\" \\ \n \r \t \b \f`
 * use their short escapes. Example: `pyJsonString("é")` -> `"\u00e9"`.
 */

/** A JSON string literal exactly as Python's json.dumps writes it. */
export function pyJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i];
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || c > 0x7e) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

/** One `.dir` manifest entry. */
export interface ManifestEntry {
  md5: string;
  relpath: string;
}

/**
 * The `.dir` manifest bytes for entries already sorted by relpath (code point order):
 * `[{"md5": "...", "relpath": "..."}, ...]`, no trailing newline.
 */
export function manifestJson(entries: ReadonlyArray<ManifestEntry>): string {
  const parts = entries.map((e) => `{"md5": ${pyJsonString(e.md5)}, "relpath": ${pyJsonString(e.relpath)}}`);
  return '[' + parts.join(', ') + ']';
}
