// The browser runner's adapter for @azure/msal-browser (the module contract
// of clients/browser/README.md: app(env) and dashboard(env)). The
// application page is MSAL's PublicClientApplication, configured as
// Microsoft documents a single-page app; every line that is not one of its
// documented calls is glue, listed with what calls for it in README.md.
//
// The dashboards are the reference token manager's DashboardManager: they
// ask the application for a token by postMessage to its exact origin, and
// the application answers with what MSAL's acquireTokenSilent gave it.

import {
  createStandardPublicClientApplication,
  AuthError,
  BrowserCacheLocation,
  EventType,
  InteractionRequiredAuthError,
  ProtocolMode,
  ServerError,
} from '@azure/msal-browser';
import { broadcastResponseToMainFrame } from '@azure/msal-browser/redirect-bridge';
import { DashboardManager } from '../../tm/reference.js';
import { Embedding, Problem, oauthError } from '../embedding.js';

/**
 * problemOf maps what MSAL threw to a Problem. MSAL's own error codes
 * (not the provider's) are read by what they say: no tokens or a refresh
 * token MSAL itself holds expired is a sign-in to do again; a request
 * that got no answer is temporary; a configuration error is one.
 */
function problemOf(err) {
  if (err instanceof Problem) return err;
  const code = err?.errorCode ?? '';
  const detail = `${err?.name ?? 'Error'}: ${code ? `${code}: ` : ''}${err?.errorMessage ?? err?.message ?? String(err)}${err?.subError ? ` (suberror ${err.subError})` : ''}`;
  if (err instanceof InteractionRequiredAuthError) {
    if (code === 'no_tokens_found') return new Problem({ outcome: 'reauthorize', reason: 'no_grant', detail });
    if (code === 'refresh_token_expired') return new Problem({ outcome: 'reauthorize', reason: 'expired', detail });
    return new Problem({ ...oauthError({ code, description: err.errorMessage ?? '', suberror: err.subError ?? '' }), detail });
  }
  if (err instanceof ServerError) {
    return new Problem({ ...oauthError({ status: err.status ?? 0, code, description: err.errorMessage ?? '', suberror: err.subError ?? '' }), detail });
  }
  if (err?.name === 'ClientConfigurationError' || err?.name === 'BrowserConfigurationAuthError') {
    return new Problem({ outcome: 'configuration_error', detail });
  }
  if (['no_network_connectivity', 'post_request_failed', 'get_request_failed', 'failed_to_parse_response', 'timed_out', 'monitor_window_timeout'].includes(code)) {
    return new Problem({ outcome: 'temporary_error', detail });
  }
  if (code === 'no_account_error') return new Problem({ outcome: 'reauthorize', reason: 'no_grant', detail });
  return new Problem({ outcome: 'error', detail });
}

// --- the application ---------------------------------------------------------------

/** discovery reads the provider's discovery document: MSAL's authorityMetadata (README, glue). */
async function discovery(issuer) {
  const res = await fetch(`${String(issuer).replace(/\/+$/, '')}/.well-known/openid-configuration`);
  if (!res.ok) throw new Problem({ outcome: 'temporary_error', detail: `the discovery document: HTTP ${res.status}` });
  return res.text();
}

class App {
  constructor(env, pca, redirect) {
    this.env = env;
    this.pca = pca;
    this.redirect = redirect;
    this.navigateTo = undefined;
    this.scopes = [...(env.scopes ?? [])];
    if (env.offlineAccess === 'scope' && !this.scopes.includes('offline_access')) this.scopes.push('offline_access');
    this.embedding = new Embedding(env, {
      token: async (rejected) => {
        const res = await this.token({ rejected });
        // useUntil 0: the dashboard asks again for every load, and
        // acquireTokenSilent decides whether the cached token will do.
        return { token: res.accessToken, expiresAt: res.expiresOn?.getTime?.() ?? 0, useUntil: 0 };
      },
      problemOf,
    });
  }

  account() {
    return this.pca.getActiveAccount() ?? this.pca.getAllAccounts()[0] ?? null;
  }

  /** authorizationUrl: loginRedirect, whose navigation onRedirectNavigate stops and keeps (README, glue). */
  async authorizationUrl() {
    this.navigateTo = undefined;
    await this.pca.loginRedirect({ scopes: this.scopes, redirectUri: this.env.redirectUri });
    if (!this.navigateTo) throw new Problem({ outcome: 'error', detail: 'loginRedirect did not navigate' });
    return this.navigateTo;
  }

  /** completeAuthorization: what handleRedirectPromise, called at load, made of the callback. */
  async completeAuthorization() {
    return this.embedding.signIn(async () => {
      const result = await this.redirect;
      if (!result) return { outcome: 'error', detail: 'handleRedirectPromise found no response to a request of this tab' };
      this.pca.setActiveAccount(result.account);
      return undefined;
    });
  }

  mount(iframe, url) {
    this.embedding.mount(iframe, url);
  }

  /** token: acquireTokenSilent, with forceRefresh when the API refused the token MSAL gave. */
  async token({ rejected } = {}) {
    const account = this.account();
    if (!account) throw new Problem({ outcome: 'reauthorize', reason: 'no_grant', detail: 'the user has not signed in' });
    try {
      return await this.pca.acquireTokenSilent({ scopes: this.scopes, account, ...(rejected && { forceRefresh: true }) });
    } catch (err) {
      const p = problemOf(err);
      this.embedding.reportLasting(p);
      throw p;
    }
  }

  /** logout: logoutRedirect, whose navigation onRedirectNavigate stops after MSAL cleared its cache. */
  async logout() {
    try {
      await this.pca.logoutRedirect({ account: this.account() ?? undefined });
      return { outcome: 'ok', ...(this.navigateTo && { detail: `not navigated to ${this.navigateTo.split('?')[0]}` }) };
    } catch (err) {
      return problemOf(err).result;
    }
  }
}

/** app starts MSAL in an application page (the module contract's export). */
export async function app(env) {
  // MSAL's hidden iframe (silent renewal) lands on the redirect URI, this
  // page: it hands the response to the frame that opened it.
  if (window.parent !== window) {
    await broadcastResponseToMainFrame().catch(() => {});
    return { authorizationUrl: async () => '', completeAuthorization: async () => ({ outcome: 'error' }), mount() {}, logout: async () => ({ outcome: 'error' }) };
  }
  const issuer = new URL(env.issuer);
  let holder;
  const config = {
    auth: {
      clientId: env.clientId,
      authority: `https://${issuer.host}${issuer.pathname}`,
      knownAuthorities: [issuer.host],
      authorityMetadata: await discovery(env.issuer),
      redirectUri: env.redirectUri,
      OIDCOptions: { responseMode: 'query' },
      onRedirectNavigate: (url) => {
        holder.navigateTo = url;
        return false;
      },
    },
    cache: { cacheLocation: BrowserCacheLocation.LocalStorage },
    system: { protocolMode: ProtocolMode.OIDC },
  };
  const pca = await createStandardPublicClientApplication(config);
  const redirect = pca.handleRedirectPromise({ navigateToLoginRequestUrl: false });
  holder = new App(env, pca, redirect);
  // Other tabs and the page's own sign-in: the account MSAL signed in.
  pca.addEventCallback((ev) => {
    if (ev.eventType === EventType.LOGIN_SUCCESS && ev.payload?.account) pca.setActiveAccount(ev.payload.account);
  });
  await redirect.catch(() => {});
  return holder;
}

/** dashboard starts a dashboard frame's manager: the reference's DashboardManager. */
export async function dashboard(env) {
  return new DashboardManager(env).start();
}
