// A model of how LiteFS reads litefs.yml (config.go, "-no-expand-env" off): before decoding the
// YAML it expands `$NAME` and `${NAME}` from the environment (Go's os.Expand: unset = empty), and
// evaluates `${A == B}` / `${A != B}` to "true"/"false", each operand a variable name or a quoted
// literal. Tests run rendered files through it to see what LiteFS would decode.

const COMPARISON =
  /^\s*([A-Za-z_][A-Za-z0-9_]*|"[^"]*"|'[^']*')\s*(==|!=)\s*([A-Za-z_][A-Za-z0-9_]*|"[^"]*"|'[^']*')\s*$/;

function operand(text: string, env: Readonly<Record<string, string | undefined>>): string {
  if (text.startsWith('"') || text.startsWith("'")) return text.slice(1, -1);
  return env[text] ?? "";
}

export function expandLikeLitefs(text: string, env: Readonly<Record<string, string | undefined>>): string {
  return text.replace(
    /\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_match, braced: string | undefined, bare: string | undefined) => {
      if (bare !== undefined) return env[bare] ?? "";
      const comparison = COMPARISON.exec(braced ?? "");
      if (comparison) {
        const equal = operand(comparison[1] as string, env) === operand(comparison[3] as string, env);
        return String(comparison[2] === "==" ? equal : !equal);
      }
      return env[(braced ?? "").trim()] ?? "";
    },
  );
}
