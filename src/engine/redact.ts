// Secret values never leave memory: every stored or shown value passes here.
export const REDACTED = "[redacted]";

export function makeRedactor(secrets: Record<string, string>): <T>(value: T) => T {
  // A secret placed in a URL shows up percent-encoded (in error messages, echoed bodies): those forms go too.
  const forms = Object.values(secrets)
    .filter((v) => v.length >= 3)
    .flatMap((v) => [v, encodeURIComponent(v), encodeURI(v), new URLSearchParams({ v }).toString().slice(2)]);
  const values = [...new Set(forms)].sort((a, b) => b.length - a.length);
  if (values.length === 0) return (v) => v;
  const walk = (value: unknown): unknown => {
    if (typeof value === "string") {
      let out = value;
      for (const s of values) if (out.includes(s)) out = out.split(s).join(REDACTED);
      return out;
    }
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[walk(k) as string] = walk(v);
      return out;
    }
    return value;
  };
  return walk as <T>(value: T) => T;
}
