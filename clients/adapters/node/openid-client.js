// Adapter for openid-client v6 (npm), wired as its README and API docs show:
// discovery() for the Configuration (with allowInsecureRequests, since the
// simulated provider is plain HTTP on loopback); randomPKCECodeVerifier,
// calculatePKCECodeChallenge, randomState and buildAuthorizationUrl to start
// the authorization code flow; authorizationCodeGrant with pkceCodeVerifier
// and expectedState for the callback; refreshTokenGrant for the refresh
// grant; fetchProtectedResource for the API; tokenRevocation to log out.
//
// openid-client is a protocol library, not a token manager: it has no token
// store, no expiry policy and no refresh-on-401. What the application must
// do, this adapter does in the simplest way, and says so where it does it:
// it keeps the token response in OAUTHSIM_STATE_DIR, refreshes when the
// access token has expired by the response's expires_in (the expiresIn()
// helper reaching 0), and concludes from invalid_grant that the grant is
// dead. It adds no margin, no single flight, no retry and no backoff.
//
// Usage: node openid-client.js   (run by oauthsim conform --client-cmd)

import * as client from 'openid-client';
import {
  readEnv, serve, libraryVersion, loadState, saveState, clearState, markGrant, markDead, noGrant, forgetGrant,
  oauthOutcome, apiOutcome, isNetworkError, log,
} from './protocol.js';

const env = readEnv();
const TOKEN = 'openid-client-tokens';

let config; // the client.Configuration
let pending = null; // { state, codeVerifier } of the authorization under way

// configure discovers the provider with the client secret as it is now. A
// public client (no secret) authenticates with client.None(), and uses PKCE.
async function configure() {
  const secret = env.secret();
  config = await client.discovery(
    new URL(env.issuer),
    env.clientId,
    secret,
    secret === undefined ? client.None() : undefined,
    { execute: [client.allowInsecureRequests] },
  );
}

let ready;
const init = () => (ready ??= configure());

// store keeps a token endpoint response. openid-client hands the answer as
// it came: the application stores it, with the absolute expiry that the
// expiresIn() helper gives now, and, per RFC 6749 §6, keeps the refresh
// token it has when an answer carries none.
function store(res, previous) {
  const expiresIn = res.expiresIn();
  const tokens = {
    access_token: res.access_token,
    token_type: res.token_type,
    refresh_token: res.refresh_token ?? previous?.refresh_token,
    scope: res.scope,
    expires_at: expiresIn === undefined ? undefined : Date.now() + expiresIn * 1000,
  };
  saveState(TOKEN, tokens);
  return tokens;
}

// failure maps an openid-client error to an outcome.
function failure(err) {
  if (err instanceof client.ResponseBodyError) {
    return oauthOutcome({ body: err.cause, status: err.status, message: err.message, err });
  }
  if (err instanceof client.WWWAuthenticateChallengeError) {
    return apiOutcome(err.status, err.message);
  }
  if (err instanceof client.ClientError && err.cause instanceof Response) {
    // An answer the library would not take (an unexpected status, not JSON):
    // its status tells whether it is worth retrying later.
    return oauthOutcome({ status: err.cause.status, message: `${err.message} (HTTP ${err.cause.status})`, err });
  }
  if (isNetworkError(err)) return { outcome: 'temporary_error', detail: err.message };
  return { outcome: 'error', detail: err?.message ?? String(err) };
}

serve(env, {
  name: 'openid-client',
  version: libraryVersion('openid-client'),
  // concurrency: protocol.js serves calls at once and nothing here
  // serialises them; openid-client has nothing to.
  capabilities: ['refresh', 'restart', 'concurrency', 'logout', 'secret_rotation', 'clock:faketime'],
}, {
  async authorize() {
    await init();
    const codeVerifier = client.randomPKCECodeVerifier();
    const codeChallenge = await client.calculatePKCECodeChallenge(codeVerifier);
    // The README uses state only where the server may lack PKCE; the
    // protocol has the client check state on every callback, so it is sent
    // always.
    const state = client.randomState();
    pending = { state, codeVerifier };
    const parameters = {
      redirect_uri: env.redirectUri,
      scope: env.scopesWithOffline().join(' '),
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
      state,
      ...(env.offlineAccess === 'access_type' ? { access_type: 'offline' } : {}),
    };
    return { url: client.buildAuthorizationUrl(config, parameters).href };
  },

  async callback(req) {
    await init();
    if (!pending) return { outcome: 'error', detail: 'no authorization under way' };
    try {
      const res = await client.authorizationCodeGrant(config, new URL(req.url), {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
      });
      pending = null;
      store(res);
      markGrant();
      return { outcome: 'ok' };
    } catch (err) {
      if (err instanceof client.AuthorizationResponseError) return { outcome: 'error', detail: `authorization refused: ${err.error}` };
      return failure(err);
    }
  },

  async call() {
    await init();
    let tokens = loadState(TOKEN);
    if (!tokens) return noGrant();
    // The application's expiry policy: refresh once the access token has
    // expired by its expires_in (no margin; openid-client suggests none).
    if (tokens.expires_at !== undefined && Date.now() >= tokens.expires_at) {
      if (!tokens.refresh_token) return { outcome: 'reauthorize', reason: 'no_refresh_token', detail: 'the access token expired and there is no refresh token' };
      try {
        tokens = store(await client.refreshTokenGrant(config, tokens.refresh_token), tokens);
      } catch (err) {
        log('refresh failed:', err.message);
        const out = failure(err);
        if (out.outcome === 'reauthorize') {
          // The application's reading of invalid_grant: the grant is dead,
          // the tokens are forgotten and the user must sign in again.
          clearState(TOKEN);
          markDead(out);
        }
        return out;
      }
    }
    let res;
    try {
      res = await client.fetchProtectedResource(config, tokens.access_token, new URL(env.resource), 'GET');
      await res.arrayBuffer();
    } catch (err) {
      // A 401 with a WWW-Authenticate challenge is thrown, not returned.
      return failure(err);
    }
    return apiOutcome(res.status, res.statusText);
  },

  async logout() {
    await init();
    const tokens = loadState(TOKEN);
    clearState(TOKEN);
    forgetGrant();
    if (!tokens) return { outcome: 'ok' };
    try {
      // Revoking the refresh token ends the grant (RFC 7009).
      if (tokens.refresh_token) await client.tokenRevocation(config, tokens.refresh_token, { token_type_hint: 'refresh_token' });
      else await client.tokenRevocation(config, tokens.access_token, { token_type_hint: 'access_token' });
      return { outcome: 'ok' };
    } catch (err) {
      return failure(err);
    }
  },

  async reload() {
    // The secret file changed: discover again with the new secret.
    await init();
    await configure();
    return {};
  },
});
