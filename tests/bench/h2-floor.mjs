// The floor of Node itself for the TLS bench (parts b and c; BENCH_TLS_FLOOR=0 leaves it out):
// Node's own HTTP/2 server (http2.createSecureServer, allowHTTP1, the compatibility API the
// relay uses) with the bench's TLS settings and a cache as small as it can be: one in-memory
// entry per path, concurrent misses joined on one origin request, playlists kept
// --playlist-ms and other 200s 60 s (nginx's proxy_cache settings in the same run), answered
// with res.end(body). No admission, logs, sessions or stats: what any Node HTTP/2 server pays
// for the same viewers, to set beside the relay's row. Forked by tls.mjs with an IPC channel;
// sends { type: 'ready', port }. GET /healthz answers {"status":"ok"} at once (the handshake part's
// request, as nginx's `return 200` and the relay's health probe).
// Usage: node h2-floor.mjs --origin-port N --cert FILE --key FILE --ciphers LIST --playlist-ms N
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';

const args = process.argv.slice(2);
const arg = (name) => {
  const i = args.indexOf(name);
  if (i < 0) throw new Error(`h2-floor.mjs: ${name} is required`);
  return args[i + 1];
};
const ORIGIN_PORT = Number(arg('--origin-port'));
const PLAYLIST_MS = Number(arg('--playlist-ms'));
const OTHER_MS = 60_000;
/** Entries kept at most (the bench's live window holds a few playlists and segments). */
const MAX_ENTRIES = 64;

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
/** path -> { expires, answer: Promise<{ status, headers, body }> } */
const cache = new Map();

function fetchOrigin(path) {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port: ORIGIN_PORT, path, agent }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => {
        const headers = { 'content-type': response.headers['content-type'] ?? 'application/octet-stream' };
        resolve({ status: response.statusCode ?? 502, headers, body: Buffer.concat(chunks) });
      });
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

function obtain(path) {
  const now = Date.now();
  const held = cache.get(path);
  if (held && held.expires > now) return held.answer;
  const answer = fetchOrigin(path);
  const entry = { expires: Infinity, answer };
  cache.set(path, entry);
  answer.then(
    (a) => (entry.expires = Date.now() + (a.status !== 200 ? 1_000 : path.endsWith('.m3u8') ? PLAYLIST_MS : OTHER_MS)),
    () => cache.delete(path),
  );
  if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value);
  return answer;
}

const server = http2.createSecureServer(
  {
    cert: readFileSync(arg('--cert')),
    key: readFileSync(arg('--key')),
    ciphers: arg('--ciphers'),
    honorCipherOrder: true,
    minVersion: 'TLSv1.2',
    allowHTTP1: true,
  },
  (req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"ok"}');
      return;
    }
    obtain(req.url).then(
      (answer) => {
        res.writeHead(answer.status, { ...answer.headers, 'content-length': answer.body.length });
        res.end(answer.body);
      },
      () => {
        res.writeHead(502);
        res.end();
      },
    );
  },
);
server.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.address().port }));
process.on('SIGTERM', () => process.exit(0));
