/**
 * The playlist rewriter, tag by tag: in proxy mode every URI on a node becomes a relay path
 * (relative and absolute alike, queries kept, the viewer's auth pieces carried); in redirect
 * mode media goes to absolute node URLs without relay credentials and playlists stay on the
 * relay. Every byte outside a URI is kept.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../../shared/config.js';
import { RelayError } from '../../../../electron/engine/core/errors.js';
import { parsePlaylist } from '../../../../electron/engine/relay/hls/playlist.js';
import { buildTemplate, renderTemplate, type RewriteContext } from '../../../../electron/engine/relay/hls/rewrite.js';
import { RouteTable } from '../../../../electron/engine/routing/route-table.js';
import { MASTER, MEDIA_FMP4, MEDIA_KEYS, MEDIA_LLHLS, MEDIA_TS, withNode } from '../../../helpers/hls-samples.js';

const A = 'http://10.0.0.5:8000';
const B = 'http://10.0.0.6:8000';
const table = new RouteTable(
  parseConfig({
    nodes: [
      { id: 'a', url: A },
      { id: 'b', url: `${B}/base` },
    ],
    routes: [
      { id: 'live', path: '/live/', kind: 'hls', mode: 'proxy' },
      { id: 'tv', path: '/tv/', kind: 'hls', mode: 'redirect', stripPrefix: true, nodes: ['a'] },
      { id: 'vod', path: '/vod/', kind: 'hls', mode: 'proxy', stripPrefix: true, nodes: ['b'] },
      { id: 'files', path: '/files/', kind: 'file', mode: 'proxy' },
    ],
  }),
);
const route = (id: string) => table.config.routes.find((r) => r.id === id)!;
const CARRY_NAMES = new Set(['sign', 'sp', 'token']);
const H = '_rdh=S1.a';

function rewrite(text: string, ctx: Partial<Omit<RewriteContext, 'base'>> & { base: string }, carry: string[] = []): string {
  const full: RewriteContext = { table, route: route('live'), mode: 'proxy', streamId: 'S1', foreignUris: 'keep', ...ctx, base: new URL(ctx.base) };
  // A URI with node query pieces also carries their MAC (hint.ts); it is random per process, so it is left out here.
  return renderTemplate(buildTemplate(parsePlaylist(text), full), carry, CARRY_NAMES).replace(/(_rdh=[\w-]+\.[\w.-]+)~[\w-]{16}/g, '$1');
}

/** Lines of `out` that differ from `original`, as [index, line] (the URIs); the rest must be byte-identical. */
function changedLines(original: string, out: string): [number, string][] {
  const before = original.split('\n');
  const after = out.split('\n');
  assert.equal(after.length, before.length, 'same number of lines');
  return after.flatMap((line, i) => (line === before[i] ? [] : [[i, line] as [number, string]]));
}

