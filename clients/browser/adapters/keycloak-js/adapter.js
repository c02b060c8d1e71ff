// The keycloak-js adapter page module (clients/browser/README.md, "The
// module"): keycloak-js configured as its documentation shows, against an
// OpenID provider that is not a Keycloak server. Every line beyond the
// documented calls is listed, with what calls for it, in README.md here.
import Keycloak from 'keycloak-js';
// The dashboard side is the reference's, unchanged: dashboards ask the
// application for tokens by postMessage to its exact origin.
import { DashboardManager, asProblem } from '../../tm/reference.js';
import { Embedding, Problem, tokenErrorOutcome } from '../embedding.js';

// updateToken's minValidity, in seconds: the documentation's example value.
const MIN_VALIDITY = 30;

class KeycloakApp {
  constructor(env) {
    this.env = env;
    const scope = [...env.scopes.filter((s) => s !== 'openid'), ...(env.offlineAccess === 'scope' ? ['offline_access'] : [])];
    this.keycloak = new Keycloak({ clientId: env.clientId, oidcProvider: env.issuer });
    this.initOptions = {
      onLoad: 'check-sso',
      silentCheckSsoRedirectUri: env.redirectUri,
      checkLoginIframe: false,
      pkceMethod: 'S256',
      responseMode: 'query',
      redirectUri: env.redirectUri,
      scope: scope.join(' '),
    };
    this.keycloak.onTokenExpired = () => {
      this.keycloak.updateToken(MIN_VALIDITY).catch((err) => this.fail(err));
    };
  }

  start() {
    this.embedding = new Embedding(this.env, { token: (rejected) => this.token(rejected) });
    this.ready = this.keycloak.init(this.initOptions).then(
      (authenticated) => ({ authenticated }),
      (error) => ({ error }));
    return this;
  }

  // --- login and its callback ---------------------------------------------------

  async authorizationUrl() {
    return this.keycloak.createLoginUrl({ redirectUri: this.env.redirectUri });
  }

  async completeAuthorization() {
    const r = await this.ready;
    if (r.error) return (await this.problem(r.error)).result;
    if (!r.authenticated) return { outcome: 'error', detail: 'keycloak-js did not authenticate on the callback page' };
    return { outcome: 'ok' };
  }

  // --- tokens for the dashboards -----------------------------------------------

  mount(iframe, url) {
    this.embedding.mount(iframe, url);
  }

  /** token is updateToken's: forced when the API refused the token keycloak-js holds. */
  async token(rejected) {
    try {
      await this.ready;
      await this.keycloak.updateToken(rejected && rejected === this.keycloak.token ? -1 : MIN_VALIDITY);
      return { token: this.keycloak.token, useUntil: 0 };
    } catch (err) {
      const p = await this.problem(err);
      this.embedding.report(p);
      throw p;
    }
  }

  // --- logout ---------------------------------------------------------------

  async logout() {
    try {
      await this.keycloak.logout({ redirectUri: this.env.appOrigin + '/' });
      return { outcome: 'ok' };
    } catch (err) {
      this.keycloak.clearToken();
      return { outcome: 'ok', detail: `keycloak-js could not log out at the provider: ${err?.message ?? err}; its tokens are cleared, nothing was revoked` };
    }
  }

  // --- errors ------------------------------------------------------------------

  async problem(err) {
    if (err instanceof Problem) return err;
    // keycloak-js's NetworkError carries the token endpoint's Response, its body unread.
    if (err?.response && typeof err.response.status === 'number') {
      const status = err.response.status;
      let body;
      try { body = await err.response.clone().json(); } catch { body = undefined; }
      const o = tokenErrorOutcome({ status, body: body && typeof body === 'object' ? body : undefined });
      const desc = body?.error ? `${body.error}${body.error_description ? ': ' + body.error_description : ''}` : `HTTP ${status}`;
      return new Problem({ ...o, detail: `keycloak-js: ${err.message} (${desc})` });
    }
    // The callback's error, as keycloak-js throws it: {error, error_description}.
    if (err && typeof err.error === 'string') {
      const o = tokenErrorOutcome({ status: 400, body: err });
      return new Problem({ ...o, detail: `${err.error}: ${err.error_description ?? ''}` });
    }
    const msg = String(err?.message ?? err);
    if (msg.startsWith('Unable to update token, no refresh token available')) {
      return new Problem({ outcome: 'reauthorize', reason: 'no_grant', detail: `keycloak-js: ${msg}` });
    }
    if (err instanceof TypeError && /fetch/i.test(msg)) {
      return new Problem({ outcome: 'temporary_error', detail: `keycloak-js: ${msg}` });
    }
    return asProblem(err);
  }

  async fail(err) {
    this.embedding.report(await this.problem(err));
  }
}

/**
 * app starts keycloak-js in an application page. In the hidden frame of
 * keycloak-js's silent check-sso, the callback page only hands its URL to
 * the application, as the documentation's silent-check-sso.html does.
 */
export async function app(env) {
  if (window.parent !== window && location.pathname === new URL(env.redirectUri).pathname) {
    parent.postMessage(location.href, location.origin);
    return { authorizationUrl: async () => '', completeAuthorization: async () => ({ outcome: 'ok' }), mount() {}, logout: async () => ({ outcome: 'ok' }) };
  }
  return new KeycloakApp(env).start();
}

/** dashboard is the reference's dashboard manager. */
export async function dashboard(env) {
  return new DashboardManager(env).start();
}
