/**
 * How deep a JSON text nests, checked on the text before it is parsed. JSON.parse takes any
 * depth, but what comes after it does not: Ajv-style validation, JSON.stringify (error
 * messages, the prediction log) and the structured clone that hands a row to a worker
 * thread all recurse, and overflow the stack on a 20 KB body of `[[[[...]]]]` a few
 * thousand levels deep (a RangeError: a 500, or, thrown from a timer, a dead server). A
 * listing is a flat object and a batch body is three levels deep, so an edge that refuses
 * anything past a generous limit loses no real request. The prediction API and the tracking
 * server both check their bodies with it.
 */

/**
 * Whether `text` opens more than `max` arrays/objects inside each other (brackets inside
 * strings do not count). Linear in the text's length, no allocation; a text no longer than
 * `max` characters cannot exceed it and is not scanned.
 *
 * Example: `{"a":[1,{"b":[]}]}` nests 4 deep: exceeds 3, not 4.
 */
export function jsonNestingExceeds(text: string, max: number): boolean {
  if (text.length <= max) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash escapes the next character (\" and \\ included)
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
