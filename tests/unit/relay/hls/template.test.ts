/**
 * The compact template (template.ts): URIs are found by byte offsets into the playlist's own
 * bytes, so multi-byte UTF-8 before a URI, CRLF line ends and a BOM must not shift a single
 * byte; and a large playlist's template keeps the fetched body itself plus a few numbers per
 * URI (one shared head per directory), not an object per URI.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../../shared/config.js';
import { parsePlaylist } from '../../../../electron/engine/relay/hls/playlist.js';
import { buildTemplate, renderTemplate, type RewriteContext } from '../../../../electron/engine/relay/hls/rewrite.js';
import { templateBytes } from '../../../../electron/engine/relay/hls/template.js';
import { RouteTable } from '../../../../electron/engine/routing/route-table.js';

const A = 'http://10.0.0.5:8000';
const table = new RouteTable(parseConfig({ nodes: [{ id: 'a', url: A }], routes: [{ id: 'live', path: '/live/', kind: 'hls', mode: 'proxy' }] }));
const ctx: RewriteContext = {
  table,
  route: table.config.routes[0],
  mode: 'proxy',
  base: new URL(`${A}/live/cam/index.m3u8`),
  streamId: 'S1',
  foreignUris: 'keep',
  carryNames: new Set(['token']),
};
const NO_MAC = (text: string) => text.replace(/(_rdh=[\w-]+\.[\w.-]+)~[\w-]{16}/g, '$1');
const render = (body: Buffer | string, carry: string[] = []) => NO_MAC(renderTemplate(buildTemplate(parsePlaylist(body), ctx), carry, ctx.carryNames!));

const LINES = [
  '#EXTM3U',
  '#EXT-X-TARGETDURATION:2',
  '# café ünïcode',
  '#EXTINF:2,Ünïcode title',
  'seg1.ts?t=a',
  '#EXT-X-MAP:URI="ïnit.mp4",BYTERANGE="10@0"',
  '#EXTINF:2,€',
  'sëg2.ts',
  '#EXTINF:2,',
  'seg3.ts',
];
const EXPECTED = [
  '#EXTM3U',
  '#EXT-X-TARGETDURATION:2',
  '# café ünïcode',
  '#EXTINF:2,Ünïcode title',
  '/live/cam/seg1.ts?t=a&token=v&_rdh=S1.a',
  '#EXT-X-MAP:URI="/live/cam/%C3%AFnit.mp4?token=v&_rdh=S1.a",BYTERANGE="10@0"',
  '#EXTINF:2,€',
  '/live/cam/s%C3%ABg2.ts?token=v&_rdh=S1.a',
  '#EXTINF:2,',
  '/live/cam/seg3.ts?token=v&_rdh=S1.a',
  '',
].join('\n');

describe('HLS compact template', () => {
  it('multi-byte UTF-8 before and inside URIs: every byte outside the URIs kept, every URI rewritten', () => {
    assert.equal(render(Buffer.from(`${LINES.join('\n')}\n`), ['token=v']), EXPECTED);
  });

  it('CRLF line ends, a BOM, no final line end: the same output as the plain text', () => {
    assert.equal(render(Buffer.from(`\uFEFF${LINES.join('\r\n')}`), ['token=v']), EXPECTED);
    assert.equal(render(`${LINES.join('\n')}\n`, ['token=v']), EXPECTED);
  });

  it('a large playlist: the template keeps the fetched body itself, one head, a few bytes per URI', () => {
    let text = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n';
    const count = 20_000;
    for (let i = 0; i < count; i += 1) text += `#EXTINF:2.000,\nseg_${String(i).padStart(9, '0')}.ts?t=abc\n`;
    const body = Buffer.from(text);
    const playlist = parsePlaylist(body);
    const template = buildTemplate(playlist, ctx);
    assert.equal(template.body, body, 'no copy of the body');
    assert.equal(template.count, count);
    assert.equal(template.heads.length, 1);
    assert.ok(templateBytes(template, true) < 40 * count, `${templateBytes(template, true)} bytes beyond the body`);
    const out = renderTemplate(template, [], ctx.carryNames!).split('\n');
    assert.equal(out.length, 2 + 2 * count + 1);
    assert.match(out[3], /^\/live\/cam\/seg_000000000\.ts\?t=abc&_rdh=S1\.a~[\w-]{16}$/);
    assert.match(out.at(-2)!, /^\/live\/cam\/seg_000019999\.ts\?t=abc&_rdh=S1\.a~[\w-]{16}$/);
  });
});
