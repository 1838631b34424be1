// The token form (when MEND_API_TOKEN is set) and the plain message pages (refusals, errors).
import type { FC } from "hono/jsx";
import { raw } from "hono/html";
import { Layout } from "./layout";

export const LoginPage: FC<{ nonce: string; next: string; wrong?: boolean }> = (p) => (
  <Layout title="Sign in" nonce={p.nonce}>
    <form method="post" action="/login" class="card login" id="login">
      <h1>Sign in</h1>
      <p class="muted small">
        Your token (from MEND_USERS), or the API token (MEND_API_TOKEN) to act as admin. Asked once: your browser then
        keeps a session cookie for 30 days.
      </p>
      {p.wrong ? <div class="notice bad">That token is not known.</div> : null}
      <label for="token">Token</label>
      <input type="password" name="token" id="token" autocomplete="current-password" required autofocus />
      <input type="hidden" name="next" value={p.next} />
      <button type="submit" class="primary">
        Sign in
      </button>
    </form>
  </Layout>
);

export const MessagePage: FC<{ nonce: string; title: string; message: string; back?: string }> = (p) => (
  <Layout title={p.title} nonce={p.nonce}>
    <h1>{p.title}</h1>
    <div class="notice bad" id="message">
      {p.message}
    </div>
    <p>
      <a href={p.back ?? "/"}>← Back</a>
    </p>
  </Layout>
);

/**
 * A link from another site (a chat alert) does not carry a SameSite=Strict cookie. This page
 * reloads the same address from this site, which does; only then does the token form show.
 */
export const BouncePage: FC<{ nonce: string; url: string }> = (p) => (
  <>
    {raw("<!doctype html>")}
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta http-equiv="refresh" content={`0;url=${p.url}`} />
        <title>mend</title>
      </head>
      <body>
        <p>
          <a href={p.url}>Continue to mend</a>
        </p>
      </body>
    </html>
  </>
);
