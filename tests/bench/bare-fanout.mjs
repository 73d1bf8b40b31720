// Reference for the HTTP-FLV bench: the barest fan-out Node can do, to show the floor that any
// single-threaded relay pays, and what spreading the writes over processes buys (and costs).
// One upstream pull per stream path (opened with the first viewer, closed with the last); each
// batch of whole tags from the node is written with one socket.write per viewer, nothing else:
// no GOP cache (a new viewer gets the FLV header, the metadata and the sequence header, then
// waits for the next keyframe), no stats, no logging; a viewer whose socket holds more than
// 2 MiB unsent skips to the next keyframe.
//   --workers 0  everything in one process (the single-thread floor)
//   --workers K  the primary pulls and sends each batch over IPC to K cluster workers, which
//                accept the viewers on the shared port and write to them (K cores of writes)
// Prints "listening on URL" once every process listens. Usage: node bare-fanout.mjs ORIGIN_URL [--workers K]
import cluster from 'node:cluster';
import http from 'node:http';
import net from 'node:net';

const args = process.argv.slice(2);
const ORIGIN = new URL(args[0]);
const WORKERS = Number(args[args.indexOf('--workers') + 1] || 0) || 0;
const MAX_QUEUED = 2 * 1024 * 1024;
const TAG_HEADER = 11;
const FLV_HEADER = 13; // 9-byte header + PreviousTagSize0

/** Splits an FLV byte stream into batches of whole tags (header and start tags kept apart). */
class TagFramer {
  pending = Buffer.alloc(0);
  headerSeen = false;
  /** FLV header, then the first script tag and the first video sequence header, as met. */
  startup = [];
  hasMeta = false;
  hasSeq = false;

  /** Returns { buffer, keyframeAt } for the whole tags in this chunk (keyframeAt: offset of the first keyframe, or -1), or undefined. */
  push(chunk) {
    const data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let offset = 0;
    if (!this.headerSeen) {
      if (data.length < FLV_HEADER) return this.keep(data, 0);
      this.startup.push(Buffer.from(data.subarray(0, FLV_HEADER)));
      this.headerSeen = true;
      offset = FLV_HEADER;
    }
    const batchStart = offset;
    let keyframeAt = -1;
    while (data.length - offset >= TAG_HEADER) {
      const size = TAG_HEADER + data.readUIntBE(offset + 1, 3) + 4;
      if (data.length - offset < size) break;
      const type = data[offset];
      if (type === 18 && !this.hasMeta) {
        this.hasMeta = true;
        this.startup.push(Buffer.from(data.subarray(offset, offset + size)));
      }
      if (type === 9) {
        const body = data[offset + TAG_HEADER];
        const isSeq = data[offset + TAG_HEADER + 1] === 0;
        if (isSeq && !this.hasSeq) {
          this.hasSeq = true;
          this.startup.push(Buffer.from(data.subarray(offset, offset + size)));
        }
        if (!isSeq && body >> 4 === 1 && keyframeAt < 0) keyframeAt = offset - batchStart;
      }
      offset += size;
    }
    this.keep(data, offset);
    return offset > batchStart ? { buffer: data.subarray(batchStart, offset), keyframeAt } : undefined;
  }

  keep(data, from) {
    this.pending = from < data.length ? Buffer.from(data.subarray(from)) : Buffer.alloc(0);
    return undefined;
  }
}

/** The viewers of one stream in this process. */
class Audience {
  viewers = new Set();
  startup = [];

  add(res) {
    res.removeHeader('transfer-encoding'); // no chunked framing: the body ends with the connection
    res.writeHead(200, { 'content-type': 'video/x-flv', 'cache-control': 'no-cache', connection: 'close' });
    res.flushHeaders();
    const viewer = { socket: res.socket, waiting: true, startupSent: 0 };
    this.viewers.add(viewer);
    this.sendStartup(viewer);
    return viewer;
  }

  /** The start-up tags grew (the stream just started): viewers already here get what they lack. */
  setStartup(buffers) {
    this.startup = buffers;
    for (const viewer of this.viewers) this.sendStartup(viewer);
  }

  sendStartup(viewer) {
    while (viewer.startupSent < this.startup.length) viewer.socket.write(this.startup[viewer.startupSent++]);
  }

  send(buffer, keyframeAt) {
    for (const viewer of this.viewers) {
      const socket = viewer.socket;
      if (viewer.waiting || socket.writableLength > MAX_QUEUED) {
        viewer.waiting = true;
        if (keyframeAt < 0) continue;
        viewer.waiting = false;
        socket.write(keyframeAt === 0 ? buffer : buffer.subarray(keyframeAt));
      } else socket.write(buffer);
    }
  }
}

