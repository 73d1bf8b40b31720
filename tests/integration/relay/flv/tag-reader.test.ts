/** The streaming FLV tag reader: every tag kind, any chunking (property tests), and malformed input. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { FlvFormatError, FlvTagReader, setTagTimestamp, tagTimestamp, type FlvItem } from '../../../../electron/engine/codec/flv/tag-reader.js';
import {
  aacFrame,
  aacSequenceHeader,
  avcInterframe,
  avcKeyframe,
  avcSequenceHeader,
  enhancedHevcKeyframe,
  enhancedHevcSequenceStart,
  flvHeader,
  flvTag,
  hevcSequenceHeader,
  metadataTag,
  randomChunks,
  seededRandom,
  syntheticStream,
} from '../../../helpers/flv-builder.js';
import { missingTool } from '../../../helpers/media.js';

function readAll(chunks: Buffer[]): FlvItem[] {
  const reader = new FlvTagReader();
  return chunks.flatMap((c) => reader.push(c));
}

function summary(items: FlvItem[]): string[] {
  return items.map((i) => (i.kind === 'header' ? 'header' : `${i.tag.type}@${i.tag.timestamp}:${i.tag.bytes.length}`));
}

describe('FLV tag reader', () => {
  it('reads the header, metadata, sequence headers, keyframes and audio', () => {
    const items = readAll([
      flvHeader(),
      metadataTag({ width: 1280, height: 720, framerate: 30, encoder: 'x' }),
      avcSequenceHeader(),
      aacSequenceHeader(),
      avcKeyframe(0),
      aacFrame(0),
      avcInterframe(40),
    ]);
    assert.equal(items[0].kind, 'header');
    const tags = items.slice(1).map((i) => (i.kind === 'tag' ? i.tag : assert.fail()));
    assert.deepEqual(tags[0].metadata && { ...tags[0].metadata }, { width: 1280, height: 720, framerate: 30, encoder: 'x' });
    assert.deepEqual(tags[1].video, { codec: 'avc', frameType: 1, sequenceHeader: true, keyframe: false });
    assert.deepEqual(tags[2].audio, { codec: 'aac', sequenceHeader: true });
    assert.deepEqual(tags[3].video, { codec: 'avc', frameType: 1, sequenceHeader: false, keyframe: true });
    assert.deepEqual(tags[4].audio, { codec: 'aac', sequenceHeader: false });
    assert.equal(tags[5].video?.keyframe, false);
    assert.equal(tags[5].timestamp, 40);
  });

  it('recognises HEVC sequence headers, legacy (codec 12) and enhanced RTMP (hvc1)', () => {
    const items = readAll([flvHeader(), hevcSequenceHeader(), enhancedHevcSequenceStart(), enhancedHevcKeyframe(0)]);
    const videos = items.flatMap((i) => (i.kind === 'tag' ? [i.tag.video] : []));
    assert.deepEqual(
      videos.map((v) => [v?.codec, v?.sequenceHeader, v?.keyframe]),
      [
        ['hevc', true, false],
        ['hevc', true, false],
        ['hevc', false, true],
      ],
    );
  });

  it('reads 32-bit timestamps with the extended byte, and rewrites them in place', () => {
    const tag = avcInterframe(0x12345678);
    const [, item] = readAll([flvHeader(), tag]);
    assert.equal(item.kind === 'tag' && item.tag.timestamp, 0x12345678);
    setTagTimestamp(tag, 0xfedcba98);
    assert.equal(tagTimestamp(tag), 0xfedcba98);
  });

  /** The chunking property test's seed unless FLV_SEED is set, so every run tries the same splits. */
  const DEFAULT_CHUNKING_SEED = 20_261_204;

  it('gives the same tags for every chunking (property test, 300 seeded random splits)', () => {
    const stream = syntheticStream(3);
    const expected = summary(readAll([stream]));
    assert.equal(expected.length, 1 + 3 + 3 * 25 * 2);
    // Fixed unless asked: FLV_SEED=n replays a run, FLV_SEED=random draws a new seed. Printed either way.
    const seed = process.env.FLV_SEED === 'random' ? Date.now() % 1_000_000 : Number(process.env.FLV_SEED ?? DEFAULT_CHUNKING_SEED);
    console.log(`# chunking seed ${seed} (reproduce with FLV_SEED=${seed})`);
    const random = seededRandom(seed);
    for (let run = 0; run < 300; run += 1) {
      const chunks = randomChunks(stream, random, 1 + Math.floor(random() * 600));
      assert.deepEqual(summary(readAll(chunks)), expected, `chunking run ${run} differs (reproduce with FLV_SEED=${seed})`);
    }
    const oneByte = randomChunks(stream, () => 0, 1);
    assert.deepEqual(summary(readAll(oneByte)), expected, 'one byte at a time');
  });

  it('returns tags whose bytes re-assemble the stream exactly', () => {
    const stream = syntheticStream(2);
    const items = readAll(randomChunks(stream, seededRandom(7), 97));
    const rebuilt = Buffer.concat(items.map((i) => (i.kind === 'header' ? i.header.bytes : i.tag.bytes)));
    assert.deepEqual(rebuilt, stream);
  });

  const malformed: [string, Buffer, number, RegExp][] = [
    ['an HTML page', Buffer.from('<html><body>404</body></html>'), 0, /no "FLV" signature/],
    ['a wrong version', Buffer.from([0x46, 0x4c, 0x56, 0x02, 5, 0, 0, 0, 9, 0, 0, 0, 0]), 3, /version 2/],
    ['a header size out of range', Buffer.from([0x46, 0x4c, 0x56, 0x01, 5, 0xff, 0, 0, 9]), 5, /header size/],
    ['an unknown tag type', Buffer.concat([flvHeader(), flvTag(0x33, 0, Buffer.alloc(4))]), 13, /unknown tag type 0x33/],
    [
      'a non-zero stream id',
      Buffer.concat([
        flvHeader(),
        (() => {
          const t = avcKeyframe(0);
          t[10] = 1;
          return t;
        })(),
      ]),
      21,
      /stream id/,
    ],
    [
      'a wrong previous-tag-size',
      Buffer.concat([
        flvHeader(),
        (() => {
          const t = aacFrame(0);
          t.writeUInt32BE(7, t.length - 4);
          return t;
        })(),
      ]),
      13 + 33,
      /previous-tag-size 7/,
    ],
    ['a huge tag size', Buffer.concat([flvHeader(), Buffer.from([9, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0])]), 14, /over the limit/],
  ];
  for (const [what, bytes, offset, message] of malformed) {
    it(`rejects ${what} with the byte offset, in any chunking`, () => {
      for (const chunks of [[bytes], randomChunks(bytes, seededRandom(3), 5)]) {
        const reader = new FlvTagReader();
        let caught: unknown;
        try {
          for (const c of chunks) reader.push(c);
        } catch (error) {
          caught = error;
        }
        assert.ok(caught instanceof FlvFormatError, `no error for ${what}`);
        assert.equal(caught.offset, offset);
        assert.match(caught.message, message);
        assert.match(caught.message, new RegExp(`at byte ${offset}`));
        assert.throws(() => reader.push(Buffer.alloc(1)), FlvFormatError, 'the reader stays failed');
      }
    });
  }

  it('survives random garbage without crashing: every outcome is tags or an FlvFormatError', () => {
    const random = seededRandom(11);
    for (let run = 0; run < 500; run += 1) {
      const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 400) }, () => Math.floor(random() * 256)));
      const withHeader = run % 2 === 0 ? Buffer.concat([flvHeader(), bytes]) : bytes;
      const reader = new FlvTagReader();
      try {
        reader.push(withHeader);
      } catch (error) {
        assert.ok(error instanceof FlvFormatError, String(error));
      }
      assert.ok(reader.bufferedBytes <= withHeader.length);
    }
  });

  const noFfmpeg = missingTool('ffmpeg', 'ffmpeg');
  it('reads a real FLV written by ffmpeg (H.264 + AAC)', { skip: noFfmpeg }, () => {
    const file = path.join(os.tmpdir(), `relaydeck-reader-${process.pid}.flv`);
    execFileSync('ffmpeg', [
      '-nostdin',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x180:rate=25',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440',
      '-t',
      '3',
      '-c:v',
      'libx264',
      '-g',
      '25',
      '-pix_fmt',
      'yuv420p',
      '-c:a',
      'aac',
      '-f',
      'flv',
      file,
    ]);
    const items = readAll(randomChunks(readFileSync(file), seededRandom(5), 4096));
    const tags = items.flatMap((i) => (i.kind === 'tag' ? [i.tag] : []));
    assert.ok(tags[0].metadata, 'onMetaData first');
    assert.equal(tags[0].metadata?.width, 320);
    assert.ok(tags.some((t) => t.video?.sequenceHeader));
    assert.ok(tags.some((t) => t.audio?.sequenceHeader));
    assert.equal(tags.filter((t) => t.video?.keyframe).length, 3);
  });
});
