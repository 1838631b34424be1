// Secret values never leave memory: every stored or shown value passes here.
export const REDACTED = "[redacted]";

const hex4 = (c: number, upper: boolean) => {
  const h = c.toString(16).padStart(4, "0");
  return `\\u${upper ? h.toUpperCase() : h}`;
};

/**
 * A secret as JSON encoders write it inside a string: `"` and `\` escaped (every encoder), non-ASCII
 * as \uXXXX (Python's json.dumps, lower and upper hex), and <, >, & as \u003c… (Go's encoding/json).
 */
function jsonForms(v: string): string[] {
  const plain = JSON.stringify(v).slice(1, -1);
  const out = [plain];
  for (const upper of [false, true]) {
    let ascii = "";
    let go = "";
    for (const ch of plain) {
      const c = ch.codePointAt(0)!;
      const units = c > 0xffff ? [0xd800 + ((c - 0x10000) >> 10), 0xdc00 + ((c - 0x10000) & 0x3ff)] : [c];
      ascii += c > 0x7e ? units.map((u) => hex4(u, upper)).join("") : ch;
      go += ch === "<" || ch === ">" || ch === "&" ? hex4(c, upper) : ch;
    }
    out.push(ascii, go);
  }
  return out;
}

export function makeRedactor(secrets: Record<string, string>): <T>(value: T) => T {
  // A secret placed in a URL shows up percent-encoded (in error messages, echoed bodies); one echoed
  // inside a JSON string shows up escaped: those forms go too.
  const forms = Object.values(secrets)
    .filter((v) => v.length >= 3)
    .flatMap((v) => [
      v,
      encodeURIComponent(v),
      encodeURI(v),
      new URLSearchParams({ v }).toString().slice(2),
      ...jsonForms(v),
    ]);
  const values = [...new Set(forms)].sort((a, b) => b.length - a.length);
  if (values.length === 0) return (v) => v;
  const text = (s: string) => {
    let out = s;
    for (const secret of values) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  };
  // Iterative copy: values may nest thousands of levels deep (upstream bodies, inputs).
  return (<T>(value: T): T => {
    const leaf = (v: unknown) => (typeof v === "string" ? text(v) : v);
    if (value === null || typeof value !== "object") return leaf(value) as T;
    const root: unknown = Array.isArray(value) ? [] : {};
    const stack: [unknown, Record<string, unknown> | unknown[]][] = [[value, root as Record<string, unknown>]];
    while (stack.length > 0) {
      const [from, to] = stack.pop()!;
      const entries: [string | number, unknown][] = Array.isArray(from)
        ? from.map((v, i) => [i, v])
        : Object.entries(from as object);
      for (const [k, v] of entries) {
        let copy: unknown = leaf(v);
        if (v !== null && typeof v === "object") {
          copy = Array.isArray(v) ? [] : {};
          stack.push([v, copy as Record<string, unknown>]);
        }
        if (Array.isArray(to)) to[k as number] = copy;
        else to[text(k as string)] = copy;
      }
    }
    return root as T;
  }) as <T>(value: T) => T;
}
