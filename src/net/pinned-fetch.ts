// Node: outbound HTTP through an undici Agent whose connect-time DNS lookup applies the URL policy,
// so the address a connection is made to is the address that was checked (no DNS rebinding between
// a check and the connect). Literal IP hosts never reach the lookup; the static checks cover them.
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import { Agent, fetch as undiciFetch } from "undici";
import { REFUSED_ADDRESS } from "./step-fetch";
import { addressRefusal } from "./url-safety";

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

export function checkedLookup(blockPrivate: boolean) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { family: options.family ?? 0, hints: options.hints, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      for (const a of addresses) {
        const why = addressRefusal(a.address, blockPrivate);
        if (why)
          return callback(
            Object.assign(new Error(`refused to connect to ${hostname}: ${why}`), { code: REFUSED_ADDRESS }),
            [],
          );
      }
      if (options.all) callback(null, addresses);
      else callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/**
 * The one keep-alive Agent per process (a pool per origin, shared by fetch and the http steps'
 * request()) whose connections are checked at connect time.
 */
export function pinnedAgent(blockPrivate: boolean): Agent {
  return new Agent({
    connect: { lookup: checkedLookup(blockPrivate) },
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 600_000,
  });
}

/** fetch over the pinned Agent. */
export function pinnedFetch(blockPrivate: boolean, dispatcher: Agent = pinnedAgent(blockPrivate)): typeof fetch {
  return ((input: Parameters<typeof fetch>[0], init?: RequestInit) =>
    undiciFetch(
      input as Parameters<typeof undiciFetch>[0],
      { ...(init as object), dispatcher } as Parameters<typeof undiciFetch>[1],
    )) as unknown as typeof fetch;
}
