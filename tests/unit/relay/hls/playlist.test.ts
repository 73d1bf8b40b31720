/** The m3u8 parser: every URI-bearing tag found with its exact span and role, and malformed playlists refused with the line named. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePlaylist, PlaylistError, type Playlist } from '../../../../electron/engine/relay/hls/playlist.js';
import { MASTER, MEDIA_FMP4, MEDIA_KEYS, MEDIA_LLHLS, MEDIA_TS } from '../../../helpers/hls-samples.js';

/** [source, uri, role] of every URI, and a check that each span holds exactly its URI. */
function uris(playlist: Playlist): [string, string, string][] {
  for (const ref of playlist.refs) assert.equal(playlist.lines[ref.line].slice(ref.start, ref.end), ref.uri);
  return playlist.refs.map((r) => [r.source, r.uri, r.role]);
}

describe('m3u8 parser: media playlists', () => {
  it('MPEG-TS segments: relative, absolute-path and absolute URIs, queries kept', () => {
    const playlist = parsePlaylist(MEDIA_TS);
    assert.equal(playlist.kind, 'media');
    assert.equal(playlist.targetDurationS, 2);
    assert.equal(playlist.segments, 4);
    assert.equal(playlist.ended, false);
    assert.deepEqual(uris(playlist), [
      ['segment', 'seg_00041.ts', 'media'],
      ['segment', 'seg_00042.ts?v=2&k=a%20b', 'media'],
      ['segment', '/live/cam1/seg_00043.ts', 'media'],
      ['segment', 'NODE/live/cam1/seg_00044.ts?x=1', 'media'],
    ]);
  });

  it('fMP4: EXT-X-MAP init sections (with BYTERANGE) and .m4s segments', () => {
    assert.deepEqual(uris(parsePlaylist(MEDIA_FMP4)), [
      ['EXT-X-MAP URI', 'init.mp4', 'media'],
      ['segment', 'seg_00012.m4s', 'media'],
      ['segment', 'seg_00013.m4s', 'media'],
      ['EXT-X-MAP URI', 'NODE/live/cam1/init-2.mp4?gen=2', 'media'],
      ['segment', 'seg_00014.m4s', 'media'],
    ]);
  });

  it('LL-HLS: EXT-X-PART, EXT-X-PRELOAD-HINT and EXT-X-RENDITION-REPORT (a playlist), part target read', () => {
    const playlist = parsePlaylist(MEDIA_LLHLS);
    assert.equal(playlist.partTargetS, 0.33334);
    assert.equal(playlist.targetDurationS, 4);
    assert.deepEqual(uris(playlist), [
      ['EXT-X-MAP URI', 'init.mp4', 'media'],
      ['segment', 'fileSequence266.mp4', 'media'],
      ['segment', 'fileSequence267.mp4', 'media'],
      ['EXT-X-PART URI', 'filePart268.0.mp4', 'media'],
      ['EXT-X-PART URI', 'filePart268.1.mp4', 'media'],
      ['EXT-X-PART URI', 'fileSequence268.mp4', 'media'],
      ['EXT-X-PRELOAD-HINT URI', 'filePart268.3.mp4', 'media'],
      ['EXT-X-RENDITION-REPORT URI', '../1M/waitForMSN.php', 'playlist'],
      ['EXT-X-RENDITION-REPORT URI', '../4M/waitForMSN.php', 'playlist'],
    ]);
  });

  it('EXT-X-KEY (not for METHOD=NONE), EXT-X-BYTERANGE segments, EXT-X-DATERANGE X-ASSET-URI; VOD counts as ended', () => {
    const playlist = parsePlaylist(MEDIA_KEYS);
    assert.equal(playlist.ended, true);
    assert.deepEqual(uris(playlist), [
      ['EXT-X-KEY URI', 'key.bin?kid=7', 'media'],
      ['segment', 'main.ts', 'media'],
      ['EXT-X-KEY URI', 'https://keys.example.com/k/8', 'media'],
      ['segment', 'main.ts', 'media'],
      ['EXT-X-DATERANGE X-ASSET-URI', 'ads/ad1.m3u8', 'playlist'],
      ['segment', 'plain.ts', 'media'],
    ]);
  });

  it('CRLF line ends, a BOM, blank lines and comments', () => {
    const text = '\uFEFF#EXTM3U\r\n#EXT-X-TARGETDURATION:1\r\n\r\n# a comment\r\n#EXTINF:1,\r\n a.ts \r\n';
    const playlist = parsePlaylist(Buffer.from(text));
    assert.deepEqual(uris(playlist), [['segment', 'a.ts', 'media']]);
    assert.equal(playlist.lines[5], ' a.ts ');
  });
});

