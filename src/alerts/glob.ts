// Globs from users (handler `match.flows`, silence `flow`): `*` any run of characters, `?` one character.
// Matched without regular expressions: the pattern splits at `*` into segments, the first anchored at
// the start, the last at the end, the others found leftmost in order. Leftmost is always right for `*`
// globs, so there is no backtracking: time is at most text length × pattern length.

function segmentAt(text: string, seg: string, at: number): boolean {
  if (at + seg.length > text.length) return false;
  for (let i = 0; i < seg.length; i++) if (seg[i] !== "?" && seg[i] !== text[at + i]) return false;
  return true;
}

function findSegment(text: string, seg: string, from: number, until: number): number {
  for (let at = from; at + seg.length <= until; at++) if (segmentAt(text, seg, at)) return at;
  return -1;
}

export interface Glob {
  test(text: string): boolean;
}

export function compileGlob(glob: string): Glob {
  const parts = glob.split("*");
  if (parts.length === 1) return { test: (text) => text.length === glob.length && segmentAt(text, glob, 0) };
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  const middle = parts.slice(1, -1).filter((p) => p.length > 0);
  return {
    test(text) {
      if (text.length < first.length + last.length) return false;
      if (!segmentAt(text, first, 0) || !segmentAt(text, last, text.length - last.length)) return false;
      let at = first.length;
      const end = text.length - last.length;
      for (const seg of middle) {
        const found = findSegment(text, seg, at, end);
        if (found < 0) return false;
        at = found + seg.length;
      }
      return true;
    },
  };
}
