// The oidc-client-ts adapter page module: the browser runner's token-manager
// contract (../../README.md: exports app and dashboard) around the SDK's
// UserManager, configured as its documentation shows a single-page app.
// Everything this file adds beyond the SDK's documented calls is listed,
// with what calls for it, in README.md beside it ("Glue").
//
// The application page (app) is the SDK: UserManager signs the user in
// (signinRedirect, signinCallback), keeps the user in its userStore, renews
// the access token itself (automaticSilentRenew: the refresh_token grant
// when it holds a refresh token, else a hidden iframe with prompt=none),
// and revokes the tokens on logout (revokeTokens, removeUser). The adapter
// hands a dashboard the access token of getUser(), after signinSilent()
// when it has expired or the API refused it, by postMessage to the
// dashboard origin only. A dashboard is the reference module's
// DashboardManager (../../tm/reference.js), imported as it is.

import { UserManager, WebStorageStateStore, ErrorResponse, ErrorTimeout } from 'oidc-client-ts';
import { DashboardManager } from '../../tm/reference.js';
import { Embedding, MESSAGE, Problem, oauthError } from '../embedding.js';

/**
 * problemOf maps what oidc-client-ts threw to the protocol's outcomes, as
 * closely as the SDK reports it:
 * - ErrorResponse: the provider's OAuth error (from the token endpoint, or
 *   the redirect's error parameter at the callback): the table, rows 1-4;
 * - ErrorTimeout: its own request timeout (silentRequestTimeoutInSeconds):
 *   no answer, temporary_error;
 * - a TypeError from fetch (refused, reset, or blocked by CORS: the browser
 *   says "Failed to fetch" for all of them): no answer, temporary_error;
 * - JsonService's own words for an answer without an OAuth error,
 *   "STATUS_TEXT (STATUS)..." or "Invalid response Content-Type", and a
 *   SyntaxError from a 200 that is not JSON: row 5, temporary_error;
 * - anything else, in the SDK's words: error.
 */
function problemOf(err) {
  if (err instanceof Problem) return err;
  const message = String(err?.message ?? err);
  if (err instanceof ErrorResponse || err?.name === 'ErrorResponse') {
    const code = String(err.error ?? '');
    const desc = String(err.error_description ?? '');
    // ErrorResponse keeps the answer's error, error_description and
    // error_uri, not its status (JsonService.postForm): rows 1 and 2 match
    // by code and description only.
    return new Problem({ ...oauthError({ code, description: desc }), detail: `oidc-client-ts: ${code}${desc ? `: ${desc}` : ''}` });
  }
  if (err instanceof ErrorTimeout || err?.name === 'ErrorTimeout') {
    return new Problem({ outcome: 'temporary_error', detail: `oidc-client-ts: ${message}` });
  }
  if (err instanceof TypeError && /fetch/i.test(message)) {
    return new Problem({ outcome: 'temporary_error', detail: `oidc-client-ts: no answer (${message})` });
  }
  if (/\(\d{3}\)/.test(message) || message.startsWith('Invalid response Content-Type') || err instanceof SyntaxError) {
    return new Problem({ outcome: 'temporary_error', detail: `oidc-client-ts: an answer without an OAuth error (${message})` });
  }
  return new Problem({ outcome: 'error', detail: `oidc-client-ts: ${message}` });
}

// --- signing in: the authorization URL ------------------------------------------

/**
 * UrlNavigator is the INavigator given to UserManager's constructor as its
 * redirectNavigator: where the SDK's RedirectNavigator would assign the
 * window's location, it keeps the URL, so that signinRedirect() prepares the
 * sign-in (PKCE, state and nonce in its stateStore) exactly as it does for
 * the SDK's users, and the runner sends the tab there itself.
 */
class UrlNavigator {
  constructor() {
    this.url = undefined;
  }

  async prepare() {
    return {
      navigate: async ({ url }) => {
        this.url = url;
        return url;
      },
      close: () => {},
    };
  }

  async callback() {}
}

// --- the application's manager ------------------------------------------------------

