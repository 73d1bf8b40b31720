// Bench origin (a stand-in media node that keeps NO GOP cache), forked by run.mjs with an IPC channel.
//   GET /live/*  one live H.264 HTTP-FLV stream shared by every connection, well-formed:
//                each connection gets the FLV header (video only), an onMetaData script tag
//                and the AVC sequence header (real SPS/PPS, 1280x720 main profile), then the
//                live tags from wherever the stream is now (mid-GOP: no GOP cache).
//                One video tag every 40 ms (25 fps), sized so the stream runs at --bitrate
//                (default 2 Mbit/s); a keyframe every 25 tags (1 s GOP); timestamps = 40 ms x tag
//                index (monotonic). Each coded frame is one length-prefixed NAL unit (IDR or
//                non-IDR slice) whose payload starts with a send stamp:
//                  "RDTS" | u32 tag index | f64 send time in ms (performance.timeOrigin + now())
//                at fixed offsets in the tag (STAMP_OFFSET below), filler after it.
//                ?stamp=1  the send time is taken per connection at the moment of its socket
//                          write (the tag is copied for that connection). Without it the tag
//                          is built once per tick and written to every connection as is, its
//                          stamp taken when built (cheap for thousands of connections).
//                Header x-bench-direct: 1 marks a connection as a direct latency reference:
//                it is counted apart from the proxy-side connections (openDirect).
//                Chunked transfer encoding (as SRS, nginx-http-flv and Node-Media-Server send
//                it); each tag is framed as a chunk once and written straight to the socket.
//   GET /seg/*   a static 500,000-byte buffer with content-length (keep-alive).
//   anything else: 404.
// It counts the proxy-side TCP connections it accepted ("opened", since the last reset), those
// open now and the peak since the reset; the same for live FLV pulls (liveOpened, liveOpen,
// livePeak); other requests (e.g. a proxy's health checks) by method and path; and answers
// { cmd: 'stats' | 'reset' } over IPC.
// Usage: node flv-origin.mjs [--bitrate BITS] [--seg-bytes N]
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
/** A connection whose socket holds more than this unsent is skipped for a tick (counted as a drop). */
const MAX_QUEUED = 2 * 1024 * 1024;
const WIDTH = 1280;
const HEIGHT = 720;

// Offsets inside a coded video tag: 11-byte tag header, 5-byte AVC video header
// (frame type/codec, packet type 1, composition time), 4-byte NAL length, 1-byte NAL header.
const STAMP_OFFSET = 11 + 5 + 4 + 1; // "RDTS" magic here
const STAMP_INDEX_OFFSET = STAMP_OFFSET + 4; // u32 tag index
const STAMP_TIME_OFFSET = STAMP_OFFSET + 8; // f64 send time, ms
const MIN_TAG_BYTES = STAMP_TIME_OFFSET + 8 + 4;
if (TAG_BYTES < MIN_TAG_BYTES) throw new Error(`--bitrate too low: a tag needs at least ${MIN_TAG_BYTES} bytes`);

const nowMs = () => performance.timeOrigin + performance.now();

const segment = Buffer.alloc(SEG_BYTES);
for (let i = 0; i < SEG_BYTES; i += 188) segment[i] = 0x47; // MPEG-TS sync bytes, for looks

// ---------------------------------------------------------------- FLV building

/** One whole FLV tag (header, body, PreviousTagSize). */
function flvTag(type, timestampMs, body) {
  const tag = Buffer.alloc(11 + body.length + 4);
  tag[0] = type;
  tag.writeUIntBE(body.length, 1, 3);
  tag.writeUIntBE(timestampMs & 0xffffff, 4, 3);
  tag[7] = (timestampMs >>> 24) & 0xff;
  // stream id 0 (bytes 8..10)
  body.copy(tag, 11);
  tag.writeUInt32BE(11 + body.length, 11 + body.length);
  return tag;
}

function amf0String(text) {
  const bytes = Buffer.from(text, 'utf8');
  const out = Buffer.alloc(2 + bytes.length);
  out.writeUInt16BE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}

function amf0Value(value) {
  if (typeof value === 'number') {
    const out = Buffer.alloc(9);
    out[0] = 0x00;
    out.writeDoubleBE(value, 1);
    return out;
  }
  if (typeof value === 'boolean') return Buffer.from([0x01, value ? 1 : 0]);
  return Buffer.concat([Buffer.from([0x02]), amf0String(String(value))]);
}

