// The okta-auth-js adapter page module: the browser runner's token-manager
// contract (../../README.md: exports app and dashboard) around the SDK's
// OktaAuth, configured as its README shows a single-page app (PKCE, the
// TokenManager in localStorage, running as a service). Everything this file
// adds beyond the SDK's documented calls is listed, with what calls for it,
// in README.md beside it ("Glue").
//
// The application page (app) is the SDK: token.getWithRedirect() prepares
// the sign-in (PKCE, state, nonce in its transaction storage),
// token.parseFromUrl() redeems the code and validates the ID token, the
// TokenManager keeps the tokens, and the service (start()) renews them
// before they expire (autoRenew: the refresh token when there is one, else
// a hidden iframe), in one tab at a time (syncStorage: leader election and
// a broadcast channel). The adapter hands a dashboard the TokenManager's
// access token, after tokenManager.renew() when it has expired or the API
// refused it, by postMessage to the dashboard origin only. A dashboard is
// the reference module's DashboardManager (../../tm/reference.js), imported
// as it is.

import { OktaAuth, AuthApiError, OAuthError, AuthSdkError } from '@okta/okta-auth-js';
import { DashboardManager } from '../../tm/reference.js';
import { Embedding, MESSAGE, Problem, oauthError } from '../embedding.js';

/**
 * problemOf maps what okta-auth-js threw to the protocol's outcomes, as
 * closely as the SDK reports it:
 * - OAuthError (errorCode, errorSummary = error_description, resp.status):
 *   the provider's OAuth error, rows 1-4 of the table;
 * - AuthApiError: an answer without an OAuth error (httpRequest's
 *   formatError: a 5xx or a body without error and error_description), or
 *   no answer at all (errorSummary "Failed to fetch": refused, reset or
 *   blocked by CORS, which a page cannot tell apart): temporary_error;
 * - AuthSdkError: the SDK's own refusal (no token to renew: reauthorize;
 *   anything else in its words: error);
 * - anything else, in the SDK's words: error.
 */
function problemOf(err) {
  if (err instanceof Problem) return err;
  const name = err?.name;
  const status = err?.xhr?.status ?? err?.resp?.status ?? 0;
  if (err instanceof OAuthError || name === 'OAuthError') {
    const code = String(err.errorCode ?? '');
    const desc = String(err.errorSummary ?? '');
    return new Problem({ ...oauthError({ status, code, description: desc }), detail: `okta-auth-js: ${status ? `${status} ` : ''}${code}${desc ? `: ${desc}` : ''}` });
  }
  if (err instanceof AuthApiError || name === 'AuthApiError') {
    const summary = String(err.errorSummary ?? err.message ?? '');
    if (!status) return new Problem({ outcome: 'temporary_error', detail: `okta-auth-js: no answer (${summary})` });
    const code = String(err.errorCode ?? '');
    return new Problem({ ...oauthError({ status, code, description: summary }), detail: `okta-auth-js: ${status} ${code ? `${code}: ` : ''}${summary}` });
  }
  const message = String(err?.message ?? err);
  if ((err instanceof AuthSdkError || name === 'AuthSdkError') && /has no token for the key|no existing token/.test(message)) {
    return new Problem({ outcome: 'reauthorize', reason: 'no_grant', detail: `okta-auth-js: ${message}` });
  }
  return new Problem({ outcome: 'error', detail: `okta-auth-js: ${message}` });
}

// --- the application's manager ------------------------------------------------------

class AppManager {
  constructor(env, discovery) {
    this.env = env;
    this.location = undefined;
    const scopes = [...(env.scopes ?? [])];
    if (env.offlineAccess === 'scope' && !scopes.includes('offline_access')) scopes.push('offline_access');
    this.auth = new OktaAuth({
      issuer: env.issuer,
      clientId: env.clientId,
      redirectUri: env.redirectUri,
      scopes,
      // The endpoints the discovery document names: okta-auth-js would
      // otherwise derive them from the issuer (issuer + /oauth2/v1/...).
      authorizeUrl: discovery.authorization_endpoint,
      tokenUrl: discovery.token_endpoint,
      userinfoUrl: discovery.userinfo_endpoint,
      revokeUrl: discovery.revocation_endpoint,
      // The SDK's own X-Okta-User-Agent-Extended header left off every
      // request ("Headers can be removed", setHeaders): the simulator's
      // CORS preflight allows Authorization and Content-Type only (glue 3).
      headers: { 'X-Okta-User-Agent-Extended': undefined },
      // The default, spelled out: PKCE with the code in the query.
      pkce: true,
      // getWithRedirect() hands the runner its URL instead of assigning
      // window.location (glue 1).
      setLocation: (url) => {
        this.location = url;
      },
      // The default, spelled out: tokens in localStorage, shared by the tabs.
      tokenManager: { storage: 'localStorage' },
      // The defaults, spelled out: renew before expiry, in one tab, synced.
      services: { autoRenew: true, autoRemove: true, syncStorage: true },
    });
  }