describe('rewrite, proxy mode: every URI on a node points back through the relay', () => {
  it('segments: relative, absolute-path and absolute node URIs; queries kept byte for byte', () => {
    const original = withNode(MEDIA_TS, A);
    const out = rewrite(original, { base: `${A}/live/cam1/index.m3u8` });
    assert.deepEqual(
      changedLines(original, out).map(([, line]) => line),
      [`/live/cam1/seg_00041.ts?${H}`, `/live/cam1/seg_00042.ts?v=2&k=a%20b&${H}`, `/live/cam1/seg_00043.ts?${H}`, `/live/cam1/seg_00044.ts?x=1&${H}`],
    );
    assert.ok(!out.includes('10.0.0.5'), 'no node address left');
  });

  it("carries the viewer's auth pieces into every relay URI, replacing the node's own piece of that name", () => {
    const original = withNode(MEDIA_TS, A).replace('seg_00042.ts?v=2', 'seg_00042.ts?token=node&v=2');
    const out = rewrite(original, { base: `${A}/live/cam1/index.m3u8` }, ['token=abc', 'sign=99-ff', 'sp=/live/']);
    const lines = changedLines(original, out).map(([, line]) => line);
    assert.equal(lines[0], `/live/cam1/seg_00041.ts?token=abc&sign=99-ff&sp=/live/&${H}`);
    assert.equal(lines[1], `/live/cam1/seg_00042.ts?v=2&k=a%20b&token=abc&sign=99-ff&sp=/live/&${H}`);
    // Without viewer pieces the node's own token stays.
    assert.match(rewrite(original, { base: `${A}/live/cam1/index.m3u8` }), /seg_00042\.ts\?token=node&v=2/);
  });

  it('fMP4: EXT-X-MAP URIs rewritten inside their quotes, BYTERANGE kept; .m4s segments', () => {
    const original = withNode(MEDIA_FMP4, A);
    const out = rewrite(original, { base: `${A}/live/cam1/index.m3u8` });
    assert.deepEqual(
      changedLines(original, out).map(([, line]) => line),
      [
        `#EXT-X-MAP:URI="/live/cam1/init.mp4?${H}"`,
        `/live/cam1/seg_00012.m4s?${H}`,
        `/live/cam1/seg_00013.m4s?${H}`,
        `#EXT-X-MAP:URI="/live/cam1/init-2.mp4?gen=2&${H}",BYTERANGE="720@0"`,
        `/live/cam1/seg_00014.m4s?${H}`,
      ],
    );
  });

  it('LL-HLS: EXT-X-PART, EXT-X-PRELOAD-HINT and EXT-X-RENDITION-REPORT; other attributes untouched', () => {
    const out = rewrite(MEDIA_LLHLS, { base: `${A}/live/cam1/720p/index.m3u8` }, ['token=t']);
    const lines = changedLines(MEDIA_LLHLS, out).map(([, line]) => line);
    assert.deepEqual(lines, [
      `#EXT-X-MAP:URI="/live/cam1/720p/init.mp4?token=t&${H}"`,
      `/live/cam1/720p/fileSequence266.mp4?token=t&${H}`,
      `/live/cam1/720p/fileSequence267.mp4?token=t&${H}`,
      `#EXT-X-PART:DURATION=0.33334,URI="/live/cam1/720p/filePart268.0.mp4?token=t&${H}",INDEPENDENT=YES`,
      `#EXT-X-PART:DURATION=0.33334,URI="/live/cam1/720p/filePart268.1.mp4?token=t&${H}"`,
      `#EXT-X-PART:DURATION=0.33334,URI="/live/cam1/720p/fileSequence268.mp4?token=t&${H}",BYTERANGE="20000@0"`,
      `#EXT-X-PRELOAD-HINT:TYPE=PART,URI="/live/cam1/720p/filePart268.3.mp4?token=t&${H}"`,
      `#EXT-X-RENDITION-REPORT:URI="/live/cam1/1M/waitForMSN.php?token=t&${H}",LAST-MSN=268,LAST-PART=2`,
      `#EXT-X-RENDITION-REPORT:URI="/live/cam1/4M/waitForMSN.php?token=t&${H}",LAST-MSN=268,LAST-PART=1`,
    ]);
    assert.ok(out.includes('#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.0,CAN-SKIP-UNTIL=12.0\n'));
  });

  it('master: variants, EXT-X-MEDIA, EXT-X-I-FRAME-STREAM-INF, EXT-X-SESSION-DATA, EXT-X-CONTENT-STEERING; skd:// kept', () => {
    const original = withNode(MASTER, A);
    const out = rewrite(original, { base: `${A}/live/cam1/master.m3u8` });
    assert.deepEqual(
      changedLines(original, out).map(([, line]) => line),
      [
        `#EXT-X-SESSION-DATA:DATA-ID="com.example.lyrics",URI="/live/cam1/lyrics.json?${H}"`,
        `#EXT-X-CONTENT-STEERING:SERVER-URI="/live/cam1/steering.json?video=12&${H}",PATHWAY-ID="CDN-A"`,
        `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",DEFAULT=YES,URI="/live/cam1/audio/en.m3u8?lang=en&${H}"`,
        `/live/cam1/low/index.m3u8?${H}`,
        `/live/cam1/high/index.m3u8?q=1&${H}`,
        `#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=86000,CODECS="avc1.4d401e",URI="/live/cam1/low/iframe.m3u8?${H}"`,
      ],
    );
    assert.ok(out.includes('URI="skd://key-65"'), 'a key-system URI is no URL to rewrite');
  });

  it('EXT-X-KEY on the node rewritten, on a key server kept; EXT-X-DATERANGE X-ASSET-URI rewritten', () => {
    const out = rewrite(MEDIA_KEYS, { base: `${A}/live/vod1/index.m3u8` });
    assert.ok(out.includes(`#EXT-X-KEY:METHOD=AES-128,URI="/live/vod1/key.bin?kid=7&${H}",IV=0x0123456789ABCDEF0123456789ABCDEF`));
    assert.ok(out.includes('#EXT-X-KEY:METHOD=AES-128,URI="https://keys.example.com/k/8"'));
    assert.ok(out.includes(`X-ASSET-URI="/live/vod1/ads/ad1.m3u8?${H}",X-RESUME-OFFSET=0`));
    assert.ok(out.includes('#EXT-X-BYTERANGE:1000@0\n'));
  });

  it('a stripPrefix route maps node paths back under its prefix; a node with a base path is recognised', () => {
    const out = rewrite(`#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\na.ts\n#EXTINF:1,\n${B}/base/movies/b.ts\n`, {
      route: route('vod'),
      base: `${B}/base/movies/index.m3u8`,
    });
    assert.ok(out.includes('/vod/movies/a.ts?_rdh=S1.b\n'), out);
    assert.ok(out.includes('/vod/movies/b.ts?_rdh=S1.b\n'), out);
  });

  it("a node path outside the playlist's route goes through another hls route that reaches it", () => {
    const out = rewrite(`#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n/archive/x.ts\n`, { base: `${A}/live/cam1/index.m3u8` });
    assert.ok(out.includes('/tv/archive/x.ts?_rdh=S1.a\n'), out);
  });

  it('a node path no hls route reaches: 502 HLS_UNMAPPABLE_URI naming the line, never the node address', () => {
    assert.throws(
      () => rewrite(`#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n${B}/elsewhere/x.ts\n`, { base: `${A}/live/cam1/index.m3u8` }),
      (e: unknown) =>
        e instanceof RelayError && e.code === 'HLS_UNMAPPABLE_URI' && e.status === 502 && /line 4/.test(e.message) && !e.message.includes('10.0.0.6'),
    );
  });

  it('foreign hosts: kept by default, refused with hls.foreignUris "reject"', () => {
    const text = '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nhttps://cdn.example.com/x.ts\n';
    assert.ok(rewrite(text, { base: `${A}/live/c/index.m3u8` }).includes('\nhttps://cdn.example.com/x.ts\n'));
    assert.throws(
      () => rewrite(text, { base: `${A}/live/c/index.m3u8`, foreignUris: 'reject' }),
      (e: unknown) => e instanceof RelayError && e.code === 'HLS_UNMAPPABLE_URI',
    );
  });

  it('a viewer piece with a quote cannot break out of a quoted attribute', () => {
    const out = rewrite(withNode(MEDIA_FMP4, A), { base: `${A}/live/cam1/index.m3u8` }, ['token=a"%22'.replaceAll('"', '%22')]);
    assert.ok(out.includes(`#EXT-X-MAP:URI="/live/cam1/init.mp4?token=a%22%22&${H}"`));
  });
});

