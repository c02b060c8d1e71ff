// A small browser token manager for the runner's own specs: PKCE login,
// tokens in memory and localStorage, a refresh a minute before expiry (a
// timer) and when expired at use, tokens handed to dashboards by
// postMessage to their exact origin. It is no reference: it has no lock
// across tabs beyond reading what another tab stored, and no backoff.
const KEY = "oauthsim-smoke";
const SESSION = "oauthsim-smoke-login";
const EARLY = 60 * 1000;

const fail = (outcome, detail, reason) => Object.assign(new Error(detail), { outcome, detail, reason: reason || "" });

const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const random = () => b64url(crypto.getRandomValues(new Uint8Array(32)));
const form = (fields) => ({
  method: "POST",
  headers: { "Content-Type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(fields),
});

export async function app(env) {
  const discovery = await (await fetch(env.issuer + "/.well-known/openid-configuration")).json();
  const stored = () => JSON.parse(localStorage.getItem(KEY) || "null");
  let tokens = stored();
  let timer = null;
  let inflight = null;

  const schedule = () => {
    clearTimeout(timer);
    if (!tokens || !tokens.refresh_token) return;
    timer = setTimeout(() => refresh().catch((e) => console.log("smoke: timed refresh failed:", e.message)), Math.max(0, tokens.expires_at - EARLY - Date.now()));
  };
  const save = (answer, previous) => {
    tokens = {
      access_token: answer.access_token,
      refresh_token: answer.refresh_token || (previous && previous.refresh_token),
      expires_at: Date.now() + answer.expires_in * 1000,
    };
    localStorage.setItem(KEY, JSON.stringify(tokens));
    schedule();
  };
  const fresh = (t) => t && t.expires_at - EARLY > Date.now();

  const refresh = () =>
    (inflight ??= (async () => {
      // Another tab may have refreshed already: its tokens are in storage.
      const theirs = stored();
      if (fresh(theirs)) {
        tokens = theirs;
        schedule();
        return;
      }
      if (!tokens || !tokens.refresh_token) throw fail("reauthorize", "no grant", "no_grant");
      const res = await fetch(discovery.token_endpoint, form({ grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: env.clientId }));
      const body = await res.json().catch(() => ({}));
      if (!res.ok) {
        if (body.error === "invalid_grant") {
          tokens = null;
          localStorage.removeItem(KEY);
          env.report({ outcome: "reauthorize", reason: "unknown", detail: "please sign in again" });
          throw fail("reauthorize", body.error, "unknown");
        }
        throw fail(res.status === 429 || res.status >= 500 ? "temporary_error" : "error", "refresh: " + res.status);
      }
      save(body, tokens);
    })().finally(() => (inflight = null)));

  const accessToken = async (rejected) => {
    if (!fresh(tokens) || (rejected && rejected === tokens.access_token)) await refresh();
    return tokens.access_token;
  };

  const dashboards = [];
  addEventListener("message", async (e) => {
    if (e.origin !== env.dashboardOrigin || !dashboards.includes(e.source) || !e.data || e.data.type !== "smoke:token?") return;
    const reply = { type: "smoke:token", id: e.data.id };
    try {
      reply.access_token = await accessToken(e.data.rejected);
    } catch (err) {
      reply.error = { outcome: err.outcome || "error", reason: err.reason || "", detail: err.detail || err.message };
    }
    e.source.postMessage(reply, env.dashboardOrigin);
  });
  schedule();

  return {
    async authorizationUrl() {
      const verifier = random();
      const state = random();
      sessionStorage.setItem(SESSION, JSON.stringify({ verifier, state }));
      const challenge = b64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
      const scopes = [...env.scopes];
      const u = new URL(discovery.authorization_endpoint);
      if (env.offlineAccess === "scope") scopes.push("offline_access");
      else u.searchParams.set("access_type", "offline");
      for (const [k, v] of Object.entries({
        response_type: "code",
        client_id: env.clientId,
        redirect_uri: env.redirectUri,
        scope: scopes.join(" "),
        state,
        code_challenge: challenge,
        code_challenge_method: "S256",
      }))
        u.searchParams.set(k, v);
      return u.toString();
    },
    async completeAuthorization(url) {
      const q = new URL(url).searchParams;
      const login = JSON.parse(sessionStorage.getItem(SESSION) || "null");
      if (!login || q.get("state") !== login.state) return { outcome: "error", detail: "state does not match" };
      if (q.get("error")) return { outcome: "error", detail: q.get("error") };
      const res = await fetch(
        discovery.token_endpoint,
        form({ grant_type: "authorization_code", code: q.get("code"), code_verifier: login.verifier, redirect_uri: env.redirectUri, client_id: env.clientId }),
      );
      const body = await res.json().catch(() => ({}));
      if (!res.ok) return { outcome: "error", detail: "token: " + res.status + " " + (body.error || "") };
      sessionStorage.removeItem(SESSION);
      save(body, null);
      return { outcome: "ok" };
    },
    mount(iframe, url) {
      iframe.src = url;
      dashboards.push(iframe.contentWindow);
    },
    async logout() {
      if (tokens && tokens.refresh_token && discovery.revocation_endpoint) {
        await fetch(discovery.revocation_endpoint, form({ token: tokens.refresh_token, client_id: env.clientId }));
      }
      tokens = null;
      clearTimeout(timer);
      localStorage.removeItem(KEY);
      return { outcome: "ok" };
    },
  };
}

export async function dashboard(env) {
  let next = 0;
  const waiting = new Map();
  addEventListener("message", (e) => {
    if (e.origin !== env.appOrigin || !e.data || e.data.type !== "smoke:token") return;
    const w = waiting.get(e.data.id);
    if (!w) return;
    waiting.delete(e.data.id);
    if (e.data.error) w.reject(fail(e.data.error.outcome, e.data.error.detail, e.data.error.reason));
    else w.resolve(e.data.access_token);
  });
  return {
    accessToken(options) {
      const id = ++next;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        parent.postMessage({ type: "smoke:token?", id, rejected: options && options.rejected }, env.appOrigin);
      });
    },
  };
}