  async start() {
    this.embedding = new Embedding(this.env, { token: async (rejected) => this.news(await this.accessToken(rejected)), problemOf });
    const tm = this.auth.tokenManager;
    tm.on('renewed', (key, token) => {
      if (key === 'accessToken') this.embedding.tell({ type: MESSAGE.token, ...this.news(token) });
    });
    tm.on('added', (key, token) => {
      if (key === 'accessToken') this.embedding.tell({ type: MESSAGE.token, ...this.news(token) });
    });
    // "error - Fired when a token renew attempt has failed. This is a
    // permanent error, and the token will be removed from storage."
    tm.on('error', (err) => this.embedding.reportLasting(problemOf(err)));
    // "call the start method right after creation and before calling
    // other methods like handleRedirect" (README, Running as a service).
    await this.auth.start();
    return this;
  }

  // --- the runner's calls ------------------------------------------------

  /** authorizationUrl: token.getWithRedirect(), whose navigation setLocation keeps. */
  async authorizationUrl() {
    this.location = undefined;
    await this.auth.token.getWithRedirect();
    return this.location;
  }

  /** completeAuthorization: token.parseFromUrl(url), then tokenManager.setTokens(tokens). */
  async completeAuthorization(url) {
    return this.embedding.signIn(async () => {
      const { tokens } = await this.auth.token.parseFromUrl(url);
      this.auth.tokenManager.setTokens(tokens);
    });
  }

  /** mount embeds a dashboard: its tokens come by postMessage, never in its URL. */
  mount(iframe, url) {
    this.embedding.mount(iframe, url);
  }

  /** logout: revokeRefreshToken() and revokeAccessToken() (as signOut() does), then tokenManager.clear(). */
  async logout() {
    const failed = [];
    for (const revoke of [() => this.auth.revokeRefreshToken(), () => this.auth.revokeAccessToken()]) {
      try {
        await revoke();
      } catch (err) {
        failed.push(problemOf(err).detail);
      }
    }
    this.auth.tokenManager.clear();
    return { outcome: 'ok', ...(failed.length && { detail: `not revoked: ${failed.join('; ')}` }) };
  }

  // --- tokens for the dashboards -------------------------------------------

  /**
   * accessToken is the access token object a dashboard gets now: the
   * TokenManager's, after tokenManager.renew('accessToken') when there is
   * none, it has expired (hasExpired) or it is the one the API just refused.
   */
  async accessToken(rejected) {
    const tm = this.auth.tokenManager;
    let { accessToken, refreshToken, idToken } = await tm.getTokens();
    if (!accessToken && !refreshToken && !idToken) {
      throw new Problem({ outcome: 'reauthorize', reason: 'no_grant', detail: 'okta-auth-js: the TokenManager holds no token' });
    }
    if (!accessToken || tm.hasExpired(accessToken) || (rejected !== undefined && accessToken.accessToken === rejected)) {
      try {
        accessToken = await tm.renew('accessToken');
      } catch (err) {
        const p = problemOf(err);
        this.embedding.reportLasting(p);
        throw p;
      }
    }
    if (!accessToken?.accessToken) {
      // TokenManager.renew(key) hands every caller the renewal already in
      // flight, which resolves to the token of the key it was started for:
      // the ID token when autoRenew started with 'idToken' (README, Findings).
      const got = accessToken?.idToken ? 'the ID token' : 'no token';
      throw new Problem({ outcome: 'reauthorize', reason: 'no_grant', detail: `okta-auth-js: tokenManager.renew('accessToken') resolved to ${got}` });
    }
    return accessToken;
  }

  news(token) {
    const expiresAt = (token.expiresAt ?? 0) * 1000;
    return { token: token.accessToken, expiresAt, useUntil: expiresAt };
  }
}

/**
 * app starts the application page's token manager (the module contract),
 * after reading the provider's discovery document for its endpoints (glue 2).
 */
export async function app(env) {
  const res = await fetch(`${env.issuer}/.well-known/openid-configuration`);
  if (!res.ok) throw new Error(`okta-auth-js adapter: discovery document: HTTP ${res.status}`);
  return new AppManager(env, await res.json()).start();
}

/** dashboard starts a dashboard frame's token manager: the reference's DashboardManager. */
export async function dashboard(env) {
  return new DashboardManager(env).start();
}
