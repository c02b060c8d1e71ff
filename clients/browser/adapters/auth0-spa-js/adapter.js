// The browser runner's module contract (../../README.md) for @auth0/auth0-spa-js:
// the application page is an Auth0Client configured as Auth0's docs show
// (README.md beside this file gives each setting and every line of glue
// with the passage that calls for it); the dashboards are the reference
// token manager's DashboardManager (../../tm/reference.js), which asks the
// application for a token by postMessage to its exact origin.

import { Auth0Client, GenericError, MissingRefreshTokenError, TimeoutError } from '@auth0/auth0-spa-js';
import { DashboardManager } from '../../tm/reference.js';
import { Embedding, Problem, oauthError } from '../embedding.js';

/** outcomeOf maps what getTokenSilently or handleRedirectCallback threw to a result. */
export function outcomeOf(err) {
  const detail = String(err?.error_description || err?.message || err);
  if (err instanceof MissingRefreshTokenError) {
    // The SDK's cache has no refresh token (and the iframe fallback is off).
    return { outcome: 'reauthorize', reason: 'no_refresh_token', detail };
  }
  if (err instanceof TimeoutError || err?.error === 'timeout') {
    // The iframe fallback's timeout: no answer came.
    return { outcome: 'temporary_error', detail };
  }
  if (err instanceof GenericError || typeof err?.error === 'string') {
    if (err.error === 'missing_refresh_token') {
      return { outcome: 'reauthorize', reason: 'no_refresh_token', detail };
    }
    if (err.error === 'request_error') {
      // The SDK's own code for a token answer without an error member
      // (src/http.ts): row 5 of the table.
      return { outcome: 'temporary_error', detail };
    }
    // The SDK passes on the answer's error and error_description, not its
    // status: the table's rows read from the code and the description.
    return { ...oauthError({ code: err.error, description: err.error_description ?? '' }), detail };
  }
  if (err instanceof TypeError) {
    // fetch refused, reset or blocked (CORS): no answer.
    return { outcome: 'temporary_error', detail };
  }
  return { outcome: 'error', detail };
}

class App {
  constructor(env) {
    this.env = env;
    const scopes = [...(env.scopes ?? [])];
    this.client = new Auth0Client({
      domain: env.issuer,
      clientId: env.clientId,
      authorizationParams: {
        redirect_uri: env.redirectUri,
        scope: scopes.join(' '),
      },
      useRefreshTokens: true,
      useRefreshTokensFallback: true,
      cacheLocation: 'localstorage',
    });
    this.embedding = new Embedding(env, {
      token: async (rejected) => {
        try {
          const r = await this.client.getTokenSilently({ detailedResponse: true, ...(rejected && { cacheMode: 'off' }) });
          // useUntil 0: the dashboard asks again for every load, and the
          // SDK's cache decides whether a token is still good.
          return { token: r.access_token, expiresAt: Date.now() + r.expires_in * 1000, useUntil: 0 };
        } catch (err) {
          const p = new Problem(outcomeOf(err));
          this.embedding.reportLasting(p);
          throw p;
        }
      },
    });
  }

  async authorizationUrl() {
    let url;
    await this.client.loginWithRedirect({
      openUrl: (u) => {
        url = u;
      },
    });
    return url;
  }

  async completeAuthorization(url) {
    try {
      await this.client.handleRedirectCallback(url);
      return { outcome: 'ok', detail: '' };
    } catch (err) {
      return outcomeOf(err);
    }
  }

  mount(iframe, url) {
    this.embedding.mount(iframe, url);
  }

  async logout() {
    try {
      await this.client.logout({ openUrl: false });
      return { outcome: 'ok', detail: '' };
    } catch (err) {
      return outcomeOf(err);
    }
  }
}

export async function app(env) {
  return new App(env);
}

export async function dashboard(env) {
  return new DashboardManager(env).start();
}
