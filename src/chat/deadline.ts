// Chat platforms answer a click within their 3 seconds: wait for work that long at most.
export const TIMEOUT = Symbol("timeout");

/** `p`'s value, or TIMEOUT when it takes longer than `ms` (p keeps running). */
export function within<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<typeof TIMEOUT>((r) => (timer = setTimeout(() => r(TIMEOUT), ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
