// What a Standard Webhooks secret looks like: `whsec_` followed by standard base64 (what the
// `standardwebhooks` library decodes). Kept free of imports so src/env.ts can use it.
export const WEBHOOK_SECRET_RE =
  /^whsec_(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$/;
export const WEBHOOK_SECRET_HINT =
  "must be whsec_ followed by base64; make one with: echo whsec_$(openssl rand -base64 24)";
