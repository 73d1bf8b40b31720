// Reference: the plainest Node reverse proxy, http.request piped to the response, with a
// keep-alive agent (max 64 idle sockets, like RelayDeck's default). Usage: node plain-proxy.mjs ORIGIN_URL
import http from 'node:http';

const origin = new URL(process.argv[2]);
const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 64 });
const HOP = ['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'te', 'trailer'];
const server = http.createServer((req, res) => {
  const headers = { ...req.headers, host: origin.host };
  for (const name of HOP) delete headers[name];
  const upstream = http.request({ host: origin.hostname, port: origin.port, path: req.url, method: req.method, headers, agent }, (up) => {
    for (const name of HOP) delete up.headers[name];
    res.writeHead(up.statusCode, up.headers);
    up.pipe(res);
  });
  upstream.on('error', () => res.destroy());
  res.on('close', () => !res.writableFinished && upstream.destroy());
  req.pipe(upstream);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`));