/** onMetaData as AMF0: the string "onMetaData", then an ECMA array. */
function metadataTag() {
  const props = {
    duration: 0,
    width: WIDTH,
    height: HEIGHT,
    framerate: 1000 / TICK_MS,
    videocodecid: 7,
    videodatarate: Math.round(BITRATE / 1000),
    encoder: 'relaydeck-bench flv-origin',
  };
  const entries = Object.entries(props);
  const count = Buffer.alloc(5);
  count[0] = 0x08; // ECMA array
  count.writeUInt32BE(entries.length, 1);
  const parts = [Buffer.from([0x02]), amf0String('onMetaData'), count];
  for (const [key, value] of entries) parts.push(amf0String(key), amf0Value(value));
  parts.push(Buffer.from([0x00, 0x00, 0x09]));
  return flvTag(18, 0, Buffer.concat(parts));
}

/** AVC sequence header: AVCDecoderConfigurationRecord of a real x264 1280x720 main-profile encode. */
function avcSequenceHeaderTag() {
  const sps = Buffer.from('674d401feca02802dd80880000030008000003019078c18cb0', 'hex');
  const pps = Buffer.from('68ef8fc8', 'hex');
  const record = Buffer.concat([
    Buffer.from([0x01, sps[1], sps[2], sps[3], 0xff /* 4-byte NAL lengths */, 0xe1 /* 1 SPS */]),
    Buffer.from([sps.length >> 8, sps.length & 0xff]),
    sps,
    Buffer.from([0x01, pps.length >> 8, pps.length & 0xff]),
    pps,
  ]);
  return flvTag(9, 0, Buffer.concat([Buffer.from([0x17, 0x00, 0, 0, 0]), record]));
}

// FLV file header (9 bytes, video only) + PreviousTagSize0, then metadata and sequence header.
const FLV_HEADER = Buffer.from([0x46, 0x4c, 0x56, 0x01, 0x01, 0x00, 0x00, 0x00, 0x09, 0, 0, 0, 0]);
const STARTUP = Buffer.concat([FLV_HEADER, metadataTag(), avcSequenceHeaderTag()]);

const filler = Buffer.alloc(TAG_BYTES);
for (let i = 0; i < filler.length; i += 1) filler[i] = ((i * 31 + 7) & 0xff) | 0x01; // never 00 00 0x (no start-code look-alikes)

/** A chunked-encoding frame around `payload`: "<hex size>\r\n" payload "\r\n". Returns [frame, payloadOffset]. */
function chunkFrame(payload) {
  const head = Buffer.from(`${payload.length.toString(16)}\r\n`, 'latin1');
  return [Buffer.concat([head, payload, Buffer.from('\r\n', 'latin1')]), head.length];
}

/** One coded video tag (keyframe every GOP_TAGS), framed as a chunk. */
function makeFrame(index, timestampMs) {
  const head = Buffer.from(`${TAG_BYTES.toString(16)}\r\n`, 'latin1');
  const frame = Buffer.allocUnsafe(head.length + TAG_BYTES + 2);
  head.copy(frame, 0);
  const tag = frame.subarray(head.length, head.length + TAG_BYTES);
  filler.copy(tag);
  const dataSize = TAG_BYTES - 11 - 4;
  const key = index % GOP_TAGS === 0;
  tag[0] = 9; // video
  tag.writeUIntBE(dataSize, 1, 3);
  tag.writeUIntBE(timestampMs & 0xffffff, 4, 3);
  tag[7] = (timestampMs >>> 24) & 0xff;
  tag.writeUIntBE(0, 8, 3); // stream id
  tag[11] = key ? 0x17 : 0x27; // frame type (1 key / 2 inter) | codec 7 (AVC)
  tag[12] = 1; // AVC NALU
  tag.writeUIntBE(0, 13, 3); // composition time
  tag.writeUInt32BE(dataSize - 5 - 4, 16); // NAL unit length
  tag[20] = key ? 0x65 : 0x41; // NAL header: IDR slice / non-IDR slice
  tag.write('RDTS', STAMP_OFFSET, 'latin1');
  tag.writeUInt32BE(index >>> 0, STAMP_INDEX_OFFSET);
  tag.writeDoubleBE(nowMs(), STAMP_TIME_OFFSET);
  tag.writeUInt32BE(dataSize + 11, TAG_BYTES - 4); // PreviousTagSize
  frame[frame.length - 2] = 0x0d;
  frame[frame.length - 1] = 0x0a;
  return { frame, tagOffset: head.length };
}

const [STARTUP_FRAME] = chunkFrame(STARTUP);

// ---------------------------------------------------------------- live stream

/** Live connections: { socket, stamped, direct }. */
const conns = new Set();
const counters = {
  // TCP connections from the proxy side (not marked direct): accepted since the reset, open now, most at once.
  opened: 0,
  open: 0,
  peakOpen: 0,
  // Live FLV pulls from the proxy side: started since the reset, streaming now, most at once.
  liveOpened: 0,
  liveOpen: 0,
  livePeak: 0,
  openDirect: 0,
  openedDirect: 0,
  liveRequests: 0,
  stampedRequests: 0,
  segRequests: 0,
  drops: 0,
  tagsSent: 0,
  tagsSkipped: 0,
};
/** Requests for anything but /live/ and /seg/ since the reset (e.g. the relay's health checks), by "METHOD path". */
let otherRequests = {};
let epoch = 0;
/** Proxy-side connections that have sent a request and are still open. */
let proxySide = 0;

