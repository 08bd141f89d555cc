// Reading the leading keywords of one SQL statement, without allocating.
//
// This is NOT a classifier: SQLite classifies (Statement.readonly). These helpers only tell the
// few statement kinds SQLite gets "wrong" for our purpose apart (see classify.ts). SQLite's grammar
// decides a statement's kind by its first keyword, so reading that keyword (after whitespace and
// comments, exactly what SQLite's tokenizer skips) is sufficient and cannot be fooled by the
// statement's later text.

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const VT = 0x0b;
const FF = 0x0c;
const CR = 0x0d;
const DASH = 0x2d;
const SLASH = 0x2f;
const STAR = 0x2a;

function isSpace(c: number): boolean {
  return c === SPACE || c === TAB || c === LF || c === CR || c === FF || c === VT;
}

function isWordChar(c: number): boolean {
  // ASCII letters, digits, underscore, `$`, and any non-ASCII character (SQLite allows those in
  // identifiers); keywords themselves are plain ASCII letters.
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x5f ||
    c === 0x24 ||
    c > 0x7f
  );
}

/** Index of the first character at or after `from` that is not whitespace or part of a comment. */
export function skipTrivia(sql: string, from: number): number {
  const n = sql.length;
  let i = from;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      i++;
    } else if (c === DASH && sql.charCodeAt(i + 1) === DASH) {
      i += 2;
      while (i < n && sql.charCodeAt(i) !== LF) i++;
    } else if (c === SLASH && sql.charCodeAt(i + 1) === STAR) {
      i += 2;
      while (i < n && !(sql.charCodeAt(i) === STAR && sql.charCodeAt(i + 1) === SLASH)) i++;
      i = Math.min(n, i + 2);
    } else {
      return i;
    }
  }
  return n;
}

/** End index (exclusive) of the bare word starting at `from` (== from when there is none). */
export function wordEnd(sql: string, from: number): number {
  let i = from;
  while (i < sql.length && isWordChar(sql.charCodeAt(i))) i++;
  return i;
}

/**
 * True when sql[start, end) equals `upperKeyword` ignoring ASCII case. `upperKeyword` must be
 * upper case ASCII.
 */
export function wordIs(sql: string, start: number, end: number, upperKeyword: string): boolean {
  if (end - start !== upperKeyword.length) return false;
  for (let k = 0; k < upperKeyword.length; k++) {
    let c = sql.charCodeAt(start + k);
    if (c >= 0x61 && c <= 0x7a) c -= 0x20;
    if (c !== upperKeyword.charCodeAt(k)) return false;
  }
  return true;
}

/** The character code at `i`, or -1 past the end. */
export function charAt(sql: string, i: number): number {
  return i < sql.length ? sql.charCodeAt(i) : -1;
}

/** Whether the statement's first keyword (after whitespace and comments) is one of `upperKeywords` (upper case ASCII). */
export function leadingKeywordIsOneOf(sql: string, upperKeywords: readonly string[]): boolean {
  const start = skipTrivia(sql, 0);
  const end = wordEnd(sql, start);
  return upperKeywords.some((keyword) => wordIs(sql, start, end, keyword));
}
