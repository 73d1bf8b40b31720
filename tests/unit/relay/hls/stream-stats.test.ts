/** Per-stream HLS stats: viewers are distinct clients within the window, and every map stays within its setting. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig, type HlsSettings } from '../../../../shared/config.js';
import { clientHash, HlsStreamBook } from '../../../../electron/engine/relay/hls/stream-stats.js';

const settings = (hls: Partial<HlsSettings>) => parseConfig({ hls }).hls;

describe('HLS stream stats', () => {
  it('viewers: distinct clients with a request within hls.viewerWindowMs', () => {
    const book = new HlsStreamBook(() => settings({ viewerWindowMs: 10_000 }));
    const stream = book.open('r', 'live/cam1', 'n');
    book.seen(stream, clientHash('a'), 1_000);
    book.seen(stream, clientHash('b'), 2_000);
    book.seen(stream, clientHash('a'), 5_000);
    book.prune(12_500);
    assert.equal(stream.viewers.size, 1, 'b left the window, a was seen again');
    book.prune(16_000);
    assert.equal(stream.viewers.size, 0);
  });

  it('at most hls.maxStreams streams: the least recently active goes', () => {
    const book = new HlsStreamBook(() => settings({ maxStreams: 3 }));
    const first = book.open('r', 'live/a', 'n');
    book.open('r', 'live/b', 'n');
    book.open('r', 'live/c', 'n');
    book.seen(first, 1, Date.now());
    book.open('r', 'live/d', 'n');
    assert.equal(book.size, 3);
    assert.ok(book.get(first.id), 'the active one stays');
    assert.deepEqual(
      book
        .list()
        .map((s) => s.streamKey)
        .sort(),
      ['live/a', 'live/c', 'live/d'],
    );
  });

  it('at most hls.maxTrackedViewers viewers over all streams', () => {
    const book = new HlsStreamBook(() => settings({ maxTrackedViewers: 100 }));
    const a = book.open('r', 'live/a', 'n');
    const b = book.open('r', 'live/b', 'n');
    const now = Date.now();
    for (let i = 0; i < 1_000; i += 1) book.seen(i % 2 ? a : b, clientHash(`client ${i}`), now);
    assert.ok(a.viewers.size + b.viewers.size <= 100, `${a.viewers.size} + ${b.viewers.size}`);
  });

  it('a stream idle for hls.streamIdleMs is forgotten', () => {
    const book = new HlsStreamBook(() => settings({ streamIdleMs: 5_000 }));
    const stream = book.open('r', 'live/a', 'n');
    book.seen(stream, 1, 1_000);
    book.prune(7_000);
    assert.equal(book.size, 0);
  });
});
