// Who is acting on a run: `by` from the body, else the signed-in user (set on the context by the
// sign-in of MEND_USERS: `c.set("actor", …)`), else the entrance's default (`api`, or `web` on pages).
import type { Context } from "hono";
import { API_ACTOR, type Actor } from "../runs/actions";

declare module "hono" {
  interface ContextVariableMap {
    /** The signed-in person (MEND_USERS), when there is one. */
    actor?: Actor;
  }
}

export function actorOf(c: Context, by: string | undefined, via: "api" | "page" = "api"): Actor {
  if (by) return { id: by, via };
  const signedIn = c.get("actor");
  if (signedIn) return signedIn;
  return via === "page" ? { id: "web", via } : API_ACTOR;
}
