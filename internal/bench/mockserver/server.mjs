// Starts oauth2-mock-server as its README shows (one RS256 key), on a free
// loopback port, and prints one JSON line with its URL and version for
// oauthsim-bench to read.
import { readFileSync } from 'node:fs';
import { OAuth2Server } from 'oauth2-mock-server';

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
await server.start(0, '127.0.0.1');
const pkg = JSON.parse(readFileSync(new URL('./node_modules/oauth2-mock-server/package.json', import.meta.url)));
process.stdout.write(JSON.stringify({ url: server.issuer.url, version: pkg.version }) + '\n');
process.on('SIGTERM', async () => { await server.stop(); process.exit(0); });
