// Who may use the pages and the API: `MEND_USERS=name:token,…` (each signs in as themselves) and
// MEND_API_TOKEN, which signs in as "admin". A request's person is kept in the Hono context as
// `c.get("actor")` by the API's bearer check and the pages' session check; routes/actor.ts hands it
// to the run-actions service, which records the name.
import { timingSafeEqualStr } from "../crypto";

export interface Person {
  name: string;
  token: string;
}

/** The name MEND_API_TOKEN signs in as. */
export const ADMIN = "admin";
const NAME = /^[A-Za-z0-9._@-]{1,64}$/;
const MIN_TOKEN = 16;

/** Parses MEND_USERS; throws an Error naming the bad entry (never echoing a token). */
export function parseUsers(raw: string): Person[] {
  const people: Person[] = [];
  const entries = raw
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean);
  entries.forEach((entry, i) => {
    const at = entry.indexOf(":");
    const name = at < 0 ? entry : entry.slice(0, at);
    const token = at < 0 ? "" : entry.slice(at + 1);
    // Without a colon the entry may be a bare token: it is never echoed.
    if (at < 0) throw new Error(`entry ${i + 1} must be name:token`);
    const where = `entry ${i + 1}${NAME.test(name) ? ` ('${name}')` : ""}`;
    if (!NAME.test(name)) throw new Error(`${where}: the name must match [A-Za-z0-9._@-]{1,64}`);
    if (name === ADMIN) throw new Error(`${where}: '${ADMIN}' is the name MEND_API_TOKEN signs in as`);
    if (token.length < MIN_TOKEN) throw new Error(`${where}: the token must have at least ${MIN_TOKEN} characters`);
    if (people.some((p) => p.name === name)) throw new Error(`${where}: '${name}' appears twice`);
    if (people.some((p) => p.token === token)) throw new Error(`${where}: two people share one token`);
    people.push({ name, token });
  });
  return people;
}

export class People {
  private readonly all: Person[];

  constructor(apiToken: string | undefined, users: Person[]) {
    this.all = [...users, ...(apiToken ? [{ name: ADMIN, token: apiToken }] : [])];
  }

  /** Sign-in is on (a token or people are configured). */
  get on(): boolean {
    return this.all.length > 0;
  }

  /** The person this token belongs to; every token is compared, in constant time each. */
  byToken(given: string): Person | undefined {
    let found: Person | undefined;
    for (const p of this.all) if (timingSafeEqualStr(given, p.token)) found = p;
    return found;
  }

  byName(name: string): Person | undefined {
    return this.all.find((p) => p.name === name);
  }
}
