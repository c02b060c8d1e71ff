// Adapter for @badgateway/oauth2-client (npm), wired as its README shows:
// an OAuth2Client that discovers its endpoints from the server's metadata
// document (RFC 8414); the authorization_code helpers with PKCE
// (generateCodeVerifier, getAuthorizeUri, getTokenFromCodeRedirect); and the
// OAuth2Fetch wrapper for API calls, which adds the Bearer token, refreshes
// it when it has expired or the API answered 401, and keeps one refresh at a
// time, with the README's storeToken/getStoredToken hooks keeping the token
// in OAUTHSIM_STATE_DIR.
//
// The wrapper owns the token from then on: nothing here refreshes, retries
// or forgets tokens behind its back.
//
// Usage: node badgateway-oauth2-client.js   (run by oauthsim conform --client-cmd)

import { OAuth2Client, OAuth2Fetch, OAuth2HttpError, generateCodeVerifier } from '@badgateway/oauth2-client';
import {
  readEnv, serve, libraryVersion, tokenFile, markGrant, forgetGrant, randomState, oauthOutcome, callApi,
  libraryFailure, log,
} from './protocol.js';

const env = readEnv();
const stored = tokenFile('badgateway-token');
const NO_TOKENS = 'Unable to obtain OAuth2 tokens, a full reauth may be needed';

let client; // the OAuth2Client
let wrapper; // the OAuth2Fetch
let pending = null; // { state, codeVerifier } of the authorization under way

// build makes the client (with the secret file as it is now) and the fetch
// wrapper, which finds the stored token through getStoredToken.
function build() {
  const secret = env.secret();
  client = new OAuth2Client({
    // "The base URI of your OAuth2 server": the other endpoints are
    // discovered from its /.well-known/oauth-authorization-server.
    server: env.issuer,
    clientId: env.clientId,
    ...(secret !== undefined ? { clientSecret: secret } : {}),
  });
  wrapper = new OAuth2Fetch({
    client,
    // "You are responsible for implementing this function": it supplies a
    // token when the wrapper has none or its refresh failed. Inside an API
    // call there is no user to send through the authorization, so, as the
    // README suggests for that case, it returns null to fail the process.
    getNewToken: () => null,
    storeToken: (token) => stored.save(token),
    getStoredToken: () => stored.load(),
    onError: (err) => log('OAuth2Fetch:', err.message),
  });
}

// failure maps an error of the library's to an outcome.
function failure(err, hadToken) {
  if (err instanceof OAuth2HttpError) {
    return oauthOutcome({ body: err.parsedBody, status: err.httpCode, message: err.message, err });
  }
  if (err?.message === NO_TOKENS) {
    // The wrapper's own verdict: its refresh failed (or it had no token) and
    // getNewToken gave none. It swallows the refresh's error (it only logs
    // "refresh token not accepted"), so why the grant failed is unknown here.
    return hadToken
      ? { outcome: 'reauthorize', reason: 'unknown', detail: err.message }
      : { outcome: 'reauthorize', reason: 'no_grant', detail: err.message };
  }
  return libraryFailure(err);
}

serve(env, {
  name: '@badgateway/oauth2-client',
  version: libraryVersion('@badgateway/oauth2-client'),
  // concurrency: protocol.js serves calls at once; the wrapper keeps one
  // refresh at a time by itself.
  capabilities: ['refresh', 'restart', 'concurrency', 'logout', 'secret_rotation', 'clock:faketime'],
}, {
  build,

  async authorize() {
    const codeVerifier = await generateCodeVerifier();
    const state = randomState();
    pending = { state, codeVerifier };
    const url = await client.authorizationCode.getAuthorizeUri({
      redirectUri: env.redirectUri,
      state,
      codeVerifier,
      scope: env.scopesWithOffline(),
      ...(env.offlineAccess === 'access_type' ? { extraParams: { access_type: 'offline' } } : {}),
    });
    return { url };
  },

  async callback(req) {
    if (!pending) return { outcome: 'error', detail: 'no authorization under way' };
    let token;
    try {
      // Checks the state and the error parameter, and redeems the code.
      token = await client.authorizationCode.getTokenFromCodeRedirect(req.url, {
        redirectUri: env.redirectUri,
        state: pending.state,
        codeVerifier: pending.codeVerifier,
      });
    } catch (err) {
      return failure(err, false);
    }
    pending = null;
    // The new token goes where storeToken keeps tokens, and a new wrapper
    // picks it up with getStoredToken, as after a restart: the wrapper has no
    // other way in for a token obtained outside getNewToken.
    stored.save(token);
    markGrant();
    build();
    return { outcome: 'ok' };
  },

  async call() {
    const hadToken = stored.load() !== null;
    return callApi(() => wrapper.fetch(env.resource), (err) => failure(err, hadToken));
  },

  async logout() {
    const token = stored.load();
    // Forget the tokens whatever the revocation answers: a wrapper without a
    // stored token.
    stored.clear();
    forgetGrant();
    build();
    if (!token) return { outcome: 'ok' };
    try {
      // RFC 7009 with the library's revoke(): the refresh token ends the grant.
      if (token.refreshToken) await client.revoke(token, 'refresh_token');
      else await client.revoke(token, 'access_token');
      return { outcome: 'ok' };
    } catch (err) {
      return failure(err, true);
    }
  },
});
