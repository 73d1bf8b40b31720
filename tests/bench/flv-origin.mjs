// Bench origin (a stand-in media node), forked by run.mjs with an IPC channel.
//   GET /live/*  a synthetic live HTTP-FLV stream to EACH connection: FLV header, then one
//                video tag every 40 ms sized so the stream runs at --bitrate (default 2 Mbit/s);
//                a keyframe tag every 25 tags (1 s GOP). Chunked, never ends.
//   GET /seg/*   a static 500,000-byte buffer with content-length (keep-alive).
//   anything else: 404.
// It counts the TCP connections it accepted ("opened") and those still open, and answers
// { cmd: 'stats' | 'reset' } over IPC. Usage: node flv-origin.mjs [--bitrate BITS] [--seg-bytes N]
import http from 'node:http';

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const BITRATE = arg('--bitrate', 2_000_000);
const SEG_BYTES = arg('--seg-bytes', 500_000);
const TICK_MS = 40;
const TAG_BYTES = Math.round(((BITRATE / 8) * TICK_MS) / 1000); // 10,000 bytes at 2 Mbit/s
const GOP_TAGS = 25;
/** A viewer whose socket holds more than this unsent is skipped for a tick (counted as a drop). */
const MAX_QUEUED = 2 * 1024 * 1024;

const segment = Buffer.alloc(SEG_BYTES);
for (let i = 0; i < SEG_BYTES; i += 188) segment[i] = 0x47; // MPEG-TS sync bytes, for looks

// FLV file header (9 bytes, video only) + PreviousTagSize0.
const FLV_HEADER = Buffer.from([0x46, 0x4c, 0x56, 0x01, 0x01, 0x00, 0x00, 0x00, 0x09, 0, 0, 0, 0]);
const filler = Buffer.alloc(TAG_BYTES);
for (let i = 0; i < filler.length; i += 1) filler[i] = (i * 31 + 7) & 0xff;

function makeTag(index, timestampMs) {
  const tag = Buffer.allocUnsafe(TAG_BYTES);
  filler.copy(tag);
  const dataSize = TAG_BYTES - 11 - 4;
  tag[0] = 9; // video
  tag.writeUIntBE(dataSize, 1, 3);
  tag.writeUIntBE(timestampMs & 0xffffff, 4, 3);
  tag[7] = (timestampMs >>> 24) & 0xff;
  tag.writeUIntBE(0, 8, 3); // stream id
  tag[11] = index % GOP_TAGS === 0 ? 0x17 : 0x27; // key/inter frame, AVC
  tag[12] = 1; // AVC NALU
  tag.writeUIntBE(0, 13, 3); // composition time
  tag.writeUInt32BE(dataSize + 11, TAG_BYTES - 4); // PreviousTagSize
  return tag;
}

const viewers = new Set();
const counters = { opened: 0, open: 0, liveRequests: 0, segRequests: 0, drops: 0, tagsSent: 0 };

const started = performance.now();
let tagIndex = 0;
function tick() {
  const due = Math.floor((performance.now() - started) / TICK_MS);
  let burst = 0;
  while (tagIndex < due && burst < 10) {
    const tag = makeTag(tagIndex, tagIndex * TICK_MS);
    tagIndex += 1;
    burst += 1;
    counters.tagsSent += 1;
    for (const res of viewers) {
      if (res.writableLength > MAX_QUEUED) counters.drops += 1;
      else res.write(tag);
    }
  }
  if (tagIndex < due) tagIndex = due; // fell too far behind: skip rather than burst forever
}
setInterval(tick, TICK_MS / 2);

const server = http.createServer((req, res) => {
  if (req.url.startsWith('/live/')) {
    counters.liveRequests += 1;
    res.writeHead(200, { 'content-type': 'video/x-flv', 'cache-control': 'no-cache' });
    res.write(FLV_HEADER);
    viewers.add(res);
    res.on('close', () => viewers.delete(res));
    return;
  }
  if (req.url.startsWith('/seg/')) {
    counters.segRequests += 1;
    res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': SEG_BYTES });
    res.end(segment);
    return;
  }
  res.writeHead(404, { 'content-length': 0 });
  res.end();
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.on('connection', (socket) => {
  counters.opened += 1;
  counters.open += 1;
  socket.on('close', () => (counters.open -= 1));
});

process.on('message', (message) => {
  if (message?.cmd === 'stats') process.send({ id: message.id, ...counters, viewers: viewers.size });
  else if (message?.cmd === 'reset') {
    counters.opened = 0; // count accepts from now on (`open` stays the live figure)
    counters.liveRequests = 0;
    counters.segRequests = 0;
    counters.drops = 0;
    process.send({ id: message.id, ...counters });
  }
});
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  process.send({ type: 'ready', port, tagBytes: TAG_BYTES, bitrate: BITRATE, segBytes: SEG_BYTES, tickMs: TICK_MS });
});
