/** The GOP cache: what a late joiner gets is always playable (it starts at a keyframe) and bounded in bytes and tags. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlvTagReader, type FlvTag } from '../../../../electron/engine/codec/flv/tag-reader.js';
import { GopCache } from '../../../../electron/engine/relay/flv/gop-cache.js';
import { aacFrame, aacSequenceHeader, avcInterframe, avcKeyframe, avcSequenceHeader, flvHeader, metadataTag } from '../../../helpers/flv-builder.js';

const parse = (...parts: Buffer[]): FlvTag[] =>
  new FlvTagReader().push(Buffer.concat([flvHeader(), ...parts])).flatMap((item) => (item.kind === 'tag' ? [item.tag] : []));
const LIMITS = { maxBytes: 1_048_576, maxTags: 1_000 };
const startupTimestamps = (cache: GopCache) => parse(...cache.startup().gop).map((t) => t.timestamp);

describe('GopCache', () => {
  it('holds nothing before the first keyframe, then the GOP from the newest keyframe', () => {
    const cache = new GopCache(LIMITS, true);
    for (const tag of parse(avcInterframe(0), aacFrame(0))) cache.add(tag);
    assert.equal(cache.hasKeyframe, false);
    for (const tag of parse(avcKeyframe(40), avcInterframe(80), aacFrame(80), avcKeyframe(120), avcInterframe(160))) cache.add(tag);
    assert.deepEqual(startupTimestamps(cache), [120, 160]);
    assert.equal(parse(cache.startup().gop[0])[0].video?.keyframe, true);
  });

  it('sends the header, metadata and both sequence headers first, and bumps the config version when one changes', () => {
    const cache = new GopCache(LIMITS, true);
    cache.header = flvHeader();
    const [meta, video, audio] = parse(metadataTag({ width: 640 }), avcSequenceHeader(), aacSequenceHeader());
    for (const tag of [meta, video, audio]) cache.add(tag);
    const startup = cache.startup();
    assert.deepEqual(startup.head, [cache.header, meta.bytes, video.bytes, audio.bytes]);
    assert.equal(startup.configVersion, 3);
    assert.equal(cache.tags, 0, 'config tags are not media');
  });

  for (const [bound, limits] of [
    ['tags', { maxBytes: 1_048_576, maxTags: 3 }],
    ['bytes', { maxBytes: 600, maxTags: 1_000 }],
  ] as const) {
    it(`a GOP over its bound in ${bound} is dropped whole until the next keyframe (never a GOP without its keyframe)`, () => {
      const cache = new GopCache(limits, true);
      for (const tag of parse(avcKeyframe(0, 200), avcInterframe(40, 200), avcInterframe(80, 200), avcInterframe(120, 200))) cache.add(tag);
      assert.equal(cache.hasKeyframe, false);
      assert.equal(cache.bytes, 0);
      for (const tag of parse(avcInterframe(160))) cache.add(tag);
      assert.equal(cache.hasKeyframe, false, 'no restart on an inter frame');
      for (const tag of parse(avcKeyframe(200, 100))) cache.add(tag);
      assert.deepEqual(startupTimestamps(cache), [200]);
    });
  }

  it("with the route's gopCache off only the header and config tags are kept", () => {
    const cache = new GopCache(LIMITS, false);
    for (const tag of parse(avcSequenceHeader(), avcKeyframe(0), avcInterframe(40))) cache.add(tag);
    assert.equal(cache.hasKeyframe, false);
    assert.equal(cache.startup().head.length, 1);
  });

  it('resetMedia (a new upstream session) forgets the GOP but keeps the config for viewers already playing', () => {
    const cache = new GopCache(LIMITS, true);
    for (const tag of parse(avcSequenceHeader(), avcKeyframe(0), avcInterframe(40))) cache.add(tag);
    cache.resetMedia();
    assert.equal(cache.hasKeyframe, false);
    assert.equal(cache.sequenceBuffers().length, 1);
  });
});
