/**
 * The demo node's media: a short pre-encoded clip (H.264 + AAC, made once by
 * build/make-demo-clip.sh) read from electron/engine/demo/assets (copied next to the compiled
 * code by the build). The FLV file is split into its tags once at start; the HLS segments
 * and their durations come from the clip's own playlist. No ffmpeg at run time.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FlvTagReader, TAG_AUDIO, TAG_VIDEO } from '../codec/flv/tag-reader.js';

/** The assets folder next to this module (source tree under tsx, dist/ when built). */
export const DEMO_ASSETS_DIR = fileURLToPath(new URL('./assets/', import.meta.url));

/** One audio or video tag of the clip, with its timestamp inside the clip. */
export interface ClipTag {
  type: number;
  /** ms from the start of the clip. */
  timestamp: number;
  keyframe: boolean;
  /** The whole tag (header, body, previous-tag-size), to be copied before its timestamp is rewritten. */
  bytes: Buffer;
}

export interface FlvClip {
  /** FLV header plus PreviousTagSize0. */
  header: Buffer;
  /** AVC and AAC sequence headers, in file order. */
  sequenceHeaders: Buffer[];
  /** Audio and video frames in file order (decode order). */
  tags: ClipTag[];
  /** Length of one loop, ms: the last frame's timestamp plus one frame. */
  durationMs: number;
  width: number;
  height: number;
  fps: number;
}

export interface HlsSegment {
  /** File name in the assets folder. */
  file: string;
  durationS: number;
  bytes: Buffer;
}

export interface HlsClip {
  segments: HlsSegment[];
  /** Sum of the segment durations, s. */
  durationS: number;
}

/** An AVC "end of sequence" tag (packet type 2): a file's last tag, which would reset decoders mid-loop. */
function isEndOfSequence(bytes: Buffer): boolean {
  return bytes[0] === TAG_VIDEO && (bytes[11] & 0x0f) === 7 && bytes[12] === 2;
}

function frameStepMs(timestamps: number[], fallback: number): number {
  if (timestamps.length < 2) return fallback;
  return (timestamps[timestamps.length - 1] - timestamps[0]) / (timestamps.length - 1);
}

/** Split an FLV file into what a live loop needs. Throws when it is not AVC/AAC FLV. */
export function parseFlvClip(file: Buffer): FlvClip {
  const reader = new FlvTagReader();
  let header: Buffer | undefined;
  const sequenceHeaders: Buffer[] = [];
  const tags: ClipTag[] = [];
  let width = 0;
  let height = 0;
  for (const item of reader.push(file)) {
    if (item.kind === 'header') {
      header = Buffer.from(item.header.bytes);
      continue;
    }
    const { tag } = item;
    if (tag.metadata) {
      if (typeof tag.metadata.width === 'number') width = tag.metadata.width;
      if (typeof tag.metadata.height === 'number') height = tag.metadata.height;
    } else if (tag.video?.sequenceHeader || tag.audio?.sequenceHeader) {
      sequenceHeaders.push(Buffer.from(tag.bytes));
    } else if ((tag.type === TAG_VIDEO || tag.type === TAG_AUDIO) && !isEndOfSequence(tag.bytes)) {
      tags.push({ type: tag.type, timestamp: tag.timestamp, keyframe: tag.video?.keyframe === true, bytes: Buffer.from(tag.bytes) });
    }
  }
  if (!header || !tags.find((t) => t.type === TAG_VIDEO)?.keyframe) throw new Error('demo clip: expected an FLV file whose first video frame is a keyframe');
  const video = tags.filter((t) => t.type === TAG_VIDEO).map((t) => t.timestamp);
  const audio = tags.filter((t) => t.type === TAG_AUDIO).map((t) => t.timestamp);
  const videoStep = frameStepMs(video, 40);
  const audioStep = frameStepMs(audio, 23);
  const durationMs = Math.ceil(Math.max((video.at(-1) ?? 0) + videoStep, (audio.at(-1) ?? 0) + audioStep));
  return { header, sequenceHeaders, tags, durationMs, width, height, fps: Math.round(1000 / videoStep) };
}

/** Read the segments a VOD playlist lists (EXTINF + URI pairs), in order. */
export function parseClipPlaylist(text: string): { file: string; durationS: number }[] {
  const out: { file: string; durationS: number }[] = [];
  let duration: number | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('#EXTINF:')) duration = Number.parseFloat(line.slice('#EXTINF:'.length));
    else if (line && !line.startsWith('#')) {
      if (duration === undefined || !Number.isFinite(duration) || duration <= 0) throw new Error(`demo clip: segment ${line} has no valid #EXTINF`);
      if (line.includes('/') || line.includes('\\')) throw new Error(`demo clip: segment ${line} must be a plain file name`);
      out.push({ file: line, durationS: duration });
      duration = undefined;
    }
  }
  if (out.length === 0) throw new Error('demo clip: the playlist lists no segments');
  return out;
}

export interface DemoClip {
  flv: FlvClip;
  hls: HlsClip;
}

/** Load both forms of the clip from `dir` (default: the bundled assets). */
export async function loadDemoClip(dir = DEMO_ASSETS_DIR): Promise<DemoClip> {
  const flv = parseFlvClip(await fs.readFile(path.join(dir, 'demo.flv')));
  const listed = parseClipPlaylist(await fs.readFile(path.join(dir, 'clip.m3u8'), 'utf8'));
  const segments = await Promise.all(listed.map(async (s) => ({ ...s, bytes: await fs.readFile(path.join(dir, s.file)) })));
  return { flv, hls: { segments, durationS: segments.reduce((sum, s) => sum + s.durationS, 0) } };
}
