// Adapter for simple-oauth2 (npm), wired as its README shows: an
// AuthorizationCode client; authorizeURL and getToken for the code flow;
// the token persisted as JSON (JSON.stringify(accessToken)) and brought back
// with createToken; before each API call `accessToken.expired(300)` and
// `accessToken.refresh()`, the README's "refresh an access token" recipe with
// its EXPIRATION_WINDOW_IN_SECONDS = 300; revokeAll() to log out.
//
// simple-oauth2 is no token manager: it has no API client, no storage, no
// single flight and no retry. Each call does what the README's recipe does,
// nothing more, so concurrent calls each refresh if the token is due. The
// recipe's catch only logs and goes on with the token it holds; there this
// adapter goes on too after a passing failure while that token lives, and
// otherwise answers the library's error by the outcome table, as every
// adapter does with an error its library reports (clients/adapters/README.md).
//
// Usage: node simple-oauth2.js   (run by oauthsim conform --client-cmd)

import crypto from 'node:crypto';
import simpleOauth2 from 'simple-oauth2';
import {
  readEnv, serve, discover, libraryVersion, tokenFile, markGrant, noGrant, forgetGrant, randomState,
  callbackParams, oauthOutcome, callApi, libraryFailure, log,
} from './protocol.js';

const { AuthorizationCode } = simpleOauth2;
const env = readEnv();
const stored = tokenFile('simple-oauth2-token');
const EXPIRATION_WINDOW_IN_SECONDS = 300; // the README's window, "before the actual expiration"

let metadata; // the provider's endpoints; simple-oauth2 does not discover
let client; // the AuthorizationCode client
let accessToken = null; // the AccessToken in use, or null
let pending = null; // { state, verifier } of the authorization under way

// build makes the client from the configuration (and the secret file as it
// is now). simple-oauth2 takes hosts and paths, so the discovered endpoint
// URLs are split into them.
async function build() {
  metadata ??= await discover(env.issuer);
  const token = new URL(metadata.token_endpoint);
  const authorize = new URL(metadata.authorization_endpoint);
  const secret = env.secret();
  const config = {
    client: { id: env.clientId, ...(secret !== undefined ? { secret } : {}) },
    auth: {
      tokenHost: token.origin,
      tokenPath: token.pathname,
      authorizeHost: authorize.origin,
      authorizePath: authorize.pathname,
      ...(metadata.revocation_endpoint ? { revokePath: new URL(metadata.revocation_endpoint).pathname } : {}),
    },
    // A public client has no secret to put in a Basic header: its client_id
    // goes in the body (options.authorizationMethod 'body').
    options: secret === undefined ? { authorizationMethod: 'body' } : {},
  };
  client = new AuthorizationCode(config);
  // A token is bound to the client that made it: bring the stored one back
  // with the new client (the README's createToken).
  const t = stored.load();
  accessToken = t ? client.createToken(t) : null;
}

// persist stores the token as the README shows: JSON.stringify(accessToken).
function persist(t) {
  accessToken = t;
  stored.save(JSON.parse(JSON.stringify(t)));
}

// failure maps a simple-oauth2 error (a boom error from @hapi/wreck) to an
// outcome: the answer's status and parsed body where it carries them.
function failure(err) {
  const status = err?.data?.res?.statusCode ?? (err?.isBoom ? err.output?.statusCode : undefined);
  const payload = err?.data?.payload;
  const body = payload && typeof payload === 'object' && !Buffer.isBuffer(payload) ? payload : undefined;
  if (!err?.data?.res) return libraryFailure(err);
  return oauthOutcome({ body, status, message: err?.message, err });
}

serve(env, {
  name: 'simple-oauth2',
  version: libraryVersion('simple-oauth2'),
  // No concurrency control is added: requests are served concurrently by
  // protocol.js, as an application's request handlers would be.
  capabilities: ['refresh', 'restart', 'concurrency', 'logout', 'secret_rotation', 'clock:faketime'],
}, {
  build,

  async authorize() {
    // simple-oauth2 has no PKCE helper; the README passes extra parameters
    // to authorizeURL, so the S256 challenge goes in as such.
    const verifier = crypto.randomBytes(32).toString('base64url');
    const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
    const state = randomState();
    pending = { state, verifier };
    const params = {
      redirect_uri: env.redirectUri,
      scope: env.scopesWithOffline(),
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...(env.offlineAccess === 'access_type' ? { access_type: 'offline' } : {}),
    };
    return { url: client.authorizeURL(params) };
  },

  async callback(req) {
    if (!pending) return { outcome: 'error', detail: 'no authorization under way' };
    const { code, response } = callbackParams(req.url, pending.state);
    if (response) return response;
    try {
      const t = await client.getToken({ code, redirect_uri: env.redirectUri, code_verifier: pending.verifier });
      pending = null;
      persist(t);
      markGrant();
      return { outcome: 'ok' };
    } catch (err) {
      return failure(err);
    }
  },

  async call() {
    let t = accessToken;
    if (!t) return noGrant();
    // The README's recipe: refresh when expired(window), and keep the result.
    if (t.expired(EXPIRATION_WINDOW_IN_SECONDS)) {
      try {
        t = await t.refresh();
        persist(t);
      } catch (err) {
        // The recipe logs "Error refreshing access token" and goes on with
        // the token it holds. A failure that tells the user something (a dead
        // grant, a step-up, a refused client) is answered by the table, as
        // every application must; a passing one (429, 5xx, no answer) goes
        // on, as the recipe does, while the token has not expired.
        log('Error refreshing access token:', err.message);
        const answer = failure(err);
        if (answer.outcome !== 'temporary_error' || t.expired()) return answer;
      }
    }
    // simple-oauth2 has no API client: the stored access token goes in a
    // Bearer header, as its README's users do.
    return callApi(() => fetch(env.resource, { headers: { authorization: `Bearer ${t.token.access_token}` } }),
      (err) => ({ ...libraryFailure(err), detail: `the API: ${err.message}` }));
  },

  async logout() {
    if (!accessToken) return { outcome: 'ok' };
    const t = accessToken;
    // The README: "revokes both tokens in a single call"; the tokens are
    // forgotten whatever the answer.
    accessToken = null;
    stored.clear();
    forgetGrant();
    try {
      await t.revokeAll();
      return { outcome: 'ok' };
    } catch (err) {
      return failure(err);
    }
  },
});
