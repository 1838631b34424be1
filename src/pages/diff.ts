// A line diff by longest common subsequence: enough for flow definitions (a few hundred lines).
export type DiffLine = { op: "same" | "add" | "del"; text: string };

/** Above this many cells the middle part is shown as removed-then-added instead of aligned. */
const MAX_CELLS = 4_000_000;

export function diffLines(before: string, after: string): DiffLine[] {
  const a = before.split("\n");
  const b = after.split("\n");
  if (a.at(-1) === "" && b.at(-1) === "") a.pop(), b.pop();
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) endA--, endB--;
  const out: DiffLine[] = a.slice(0, start).map((text) => ({ op: "same", text }));
  const x = a.slice(start, endA);
  const y = b.slice(start, endB);
  const n = x.length;
  const m = y.length;
  if ((n + 1) * (m + 1) > MAX_CELLS) {
    for (const text of x) out.push({ op: "del", text });
    for (const text of y) out.push({ op: "add", text });
  } else {
    // lcs[i][j] = length of the LCS of x[i..] and y[j..]
    const w = m + 1;
    const lcs = new Uint32Array((n + 1) * w);
    for (let i = n - 1; i >= 0; i--)
      for (let j = m - 1; j >= 0; j--)
        lcs[i * w + j] =
          x[i] === y[j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
    let i = 0;
    let j = 0;
    while (i < n && j < m) {
      if (x[i] === y[j]) out.push({ op: "same", text: x[i]! }), i++, j++;
      else if (lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!) out.push({ op: "del", text: x[i++]! });
      else out.push({ op: "add", text: y[j++]! });
    }
    while (i < n) out.push({ op: "del", text: x[i++]! });
    while (j < m) out.push({ op: "add", text: y[j++]! });
  }
  for (const text of a.slice(endA)) out.push({ op: "same", text });
  return out;
}
