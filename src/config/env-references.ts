// `${VAR}` references that LiteFS itself expands when it reads litefs.yml (and `${A == B}` /
// `${A != "x"}` comparisons, which it evaluates to true/false). Settings that only LiteFS reads may
// hold them (the Fly.io style: `consul.url: ${FLY_CONSUL_URL}`); litefs-node writes them through
// unexpanded and judges the rest of the value with the reference stood in for a plain word.

const NAME = "[A-Za-z_][A-Za-z0-9_]*";
const REFERENCE = new RegExp(`\\$\\{${NAME}\\}`, "g");
const OPERAND = `(?:${NAME}|"[^"]*"|'[^']*')`;
const COMPARISON = new RegExp(`^\\$\\{\\s*${OPERAND}\\s*(?:==|!=)\\s*${OPERAND}\\s*\\}$`);

/**
 * `text` with every well-formed `${NAME}` replaced by `standIn`, or a problem message when a `$`
 * starts something LiteFS would expand differently (an unclosed `${`, a bad name, a bare `$NAME`).
 */
export function withReferencesReplaced(
  text: string,
  standIn: string,
): { ok: true; value: string } | { ok: false; message: string } {
  const rest = text.replace(REFERENCE, "");
  if (rest.includes("$")) {
    return {
      ok: false,
      message: `may hold environment references only as \${NAME} (LiteFS expands every "$" in litefs.yml), got ${JSON.stringify(text)}`,
    };
  }
  return { ok: true, value: text.replace(REFERENCE, standIn) };
}

/** True for a LiteFS comparison such as `${FLY_REGION == PRIMARY_REGION}` or `${ROLE != "replica"}`. */
export function isEnvComparison(text: string): boolean {
  return COMPARISON.test(text);
}
