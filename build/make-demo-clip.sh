#!/usr/bin/env bash
# Makes the demo node's clip (electron/engine/demo/assets/): 8 s of 320x180 H.264 baseline (1 s GOP,
# about 200 kbit/s) + mono AAC, as one FLV file and as eight 1 s MPEG-TS segments with their
# playlist. Run ONCE by hand with Debian's ffmpeg; the output is committed (about 530 KB) so
# the app never needs ffmpeg at run time. Usage: build/make-demo-clip.sh [OUTDIR]
set -euo pipefail
out="${1:-$(dirname "$0")/../electron/engine/demo/assets}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
font=/usr/share/fonts/truetype/dejavu
label="drawtext=fontfile=$font/DejaVuSans-Bold.ttf:text='RelayDeck demo':x=w-tw-10:y=h-th-12:fontsize=18:fontcolor=white:box=1:boxcolor=black@0.5:boxborderw=4"
clock="drawtext=fontfile=$font/DejaVuSansMono.ttf:text='%{pts\:hms}':x=10:y=h-th-12:fontsize=14:fontcolor=white:box=1:boxcolor=black@0.5:boxborderw=3"
ffmpeg -nostdin -loglevel warning \
  -f lavfi -i "testsrc2=size=320x180:rate=25:duration=8" \
  -f lavfi -i "sine=frequency=660:beep_factor=2:sample_rate=44100:duration=8" \
  -vf "$label,$clock" \
  -c:v libx264 -profile:v baseline -preset slow -pix_fmt yuv420p -b:v 200k -maxrate 260k -bufsize 400k \
  -g 25 -keyint_min 25 -sc_threshold 0 -c:a aac -ac 1 -b:a 32k -af volume=0.3 -shortest -f mp4 "$work/src.mp4"
mkdir -p "$out"
ffmpeg -nostdin -loglevel warning -i "$work/src.mp4" -c copy -f flv -y "$out/demo.flv"
# .m2ts, not .ts: packaging checks treat *.ts as TypeScript sources.
ffmpeg -nostdin -loglevel warning -i "$work/src.mp4" -c copy -bsf:v h264_mp4toannexb -f hls -hls_time 1 -hls_list_size 0 \
  -hls_segment_filename "$out/seg%d.m2ts" -y "$out/clip.m3u8"
ls -l "$out"