describe('m3u8 parser: master playlists', () => {
  it('EXT-X-STREAM-INF variants, EXT-X-MEDIA, EXT-X-I-FRAME-STREAM-INF, EXT-X-SESSION-DATA, EXT-X-SESSION-KEY, EXT-X-CONTENT-STEERING', () => {
    const playlist = parsePlaylist(MASTER);
    assert.equal(playlist.kind, 'master');
    assert.deepEqual(uris(playlist), [
      ['EXT-X-SESSION-DATA URI', 'lyrics.json', 'media'],
      ['EXT-X-SESSION-KEY URI', 'skd://key-65', 'media'],
      ['EXT-X-CONTENT-STEERING SERVER-URI', '/live/cam1/steering.json?video=12', 'media'],
      ['EXT-X-MEDIA URI', 'audio/en.m3u8?lang=en', 'playlist'],
      ['variant', 'low/index.m3u8', 'playlist'],
      ['variant', 'NODE/live/cam1/high/index.m3u8?q=1', 'playlist'],
      ['EXT-X-I-FRAME-STREAM-INF URI', 'low/iframe.m3u8', 'playlist'],
    ]);
  });

  it('a quoted CODECS value with commas does not split the attribute list', () => {
    const playlist = parsePlaylist('#EXTM3U\n#EXT-X-I-FRAME-STREAM-INF:CODECS="a,b,c",URI="i,frame.m3u8",BANDWIDTH=1\n');
    assert.deepEqual(uris(playlist), [['EXT-X-I-FRAME-STREAM-INF URI', 'i,frame.m3u8', 'playlist']]);
  });
});

describe('m3u8 parser: malformed playlists are refused with the line named', () => {
  const refuse = (text: string | Buffer, pattern: RegExp) =>
    assert.throws(
      () => parsePlaylist(text),
      (e: unknown) => e instanceof PlaylistError && pattern.test(e.message),
    );

  it('no #EXTM3U first line (an HTML error page, JSON, nothing)', () => {
    refuse('<html>404</html>', /line 1: not an HLS playlist/);
    refuse('', /not an HLS playlist/);
    refuse('{"seg":"a.ts"}', /not an HLS playlist/);
  });
  it('binary garbage and invalid UTF-8', () => {
    refuse(Buffer.from([0xff, 0xfe, 0x00, 0x41]), /not UTF-8/);
    refuse('#EXTM3U\n#EXTINF:1,\na\u0000b.ts\n', /line 3: control characters/);
  });
  it('an unterminated quoted string', () =>
    refuse('#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MAP:URI="init.mp4\n', /line 3: EXT-X-MAP: attribute URI has an unterminated quoted string/));
  it('an unquoted or empty URI attribute', () => {
    refuse('#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MAP:URI=init.mp4\n', /line 3: EXT-X-MAP URI must be a quoted string/);
    refuse('#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-PART:DURATION=1,URI=""\n', /line 3: EXT-X-PART URI is empty/);
  });
  it('a required URI missing (EXT-X-MAP, EXT-X-KEY unless METHOD=NONE)', () => {
    refuse('#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MAP:BYTERANGE="1@0"\n', /line 3: EXT-X-MAP has no URI attribute/);
    refuse('#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-KEY:METHOD=AES-128\n', /line 3: EXT-X-KEY has no URI/);
  });
  it('garbage in an attribute list, and a duplicate attribute', () => {
    refuse('#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MAP:URI="a" junk\n', /line 3: EXT-X-MAP: expected ","/);
    refuse('#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MAP:URI="a",URI="b"\n', /appears twice/);
  });
  it('EXT-X-STREAM-INF without its URI line', () => {
    refuse('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n#EXT-X-STREAM-INF:BANDWIDTH=2\nb.m3u8\n', /line 2: EXT-X-STREAM-INF is not followed by a URI line/);
    refuse('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n', /line 2: EXT-X-STREAM-INF is not followed/);
  });
  it('master and media tags mixed', () => refuse('#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n', /mixes master playlist tags/));
  it('bad numbers: EXT-X-TARGETDURATION, EXTINF, EXT-X-MEDIA-SEQUENCE', () => {
    refuse('#EXTM3U\n#EXT-X-TARGETDURATION:two\n', /line 2: EXT-X-TARGETDURATION is not a whole number/);
    refuse('#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:abc,\na.ts\n', /line 3: EXTINF duration is not a number/);
    refuse('#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:-1\n', /EXT-X-MEDIA-SEQUENCE is not a whole number/);
  });
  it('segments without EXT-X-TARGETDURATION', () => refuse('#EXTM3U\n#EXTINF:1,\na.ts\n', /without EXT-X-TARGETDURATION/));
  it('a line longer than the limit', () => refuse(`#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n${'a'.repeat(70_000)}.ts\n`, /line 4: line longer than/));
});