describe('rewrite, redirect mode: playlists stay on the relay, media goes to the node', () => {
  const base = `${A}/live/cam1/index.m3u8`;

  it('segments, EXT-X-MAP and parts become absolute node URLs without relay credentials; node queries kept', () => {
    const original = withNode(MEDIA_FMP4, A);
    const out = rewrite(original, { route: route('tv'), mode: 'redirect', base }, ['token=abc']);
    assert.deepEqual(
      changedLines(original, out).map(([, line]) => line),
      [`#EXT-X-MAP:URI="${A}/live/cam1/init.mp4"`, `${A}/live/cam1/seg_00012.m4s`, `${A}/live/cam1/seg_00013.m4s`, `${A}/live/cam1/seg_00014.m4s`],
    );
    assert.ok(!out.includes('token=abc'), 'relay credentials never go into node URLs');
  });

  it('master: variant and rendition playlists point at the relay (with the viewer pieces), media at the node', () => {
    const original = withNode(MASTER, A);
    const out = rewrite(original, { route: route('tv'), mode: 'redirect', base: `${A}/live/cam1/master.m3u8` }, ['token=abc']);
    const lines = changedLines(original, out).map(([, line]) => line);
    assert.deepEqual(lines, [
      `#EXT-X-SESSION-DATA:DATA-ID="com.example.lyrics",URI="${A}/live/cam1/lyrics.json"`,
      `#EXT-X-CONTENT-STEERING:SERVER-URI="${A}/live/cam1/steering.json?video=12",PATHWAY-ID="CDN-A"`,
      `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",DEFAULT=YES,URI="/tv/live/cam1/audio/en.m3u8?lang=en&token=abc&${H}"`,
      `/tv/live/cam1/low/index.m3u8?token=abc&${H}`,
      `/tv/live/cam1/high/index.m3u8?q=1&token=abc&${H}`,
      `#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=86000,CODECS="avc1.4d401e",URI="/tv/live/cam1/low/iframe.m3u8?token=abc&${H}"`,
    ]);
  });

  it('LL-HLS: rendition reports stay on the relay, parts and preload hints go to the node', () => {
    const out = rewrite(MEDIA_LLHLS, { route: route('tv'), mode: 'redirect', base: `${A}/live/cam1/720p/index.m3u8` });
    assert.ok(out.includes(`#EXT-X-PART:DURATION=0.33334,URI="${A}/live/cam1/720p/filePart268.0.mp4",INDEPENDENT=YES`));
    assert.ok(out.includes(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${A}/live/cam1/720p/filePart268.3.mp4"`));
    assert.ok(out.includes(`#EXT-X-RENDITION-REPORT:URI="/tv/live/cam1/1M/waitForMSN.php?${H}",LAST-MSN=268,LAST-PART=2`));
  });
});