/** One upstream pull; hands batches to `onBatch`, the start-up tags so far to `onStartup` (each time they grow). */
function pull(pathAndQuery, { onStartup, onBatch, onEnd }) {
  const framer = new TagFramer();
  let startupSent = 0;
  const req = http.get({ host: ORIGIN.hostname, port: ORIGIN.port, path: pathAndQuery, agent: false, headers: { 'user-agent': 'bare-fanout' } }, (res) => {
    res.on('data', (chunk) => {
      const batch = framer.push(chunk);
      if (framer.startup.length > startupSent) {
        startupSent = framer.startup.length;
        onStartup(framer.startup.slice());
      }
      if (batch) onBatch(batch.buffer, batch.keyframeAt);
    });
    res.on('end', onEnd);
    res.on('error', onEnd);
  });
  req.on('socket', (socket) => socket.setNoDelay(true));
  req.on('error', onEnd);
  return () => req.destroy();
}

// ---------------------------------------------------------------- one process

function singleProcess(port) {
  const streams = new Map();
  const server = http.createServer({ noDelay: true }, (req, res) => {
    let stream = streams.get(req.url);
    if (!stream) {
      const audience = new Audience();
      stream = { audience, stop: undefined };
      streams.set(req.url, stream);
      const key = req.url;
      stream.stop = pull(req.url, {
        onStartup: (buffers) => audience.setStartup(buffers),
        onBatch: (buffer, keyframeAt) => audience.send(buffer, keyframeAt),
        onEnd: () => closeStream(streams, key),
      });
    }
    const viewer = stream.audience.add(res);
    res.on('close', () => leave(streams, req.url, stream, viewer));
  });
  server.listen(port, '127.0.0.1', () => process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`));
}

// ---------------------------------------------------------------- cluster

function clusterPrimary(port) {
  const streams = new Map(); // path -> { count, stop, startup }
  let listening = 0;
  const broadcast = (message) => {
    for (const worker of Object.values(cluster.workers)) worker.send(message);
  };
  cluster.setupPrimary({ serialization: 'advanced' });
  for (let i = 0; i < WORKERS; i += 1) {
    const worker = cluster.fork({ BARE_FANOUT_PORT: String(port) });
    worker.on('listening', () => {
      listening += 1;
      if (listening === WORKERS) process.stdout.write(`listening on http://127.0.0.1:${port}\n`);
    });
    worker.on('message', (message) => {
      let stream = streams.get(message.path);
      if (message.type === 'join') {
        if (!stream) {
          stream = { count: 0, startup: [] };
          streams.set(message.path, stream);
          stream.stop = pull(message.path, {
            onStartup: (buffers) => {
              stream.startup = buffers;
              broadcast({ type: 'startup', path: message.path, buffers: stream.startup });
            },
            onBatch: (buffer, keyframeAt) => broadcast({ type: 'batch', path: message.path, buffer, keyframeAt }),
            onEnd: () => streams.delete(message.path) && broadcast({ type: 'end', path: message.path }),
          });
        } else if (stream.startup.length) worker.send({ type: 'startup', path: message.path, buffers: stream.startup });
        stream.count += 1;
      } else if (message.type === 'leave' && stream && --stream.count === 0) {
        stream.stop();
        streams.delete(message.path);
      }
    });
  }
}

function clusterWorker(port) {
  const audiences = new Map();
  const audienceOf = (p) => audiences.get(p) ?? audiences.set(p, new Audience()).get(p);
  process.on('message', (message) => {
    const audience = audiences.get(message.path);
    if (message.type === 'startup') audienceOf(message.path).setStartup(message.buffers.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)));
    else if (message.type === 'batch' && audience)
      audience.send(Buffer.from(message.buffer.buffer, message.buffer.byteOffset, message.buffer.byteLength), message.keyframeAt);
    else if (message.type === 'end' && audience) for (const viewer of audience.viewers) viewer.socket.end();
  });
  const server = http.createServer({ noDelay: true }, (req, res) => {
    const audience = audienceOf(req.url);
    const viewer = audience.add(res);
    process.send({ type: 'join', path: req.url });
    res.on('close', () => {
      audience.viewers.delete(viewer);
      process.send({ type: 'leave', path: req.url });
    });
  });
  server.listen(port, '127.0.0.1');
}

// ---------------------------------------------------------------- helpers

function leave(streams, key, stream, viewer) {
  stream.audience.viewers.delete(viewer);
  if (stream.audience.viewers.size === 0 && streams.get(key) === stream) {
    stream.stop();
    streams.delete(key);
  }
}

function closeStream(streams, key) {
  const stream = streams.get(key);
  if (!stream) return;
  streams.delete(key);
  for (const viewer of stream.audience.viewers) viewer.socket.end();
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

if (cluster.isWorker) clusterWorker(Number(process.env.BARE_FANOUT_PORT));
else if (WORKERS > 0) clusterPrimary(await freePort());
else singleProcess(0);
