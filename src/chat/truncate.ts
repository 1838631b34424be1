// Every length limit in chat (platform fields, the alert's response body and input values) counts
// the "…" it adds: the result is at most `limit` characters (code points, not UTF-16 units).
export function truncate(text: string, limit: number): string {
  if (limit <= 0) return "";
  const chars = Array.from(text);
  if (chars.length <= limit) return text;
  return chars.slice(0, Math.max(0, limit - 1)).join("") + "…";
}