const started = performance.now();
let tagIndex = 0;
function tick() {
  const due = Math.floor((performance.now() - started) / TICK_MS);
  let burst = 0;
  while (tagIndex < due && burst < 10) {
    const { frame, tagOffset } = makeFrame(tagIndex, tagIndex * TICK_MS);
    tagIndex += 1;
    burst += 1;
    counters.tagsSent += 1;
    for (const conn of conns) {
      const socket = conn.socket;
      if (socket.destroyed) continue;
      if (socket.writableLength > MAX_QUEUED) {
        counters.drops += 1;
        continue;
      }
      if (conn.stamped) {
        const own = Buffer.from(frame);
        own.writeDoubleBE(nowMs(), tagOffset + STAMP_TIME_OFFSET);
        socket.write(own);
      } else {
        socket.write(frame);
      }
    }
  }
  if (tagIndex < due) {
    // Fell too far behind (the machine is saturated): skip rather than burst forever.
    counters.tagsSkipped += due - tagIndex;
    tagIndex = due;
  }
}
setInterval(tick, TICK_MS / 2);

function markDirect(socket) {
  if (socket.benchDirect) return;
  socket.benchDirect = true;
  counters.open -= 1;
  counters.openDirect += 1;
  counters.openedDirect += 1;
  if (socket.benchEpoch === epoch) counters.opened -= 1;
}

const server = http.createServer((req, res) => {
  if (req.headers['x-bench-direct'] === '1') markDirect(req.socket);
  else if (!req.socket.benchCounted) {
    // Peak of proxy-side connections: counted once a request has said which side it is on.
    req.socket.benchCounted = true;
    proxySide += 1;
    if (proxySide > counters.peakOpen) counters.peakOpen = proxySide;
  }
  if (req.url.startsWith('/live/')) {
    counters.liveRequests += 1;
    const stamped = /[?&]stamp=1(&|$)/.test(req.url);
    if (stamped) counters.stampedRequests += 1;
    res.writeHead(200, { 'content-type': 'video/x-flv', 'cache-control': 'no-cache', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    // From here the body goes straight to the socket, already chunk-framed.
    const socket = req.socket;
    socket.setNoDelay(true);
    socket.write(STARTUP_FRAME);
    const direct = socket.benchDirect === true;
    const conn = { socket, stamped };
    conns.add(conn);
    if (!direct) {
      counters.liveOpened += 1;
      counters.liveOpen += 1;
      if (counters.liveOpen > counters.livePeak) counters.livePeak = counters.liveOpen;
    }
    const end = () => {
      if (!conns.delete(conn)) return;
      if (!direct) counters.liveOpen -= 1;
    };
    res.on('close', end);
    socket.on('close', end);
    return;
  }
  if (req.url.startsWith('/seg/')) {
    counters.segRequests += 1;
    res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': SEG_BYTES });
    res.end(segment);
    return;
  }
  const key = `${req.method} ${req.url.split('?')[0].slice(0, 64)}`;
  if (key in otherRequests || Object.keys(otherRequests).length < 20) otherRequests[key] = (otherRequests[key] ?? 0) + 1;
  res.writeHead(404, { 'content-length': 0 });
  res.end();
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.on('connection', (socket) => {
  socket.benchEpoch = epoch;
  counters.opened += 1;
  counters.open += 1;
  socket.on('error', () => {});
  socket.on('close', () => {
    if (socket.benchCounted) proxySide -= 1;
    if (socket.benchDirect) counters.openDirect -= 1;
    else counters.open -= 1;
  });
});

process.on('message', (message) => {
  if (message?.cmd === 'stats') process.send({ id: message.id, ...counters, otherRequests, connections: conns.size, tagIndex });
  else if (message?.cmd === 'reset') {
    epoch += 1;
    counters.opened = 0; // count accepts from now on (`open` stays the live figure)
    counters.peakOpen = proxySide;
    counters.liveOpened = 0;
    counters.livePeak = counters.liveOpen;
    otherRequests = {};
    counters.openedDirect = 0;
    counters.liveRequests = 0;
    counters.stampedRequests = 0;
    counters.segRequests = 0;
    counters.drops = 0;
    counters.tagsSkipped = 0;
    process.send({ id: message.id, ...counters });
  }
});
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  process.send({
    type: 'ready',
    port,
    tagBytes: TAG_BYTES,
    bitrate: BITRATE,
    segBytes: SEG_BYTES,
    tickMs: TICK_MS,
    gopTags: GOP_TAGS,
    stampOffset: STAMP_OFFSET,
  });
});
