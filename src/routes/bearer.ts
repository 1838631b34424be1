// The bearer token of a request (the scheme is case-insensitive, RFC 9110 §11.1), and a throttle on
// wrong ones: past WRONG_PER_MINUTE wrong tokens in a minute, wrong tokens get 429 until it has
// passed. Right tokens are never throttled, so guessing cannot lock the owner out.
import type { Context } from "hono";
import type { Clock } from "../engine/ports";
import { ApiError } from "./errors";

export const WRONG_PER_MINUTE = 20;

export function bearerToken(c: Context): string | undefined {
  const m = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(c.req.header("authorization") ?? "");
  return m?.[1];
}

export class WrongTokenThrottle {
  private windowStart = 0;
  private wrong = 0;

  constructor(private readonly clock: Clock) {}

  /** Called for every wrong or missing token: throws the 401, or a 429 once they come too fast. */
  refuse(message: string): never {
    const now = this.clock.now();
    if (now - this.windowStart >= 60_000) {
      this.windowStart = now;
      this.wrong = 0;
    }
    this.wrong++;
    if (this.wrong > WRONG_PER_MINUTE) {
      const wait = Math.ceil((this.windowStart + 60_000 - now) / 1000);
      throw new ApiError(429, `too many requests with a wrong token; retry in ${wait} s`, undefined, {
        "retry-after": String(wait),
      });
    }
    throw new ApiError(401, message);
  }
}
