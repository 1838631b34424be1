// Bounds on values the engine builds from templates and upstream answers, measured without
// recursion (a value may nest thousands of levels or share one subtree many times over).

/** Largest value a template may produce (compute results, http bodies, script args), in JSON bytes. */
export const MAX_TEMPLATE_OUTPUT = 1024 * 1024;
/** Deepest nesting kept from an upstream JSON body; deeper bodies are kept as text. */
export const MAX_DEPTH = 400;

/** Whether `value` nests deeper than `max` levels. */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v))
      if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
  }
  return false;
}

/** Whether `value` written as JSON would pass `max` bytes (roughly: strings by length); stops early. */
export function jsonLargerThan(value: unknown, max: number): boolean {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === "string") size += v.length + 2;
    else if (v === null || typeof v !== "object") size += 8;
    else if (Array.isArray(v)) {
      size += 2 + v.length;
      for (const x of v) stack.push(x);
    } else {
      for (const [k, x] of Object.entries(v)) {
        size += k.length + 4;
        stack.push(x);
      }
    }
    if (size > max) return true;
  }
  return false;
}
