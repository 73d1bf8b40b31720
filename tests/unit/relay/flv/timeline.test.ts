/** The timeline viewers see: continuous across upstream sessions, never going back per tag type. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlvTagReader, tagTimestamp, type FlvTag } from '../../../../electron/engine/codec/flv/tag-reader.js';
import { FAILOVER_TIMESTAMP_GAP_MS, Timeline } from '../../../../electron/engine/relay/flv/timeline.js';
import { aacFrame, avcInterframe, avcKeyframe, flvHeader, metadataTag } from '../../../helpers/flv-builder.js';

const parse = (...parts: Buffer[]): FlvTag[] =>
  new FlvTagReader().push(Buffer.concat([flvHeader(), ...parts])).flatMap((item) => (item.kind === 'tag' ? [item.tag] : []));

/** Rewrite `tags` and return their timestamps as written in their bytes (what a player reads). */
function rewrite(timeline: Timeline, tags: FlvTag[]): number[] {
  for (const tag of tags) timeline.rewrite(tag);
  return tags.map((t) => tagTimestamp(t.bytes));
}

describe('Timeline', () => {
  it("leaves the first session's timestamps as the node sent them", () => {
    assert.deepEqual(rewrite(new Timeline(), parse(avcKeyframe(5_000), aacFrame(5_010), avcInterframe(5_040))), [5_000, 5_010, 5_040]);
  });

  it("after a new session starts, its first media tag continues FAILOVER_TIMESTAMP_GAP_MS after the last one sent, whatever the new node's clock", () => {
    for (const newClock of [0, 3_000, 900_000]) {
      const timeline = new Timeline();
      rewrite(timeline, parse(avcKeyframe(5_000), avcInterframe(5_040)));
      timeline.rebaseAtNext();
      assert.deepEqual(rewrite(timeline, parse(avcKeyframe(newClock), aacFrame(newClock + 10), avcInterframe(newClock + 40))), [
        5_040 + FAILOVER_TIMESTAMP_GAP_MS,
        5_050 + FAILOVER_TIMESTAMP_GAP_MS,
        5_080 + FAILOVER_TIMESTAMP_GAP_MS,
      ]);
    }
  });

  it('a script tag does not set the rebase point; a media tag that goes back is held at the last time of its type', () => {
    const timeline = new Timeline();
    rewrite(timeline, parse(avcKeyframe(1_000)));
    timeline.rebaseAtNext();
    const [meta, key] = parse(metadataTag({ width: 1 }), avcKeyframe(0));
    rewrite(timeline, [meta, key]);
    assert.equal(tagTimestamp(key.bytes), 1_000 + FAILOVER_TIMESTAMP_GAP_MS);
    const after = 1_000 + FAILOVER_TIMESTAMP_GAP_MS;
    assert.deepEqual(
      rewrite(timeline, parse(avcInterframe(40), avcInterframe(20), avcInterframe(80))),
      [after + 40, after + 40, after + 100],
      'held, and the clock shifted so later tags keep their spacing',
    );
  });
});
