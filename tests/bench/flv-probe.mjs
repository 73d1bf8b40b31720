// Measuring viewers for the HTTP-FLV bench, forked by run.mjs with an IPC channel. A light
// process of its own, so its timings are not held up by the load generator's event loop.
//   - latency samplers through the proxy (--samplers, opened on { cmd: 'open', count } so they
//     spread through the proxy's viewer list as the load ramps) and direct samplers to the
//     origin (--direct, opened at start, header x-bench-direct: 1). Both request ?stamp=1, so
//     the origin stamps each tag with its send time at the moment of its socket write. Every
//     complete coded video tag gives receive time - send time; both sides use
//     performance.timeOrigin + performance.now() on the same machine clock.
//   - late joiners (--joiners) through the proxy, started on { cmd: 'window-start' } after
//     --joiner-delay-ms, one every --joiner-spacing-ms: each parses the FLV and records the
//     time to the response headers, to the first byte and to the end of the first video
//     keyframe tag (frame type 1, AVC NALU), and whether the start is decodable (header,
//     sequence header, then a keyframe as the first coded frame). It leaves once it has its
//     keyframe (or after --joiner-timeout-ms).
//   { cmd: 'finish' } closes everything and answers { type: 'result', ... }.
// Usage: node flv-probe.mjs --proxy-url URL --direct-url URL --samplers N --direct N --joiners N
//          --joiner-delay-ms MS --joiner-spacing-ms MS --joiner-timeout-ms MS --bitrate BITS
import http from 'node:http';
import { FlvParser, TAG_SCRIPT, TAG_VIDEO, isOnMetaData, sendStamp, videoInfo } from './flv-parse.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const PROXY_URL = opt('--proxy-url');
const DIRECT_URL = opt('--direct-url');
const SAMPLERS = Number(opt('--samplers', 50));
const DIRECT = Number(opt('--direct', 50));
const JOINERS = Number(opt('--joiners', 20));
const JOINER_DELAY_MS = Number(opt('--joiner-delay-ms', 3_000));
const JOINER_SPACING_MS = Number(opt('--joiner-spacing-ms', 237));
const JOINER_TIMEOUT_MS = Number(opt('--joiner-timeout-ms', 4_000));
const BITRATE = Number(opt('--bitrate', 2_000_000));
const MIN_FRACTION = 0.9;
/** A sampler's first tags can come from a GOP cache (old stamps): it records only after this long connected. */
const SAMPLER_SETTLE_MS = 1_500;
/** Per side, at most this many latency samples are kept (bounded memory). */
const MAX_SAMPLES = 200_000;

const clock = () => performance.timeOrigin + performance.now();
const send = (message) => process.send?.(message);

const quantile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))] : NaN);
const summary = (values) => {
  const sorted = Float64Array.from(values).sort();
  const mean = sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : NaN;
  return {
    n: sorted.length,
    min: sorted[0],
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    max: sorted[sorted.length - 1],
    mean,
  };
};

let recording = false;
let windowStartedAt = 0;
let windowEndedAt = 0;
const requests = new Set();

function get(url, headers, handlers) {
  const startedAt = performance.now();
  const req = http.get(url, { agent: false, headers: { 'user-agent': 'relaydeck-bench-probe', ...headers } });
  requests.add(req);
  req.on('socket', (socket) => socket.setNoDelay(true));
  req.on('response', (res) => {
    handlers.onResponse?.(res, performance.now() - startedAt);
    res.on('data', (chunk) => handlers.onData(chunk, performance.now() - startedAt));
    res.on('end', () => handlers.onEnd?.('ended'));
    res.on('error', () => {});
  });
  req.on('error', (error) => handlers.onEnd?.(error.code || error.message));
  req.on('close', () => {
    requests.delete(req);
    handlers.onEnd?.('closed');
  });
  return req;
}

// ---------------------------------------------------------------- latency samplers

class Sampler {
  constructor(side, url, headers) {
    this.side = side;
    this.status = 0;
    this.bytes = 0;
    this.windowBytes = 0;
    this.latencies = [];
    this.lastIndex = -1;
    this.indexGaps = 0;
    this.lastVideoTs = -1;
    this.tsBackwards = 0;
    this.ended = '';
    this.parser = new FlvParser((tag) => this.onTag(tag));
    this.recordFrom = performance.now() + SAMPLER_SETTLE_MS;
    this.req = get(url, headers, {
      onResponse: (res) => (this.status = res.statusCode),
      onData: (chunk) => {
        this.bytes += chunk.length;
        if (recording) this.windowBytes += chunk.length;
        this.now = clock();
        this.parser.push(chunk);
      },
      onEnd: (why) => {
        if (!this.ended && !finishing) this.ended = why;
      },
    });
  }

