// Adapter for google-auth-library (npm), wired as its README's OAuth2
// section shows: an OAuth2Client with clientId, clientSecret and redirectUri;
// generateAuthUrl with access_type 'offline' (where the provider wants it)
// and a PKCE S256 challenge from generateCodeVerifierAsync; getToken with the
// code and codeVerifier, then setCredentials; request() for API calls, which
// refreshes the access token by itself (five minutes ahead of expiry_date);
// the 'tokens' event to store the newest tokens; revokeCredentials to log out.
//
// The library is built for Google: its endpoints are set from the simulated
// provider's metadata through the documented `endpoints` option
// (oauth2AuthBaseUrl, oauth2TokenUrl, oauth2RevokeUrl). The library does not
// discover them itself.
//
// Usage: node google-auth-library.js   (run by oauthsim conform --client-cmd)

import { OAuth2Client, CodeChallengeMethod, gaxios } from 'google-auth-library';
import {
  readEnv, serve, discover, libraryVersion, tokenFile, markGrant, forgetGrant, randomState, callbackParams,
  oauthOutcome, apiOutcome, libraryFailure, log, noGrant,
} from './protocol.js';

const env = readEnv();
const stored = tokenFile('google-auth-library-credentials');

let metadata; // the provider's endpoints
let client; // the OAuth2Client
let pending = null; // { state, codeVerifier } of the authorization under way

// build makes the client with the secret file as it is now, and gives it
// the stored credentials (setCredentials), as an application starting up
// with tokens from its database does.
async function build() {
  metadata ??= await discover(env.issuer);
  const secret = env.secret();
  client = new OAuth2Client({
    clientId: env.clientId,
    clientSecret: secret,
    redirectUri: env.redirectUri,
    endpoints: {
      oauth2AuthBaseUrl: metadata.authorization_endpoint,
      oauth2TokenUrl: metadata.token_endpoint,
      ...(metadata.revocation_endpoint ? { oauth2RevokeUrl: metadata.revocation_endpoint } : {}),
    },
    // clientAuthentication stays at its default (client_secret_post): a
    // public client's undefined secret is left out of the body.
  });
  // "An easy way to make sure you always store the most recent tokens is to
  // use the tokens event": the event carries what the token endpoint
  // answered; a refresh_token comes only when the provider sends one, so the
  // stored one is kept otherwise. The listener runs synchronously, before
  // the library goes on with the same object.
  client.on('tokens', (tokens) => {
    if (!tokens || typeof tokens !== 'object') {
      // The library emits whatever body the token endpoint sent, parsed or
      // not (a garbled answer arrives as a string): nothing to store.
      log(`the tokens event carried a ${typeof tokens}, not tokens; nothing stored`);
      return;
    }
    const previous = stored.load() ?? {};
    stored.save({ ...previous, ...tokens, refresh_token: tokens.refresh_token ?? previous.refresh_token });
  });
  const credentials = stored.load();
  if (credentials) client.setCredentials(credentials);
}

// failure maps an error of the library's to an outcome: a failed token
// request (its OAuth error body and status), the API's answer, or messages
// the library throws when it has nothing to refresh with.
function failure(err) {
  if (err instanceof gaxios.GaxiosError) {
    const res = err.response;
    if (!res) return libraryFailure(err);
    // A request to the token or revocation endpoint: an OAuth answer.
    const url = String(err.config?.url ?? '');
    const oauthEndpoint = [client.endpoints.oauth2TokenUrl, client.endpoints.oauth2RevokeUrl]
      .some((e) => url === String(e) || url.startsWith(String(e) + '?'));
    if (oauthEndpoint) {
      const body = res.data && typeof res.data === 'object' ? res.data : undefined;
      return oauthOutcome({ body, status: res.status, message: err.message, err });
    }
    return apiOutcome(res.status, res.statusText);
  }
  switch (err?.message) {
    case 'No access, refresh token, API key or refresh handler callback is set.':
      return noGrant();
    case 'No refresh token is set.':
    case 'No refresh token or refresh handler callback is set.':
      return { outcome: 'reauthorize', reason: 'no_refresh_token', detail: err.message };
  }
  return libraryFailure(err);
}

serve(env, {
  name: 'google-auth-library',
  version: libraryVersion('google-auth-library'),
  // concurrency: protocol.js serves calls at once; the client shares one
  // refresh among callers with the same refresh token by itself.
  capabilities: ['refresh', 'restart', 'concurrency', 'logout', 'secret_rotation', 'clock:faketime'],
}, {
  build,

  async authorize() {
    const { codeVerifier, codeChallenge } = await client.generateCodeVerifierAsync();
    const state = randomState();
    pending = { state, codeVerifier };
    const url = client.generateAuthUrl({
      // "To get a refresh token, you MUST set access_type to offline" at
      // Google; other providers want the offline_access scope instead.
      ...(env.offlineAccess === 'access_type' ? { access_type: 'offline' } : {}),
      scope: env.scopesWithOffline(),
      state,
      code_challenge_method: CodeChallengeMethod.S256,
      code_challenge: codeChallenge,
    });
    return { url };
  },

  async callback(req) {
    if (!pending) return { outcome: 'error', detail: 'no authorization under way' };
    // The library leaves the redirect to the application (its README reads
    // the code from the query string); the state is checked here.
    const { code, response } = callbackParams(req.url, pending.state);
    if (response) return response;
    try {
      // The tokens event stores the answer over what is stored: the README
      // keeps a refresh token from an earlier authorization when a new one
      // comes without one ("only returned on the first authorization").
      const { tokens } = await client.getToken({ code, codeVerifier: pending.codeVerifier });
      pending = null;
      client.setCredentials(tokens);
      markGrant();
      return { outcome: 'ok' };
    } catch (err) {
      return failure(err);
    }
  },

  async call() {
    try {
      // request() adds the Authorization header, refreshing first when the
      // access token expires within eagerRefreshThresholdMillis.
      const res = await client.request({ url: env.resource });
      return apiOutcome(res.status, res.statusText);
    } catch (err) {
      return failure(err);
    }
  },

  async logout() {
    const had = stored.load() !== null;
    stored.clear();
    forgetGrant();
    if (!had && !client.credentials?.access_token) return { outcome: 'ok' };
    try {
      // revokeCredentials clears the client's credentials, then revokes the
      // access token; at Google that ends the whole grant.
      await client.revokeCredentials();
      return { outcome: 'ok' };
    } catch (err) {
      log('revokeCredentials failed:', err.message);
      return failure(err);
    }
  },
});
