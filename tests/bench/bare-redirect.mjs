// Reference: a bare Node http server answering every request with a 302 to the node.
// Usage: node bare-redirect.mjs NODE_URL
import http from 'node:http';

const base = process.argv[2].replace(/\/$/, '');
const server = http.createServer((req, res) => {
  res.writeHead(302, { location: base + req.url, 'content-length': 0, 'cache-control': 'no-store' });
  res.end();
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`));