  onTag(tag) {
    if (tag.type !== TAG_VIDEO) return;
    // FLV timestamps must never go back for a viewer.
    if (tag.timestamp < this.lastVideoTs) this.tsBackwards += 1;
    this.lastVideoTs = tag.timestamp;
    const stamp = sendStamp(tag.head);
    if (!stamp) return;
    if (recording && this.lastIndex >= 0 && stamp.index !== this.lastIndex + 1) this.indexGaps += 1;
    this.lastIndex = stamp.index;
    if (recording && performance.now() >= this.recordFrom && this.latencies.length < MAX_SAMPLES / Math.max(1, SAMPLERS))
      this.latencies.push(this.now - stamp.timeMs);
  }
}

const samplers = { proxy: [], direct: [] };
// The proxy URL already asks for stamps (run.mjs puts ?stamp=1 in it); the direct one too.
for (let i = 0; i < DIRECT; i += 1) samplers.direct.push(new Sampler('direct', DIRECT_URL, { 'x-bench-direct': '1' }));

function openProxySamplers(count) {
  while (samplers.proxy.length < Math.min(count, SAMPLERS)) samplers.proxy.push(new Sampler('proxy', PROXY_URL, {}));
}

// ---------------------------------------------------------------- late joiners

const joiners = [];
const joinerTimers = [];

class Joiner {
  constructor(index) {
    this.index = index;
    this.startedAtWall = clock();
    this.status = 0;
    this.order = []; // what came first: 'metadata', 'video-seq', 'key', 'inter', ...
    this.parser = new FlvParser((tag) => this.onTag(tag));
    this.timer = setTimeout(() => this.leave('timeout'), JOINER_TIMEOUT_MS);
    this.req = get(
      PROXY_URL,
      {},
      {
        onResponse: (res, ms) => {
          this.status = res.statusCode;
          this.headersMs = ms;
        },
        onData: (chunk, ms) => {
          this.firstByteMs ??= ms;
          this.nowMs = ms;
          if (!this.parser.push(chunk)) this.leave('malformed');
        },
        onEnd: (why) => this.leave(why),
      },
    );
  }

  onTag(tag) {
    if (this.done) return;
    if (tag.type === TAG_SCRIPT) {
      if (isOnMetaData(tag.head)) this.order.push('metadata');
      return;
    }
    if (tag.type !== TAG_VIDEO) return;
    const v = videoInfo(tag.head);
    if (v.sequenceHeader) {
      this.order.push('video-seq');
      return;
    }
    if (!v.coded) return;
    this.codedFrames = (this.codedFrames ?? 0) + 1;
    if (this.firstCodedIsKey === undefined) {
      this.firstCodedIsKey = v.keyframe;
      this.seqBeforeFirstCoded = this.order.includes('video-seq');
      this.metadataBeforeFirstCoded = this.order.includes('metadata');
    }
    if (v.keyframe) {
      this.firstKeyframeMs = this.nowMs;
      const stamp = sendStamp(tag.head);
      // How old the keyframe is when it arrives (GOP cache: up to a GOP; live: ~0).
      if (stamp) this.keyframeAgeMs = clock() - stamp.timeMs;
      this.leave('keyframe');
    }
  }

  leave(why) {
    if (this.done) return;
    this.done = true;
    this.why = why;
    clearTimeout(this.timer);
    if (this.parser.error) this.parseError = this.parser.error;
    this.req.destroy();
  }

  toJSON() {
    return {
      index: this.index,
      status: this.status,
      headersMs: this.headersMs,
      firstByteMs: this.firstByteMs,
      firstKeyframeMs: this.firstKeyframeMs,
      keyframeAgeMs: this.keyframeAgeMs,
      firstCodedIsKey: this.firstCodedIsKey,
      seqBeforeFirstCoded: this.seqBeforeFirstCoded,
      metadataBeforeFirstCoded: this.metadataBeforeFirstCoded,
      codedFramesBeforeKeyframe: this.firstKeyframeMs === undefined ? this.codedFrames : this.codedFrames - 1,
      ended: this.why,
      parseError: this.parseError,
    };
  }
}

