#!/usr/bin/env node
// Draws build/icon.png (1024x1024 RGBA): a rounded square with one source dot fanning out to
// three viewer dots, the relay. Pure Node (zlib + a CRC table), no downloads, no image
// libraries. electron-builder derives the .ico/.icns/Linux sizes from this one file.
// Usage: node build/make-icon.mjs [OUTFILE] [SIZE_PX]   (SIZE_PX default 1024; 32 for the tray icon)
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const SIZE_PX = 1024;
/** Samples per pixel side for anti-aliasing. */
const SUPERSAMPLE = 3;

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buffer) {
  let crc = 0xffffffff;
  for (const byte of buffer) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

function encodePng(width, height, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  const rows = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y += 1) {
    rows[y * (width * 4 + 1)] = 0; // filter: none
    rgba.copy(rows, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// Shapes in unit coordinates (0..1).
const SOURCE = [0.3, 0.5];
const VIEWERS = [
  [0.72, 0.28],
  [0.74, 0.5],
  [0.72, 0.72],
];
const DOT_RADIUS = 0.075;
const LINE_HALF_WIDTH = 0.025;
const CORNER_RADIUS = 0.2;
const MARGIN = 0.04;

function insideRoundedSquare(x, y) {
  const lo = MARGIN + CORNER_RADIUS;
  const hi = 1 - MARGIN - CORNER_RADIUS;
  const dx = Math.max(lo - x, 0, x - hi);
  const dy = Math.max(lo - y, 0, y - hi);
  return dx * dx + dy * dy <= CORNER_RADIUS * CORNER_RADIUS;
}

function distanceToSegment(x, y, [ax, ay], [bx, by]) {
  const vx = bx - ax;
  const vy = by - ay;
  const t = Math.max(0, Math.min(1, ((x - ax) * vx + (y - ay) * vy) / (vx * vx + vy * vy)));
  return Math.hypot(x - (ax + t * vx), y - (ay + t * vy));
}

function isMark(x, y) {
  if (Math.hypot(x - SOURCE[0], y - SOURCE[1]) <= DOT_RADIUS * 1.25) return true;
  return VIEWERS.some((v) => Math.hypot(x - v[0], y - v[1]) <= DOT_RADIUS || distanceToSegment(x, y, SOURCE, v) <= LINE_HALF_WIDTH);
}

/** Colour of one sample: [r, g, b, a] with 0..255 channels. */
function sample(x, y) {
  if (!insideRoundedSquare(x, y)) return [0, 0, 0, 0];
  if (isMark(x, y)) return [255, 255, 255, 255];
  // Diagonal gradient, deep blue to teal.
  const t = (x + y) / 2;
  return [Math.round(20 + 10 * t), Math.round(60 + 90 * t), Math.round(140 + 40 * t), 255];
}

function drawIcon(size = SIZE_PX) {
  const rgba = Buffer.alloc(size * size * 4);
  const samples = SUPERSAMPLE * SUPERSAMPLE;
  for (let py = 0; py < size; py += 1) {
    for (let px = 0; px < size; px += 1) {
      const sum = [0, 0, 0, 0];
      for (let sy = 0; sy < SUPERSAMPLE; sy += 1) {
        for (let sx = 0; sx < SUPERSAMPLE; sx += 1) {
          const [r, g, b, a] = sample((px + (sx + 0.5) / SUPERSAMPLE) / size, (py + (sy + 0.5) / SUPERSAMPLE) / size);
          sum[0] += r * a;
          sum[1] += g * a;
          sum[2] += b * a;
          sum[3] += a;
        }
      }
      const offset = (py * size + px) * 4;
      const alpha = sum[3] / samples;
      rgba[offset] = sum[3] ? Math.round(sum[0] / sum[3]) : 0;
      rgba[offset + 1] = sum[3] ? Math.round(sum[1] / sum[3]) : 0;
      rgba[offset + 2] = sum[3] ? Math.round(sum[2] / sum[3]) : 0;
      rgba[offset + 3] = Math.round(alpha);
    }
  }
  return encodePng(size, size, rgba);
}

const outfile = process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), 'icon.png');
const size = Number(process.argv[3] ?? SIZE_PX);
if (!Number.isInteger(size) || size < 16 || size > 4096) throw new Error(`SIZE_PX must be an integer from 16 to 4096, got ${process.argv[3]}`);
writeFileSync(outfile, drawIcon(size));
process.stdout.write(`icon written: ${outfile}\n`);
