// Adapter for openid-client v6 (npm), wired as its README and API docs show:
// discovery() for the Configuration (with allowInsecureRequests, since the
// simulated provider is plain HTTP on loopback); randomPKCECodeVerifier,
// calculatePKCECodeChallenge, randomState and buildAuthorizationUrl to start
// the authorization code flow; authorizationCodeGrant with pkceCodeVerifier
// and expectedState for the callback; refreshTokenGrant for the refresh
// grant; fetchProtectedResource for the API; tokenRevocation to log out.
//
// openid-client is a protocol library, not a token manager: it has no token
// store, no expiry policy and no refresh-on-401, and its docs give no recipe
// for when to call refreshTokenGrant. What an application cannot do without,
// this adapter does in the simplest way, and says so where it does it: it
// keeps the token response in OAUTHSIM_STATE_DIR and refreshes once the
// access token has expired by the response's expires_in (the expiresIn()
// helper, which "Returns `0` when already expired"). It adds no margin, no
// single flight, no retry, no backoff and no memory of a dead grant: an
// error is answered by the outcome table (clients/adapters/README.md) and
// the stored tokens stay as they are.
//
// Usage: node openid-client.js   (run by oauthsim conform --client-cmd)
// selfcheck.js imports it for failure alone, which runs no adapter.

import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import * as client from 'openid-client';
import {
  readEnv, serve, libraryVersion, tokenFile, markGrant, noGrant, forgetGrant, oauthOutcome, apiOutcome, callApi,
  libraryFailure, unreadableAnswer, log,
} from './protocol.js';

// Run as the adapter, unless imported.
const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href;
const env = isMain ? readEnv() : undefined;
const stored = tokenFile('openid-client-tokens');

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

// store keeps a token endpoint response. openid-client hands the answer as
// it came: the application stores it, with the absolute expiry that the
// expiresIn() helper gives now, and keeps the refresh token it has when an
// answer carries none (RFC 6749 §6: the server "MAY issue a new refresh
// token"; when it does not, the old one is the only one there is).
function store(res, previous) {
  const expiresIn = res.expiresIn();
  const tokens = {
    access_token: res.access_token,
    token_type: res.token_type,
    refresh_token: res.refresh_token ?? previous?.refresh_token,
    scope: res.scope,
    expires_at: expiresIn === undefined ? undefined : Date.now() + expiresIn * 1000,
  };
  stored.save(tokens);
  return tokens;
}

// failure maps an openid-client error to an outcome.
export function failure(err) {
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
  const inner = err instanceof client.ClientError ? err.cause : undefined; // oauth4webapi's OperationProcessingError
  if (err?.code === 'OAUTH_PARSE_ERROR' && inner) {
    // oauth4webapi's getResponseJsonBody: a token answer labelled JSON whose
    // body would not parse (empty, cut short; under another label it is
    // OAUTH_RESPONSE_IS_NOT_JSON, with the Response, above), or an ID token
    // in it that would not. No status comes with it: an answer with no error.
    return unreadableAnswer(`${err.message}: ${inner.message}`);
  }
  if (err?.code === 'OAUTH_INVALID_RESPONSE' && inner?.cause && typeof inner.cause === 'object' && 'body' in inner.cause) {
    // oauth4webapi's checks of a 200 token answer's JSON (getResponseJsonBody,
    // processGenericAccessTokenResponse): no object, or no valid access_token
    // or token_type, the body handed over as cause.body. GitHub and Slack
    // answer their errors so, with 200; the table reads the body.
    return oauthOutcome({ body: inner.cause.body, message: `${err.message}: ${inner.message}`, err });
  }
  return libraryFailure(err);
}

if (isMain) serve(env, {
  name: 'openid-client',
  version: libraryVersion('openid-client'),
  // concurrency: protocol.js serves calls at once and nothing here
  // serialises them; openid-client has nothing to.
  capabilities: ['refresh', 'restart', 'concurrency', 'logout', 'secret_rotation', 'clock:faketime'],
}, {
  build: configure,

  async authorize() {
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
    let tokens = stored.load();
    if (!tokens) return noGrant();
    // The application's expiry policy: refresh once the access token has
    // expired by its expires_in (no margin; openid-client suggests none).
    if (tokens.expires_at !== undefined && Date.now() >= tokens.expires_at) {
      // refreshTokenGrant needs a refresh token; without one, the
      // application can only send its user back to sign in.
      if (!tokens.refresh_token) return { outcome: 'reauthorize', reason: 'no_refresh_token', detail: 'the access token expired and there is no refresh token' };
      try {
        tokens = store(await client.refreshTokenGrant(config, tokens.refresh_token), tokens);
      } catch (err) {
        log('refresh failed:', err.message);
        return failure(err);
      }
    }
    // A 401 with a WWW-Authenticate challenge is thrown, not returned.
    return callApi(() => client.fetchProtectedResource(config, tokens.access_token, new URL(env.resource), 'GET'), failure);
  },

  async logout() {
    const tokens = stored.load();
    stored.clear();
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
});