function startJoiners() {
  for (let i = 0; i < JOINERS; i += 1) {
    joinerTimers.push(setTimeout(() => joiners.push(new Joiner(i)), JOINER_DELAY_MS + i * JOINER_SPACING_MS));
  }
}

// ---------------------------------------------------------------- results

let finishing = false;

function samplerReport(list, side) {
  const windowSeconds = (windowEndedAt - windowStartedAt) / 1000;
  const expected = BITRATE / 8;
  const rates = list.map((s) => s.windowBytes / windowSeconds);
  const all = list.flatMap((s) => s.latencies);
  const statuses = {};
  for (const s of list) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
  return {
    side,
    n: list.length,
    statuses,
    ended: list.filter((s) => s.ended).map((s) => s.ended),
    parseErrors: list
      .filter((s) => s.parser.error)
      .map((s) => s.parser.error)
      .slice(0, 5),
    tagIndexGaps: list.reduce((a, s) => a + s.indexGaps, 0),
    timestampsBackwards: list.reduce((a, s) => a + s.tsBackwards, 0),
    belowMinRate: rates.filter((r) => r < MIN_FRACTION * expected).length,
    rateBytesPerSec: {
      min: Math.min(...rates),
      median: quantile(
        [...rates].sort((a, b) => a - b),
        0.5,
      ),
    },
    latencyMs: summary(all),
    // Raw samples (ms, 0.01 ms resolution) so run.mjs can pool rounds; dropped before the JSON is written.
    samples: all.map((v) => Math.round(v * 100) / 100),
    // Per-sampler medians: spread across the proxy's viewer list (position in its write loop).
    perSamplerMedianMs: summary(list.filter((s) => s.latencies.length).map((s) => summary(s.latencies).p50)),
  };
}

function finish() {
  if (finishing) return;
  finishing = true;
  if (recording) {
    recording = false;
    windowEndedAt = performance.now();
  }
  for (const t of joinerTimers) clearTimeout(t);
  for (const j of joiners) j.leave('finish');
  for (const req of [...requests]) req.destroy();
  const joinerRows = joiners.map((j) => j.toJSON());
  const got = joinerRows.filter((j) => j.firstKeyframeMs !== undefined);
  send({
    type: 'result',
    windowSeconds: (windowEndedAt - windowStartedAt) / 1000,
    proxy: samplerReport(samplers.proxy, 'proxy'),
    direct: samplerReport(samplers.direct, 'direct'),
    joiners: {
      n: joinerRows.length,
      withKeyframe: got.length,
      statuses: joinerRows.reduce((acc, j) => ((acc[j.status] = (acc[j.status] ?? 0) + 1), acc), {}),
      headersMs: summary(joinerRows.filter((j) => j.headersMs !== undefined).map((j) => j.headersMs)),
      firstByteMs: summary(joinerRows.filter((j) => j.firstByteMs !== undefined).map((j) => j.firstByteMs)),
      firstKeyframeMs: summary(got.map((j) => j.firstKeyframeMs)),
      keyframeAgeMs: summary(got.filter((j) => j.keyframeAgeMs !== undefined).map((j) => j.keyframeAgeMs)),
      firstCodedIsKey: joinerRows.filter((j) => j.firstCodedIsKey).length,
      decodableStart: joinerRows.filter((j) => j.firstCodedIsKey && j.seqBeforeFirstCoded && j.metadataBeforeFirstCoded).length,
      parseErrors: joinerRows
        .filter((j) => j.parseError)
        .map((j) => j.parseError)
        .slice(0, 5),
      rows: joinerRows,
    },
  });
  setTimeout(() => process.exit(0), 100);
}

process.on('message', (message) => {
  if (message?.cmd === 'open') openProxySamplers(message.count);
  else if (message?.cmd === 'window-start') {
    openProxySamplers(SAMPLERS);
    recording = true;
    windowStartedAt = performance.now();
    for (const s of [...samplers.proxy, ...samplers.direct]) s.windowBytes = 0;
    startJoiners();
  } else if (message?.cmd === 'finish') finish();
});
process.on('disconnect', () => process.exit(0));
// Bounded: never outlive a forgotten parent.
setTimeout(() => process.exit(2), Number(opt('--max-seconds', 300)) * 1000).unref();
send({ type: 'ready' });