class AppManager {
  constructor(env) {
    this.env = env;
    this.renewing = undefined;
    const scopes = [...(env.scopes ?? [])];
    if (env.offlineAccess === 'scope' && !scopes.includes('offline_access')) scopes.push('offline_access');
    this.navigator = new UrlNavigator();
    this.um = new UserManager({
      authority: env.issuer,
      client_id: env.clientId,
      redirect_uri: env.redirectUri,
      response_type: 'code',
      scope: scopes.join(' '),
      ...(env.offlineAccess === 'access_type' && { extraQueryParams: { access_type: 'offline' } }),
      // The default, spelled out: renew before expiry, by refresh token
      // when there is one, else by a hidden iframe (prompt=none).
      automaticSilentRenew: true,
      // The tabs of the origin share the signed-in user.
      userStore: new WebStorageStateStore({ store: window.localStorage }),
    }, this.navigator);
  }

  start() {
    this.embedding = new Embedding(this.env, { token: async (rejected) => this.news(await this.user(rejected)), problemOf });
    // The SDK's events: new tokens are news for the dashboards; a failed
    // automatic renewal that will not pass by itself is told to the user.
    this.um.events.addUserLoaded((user) => this.embedding.tell({ type: MESSAGE.token, ...this.news(user) }));
    this.um.events.addUserUnloaded(() => this.embedding.tell({ type: MESSAGE.error, outcome: 'reauthorize', reason: 'no_grant', detail: 'the user is signed out' }));
    this.um.events.addSilentRenewError((err) => this.embedding.reportLasting(problemOf(err)));
    return this;
  }

  // --- the runner's calls ------------------------------------------------

  /** authorizationUrl: signinRedirect(), whose navigation UrlNavigator keeps. */
  async authorizationUrl() {
    this.navigator.url = undefined;
    await this.um.signinRedirect();
    return this.navigator.url;
  }

  /** completeAuthorization: signinCallback(url) on the callback page. */
  async completeAuthorization(url) {
    // A refusal at the redirect is an authorization's answer: a step-up
    // code asks for the user, a malformed request is the configuration's.
    return this.embedding.signIn(async () => {
      await this.um.signinCallback(url);
    });
  }

  /** mount embeds a dashboard: its tokens come by postMessage, never in its URL. */
  mount(iframe, url) {
    this.embedding.mount(iframe, url);
  }

  /** logout: revokeTokens() (access and refresh token, the SDK's default), then removeUser(). */
  async logout() {
    let detail = '';
    try {
      await this.um.revokeTokens();
    } catch (err) {
      detail = `not revoked: ${problemOf(err).detail}`;
    }
    await this.um.removeUser();
    return { outcome: 'ok', ...(detail && { detail }) };
  }

  // --- tokens for the dashboards -------------------------------------------

  /**
   * user is the signed-in user whose access token a dashboard gets now:
   * getUser()'s, after signinSilent() when it has expired or is the one the
   * API just refused (rejected).
   */
  async user(rejected) {
    let user = await this.um.getUser();
    if (!user) throw new Problem({ outcome: 'reauthorize', reason: 'no_grant', detail: 'oidc-client-ts: no user (getUser() is null)' });
    if (user.expired || (rejected !== undefined && user.access_token === rejected)) user = await this.renew();
    if (!user?.access_token) throw new Problem({ outcome: 'reauthorize', reason: 'no_grant', detail: 'oidc-client-ts: signinSilent() gave no user' });
    return user;
  }

  /** renew is one signinSilent() of this page at a time, shared by the dashboards that ask meanwhile. */
  renew() {
    this.renewing ??= this.um.signinSilent().catch((err) => {
      const p = problemOf(err);
      this.embedding.reportLasting(p);
      throw p;
    }).finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  }

  news(user) {
    const expiresAt = (user.expires_at ?? 0) * 1000;
    return { token: user.access_token, expiresAt, useUntil: expiresAt };
  }
}

/** app starts the application page's token manager (the module contract). */
export async function app(env) {
  return new AppManager(env).start();
}

/** dashboard starts a dashboard frame's token manager: the reference's DashboardManager. */
export async function dashboard(env) {
  return new DashboardManager(env).start();
}
