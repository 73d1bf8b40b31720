/**
 * Sample playlists for the HLS unit tests, modelled on what real packagers write:
 * ffmpeg MPEG-TS and fMP4, Apple's LL-HLS example (RFC 8216bis appendix), a master with
 * every URI-bearing master tag, and a media playlist with keys, byte ranges and an
 * interstitial. `NODE` stands for the node's origin and is replaced by the test.
 */

/** ffmpeg -f hls (MPEG-TS segments). */
export const MEDIA_TS = `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:41
#EXT-X-INDEPENDENT-SEGMENTS
#EXTINF:2.000000,
seg_00041.ts
#EXTINF:2.000000,
seg_00042.ts?v=2&k=a%20b
#EXTINF:1.960000,
/live/cam1/seg_00043.ts
#EXTINF:2.000000,
NODE/live/cam1/seg_00044.ts?x=1
`;

/** ffmpeg -hls_segment_type fmp4: .m4s segments after an EXT-X-MAP init section. */
export const MEDIA_FMP4 = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:1
#EXT-X-MEDIA-SEQUENCE:12
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init.mp4"
#EXTINF:1.000000,
seg_00012.m4s
#EXTINF:1.000000,
seg_00013.m4s
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="NODE/live/cam1/init-2.mp4?gen=2",BYTERANGE="720@0"
#EXTINF:1.000000,
seg_00014.m4s
`;

/** LL-HLS (Apple's example, RFC 8216bis appendix B), with parts, a preload hint and rendition reports. */
export const MEDIA_LLHLS = `#EXTM3U
#EXT-X-TARGETDURATION:4
#EXT-X-VERSION:6
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.0,CAN-SKIP-UNTIL=12.0
#EXT-X-PART-INF:PART-TARGET=0.33334
#EXT-X-MEDIA-SEQUENCE:266
#EXT-X-PROGRAM-DATE-TIME:2019-02-14T02:13:36.106Z
#EXT-X-MAP:URI="init.mp4"
#EXTINF:4.00008,
fileSequence266.mp4
#EXTINF:4.00008,
fileSequence267.mp4
#EXT-X-PART:DURATION=0.33334,URI="filePart268.0.mp4",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.33334,URI="filePart268.1.mp4"
#EXT-X-PART:DURATION=0.33334,URI="fileSequence268.mp4",BYTERANGE="20000@0"
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="filePart268.3.mp4"
#EXT-X-RENDITION-REPORT:URI="../1M/waitForMSN.php",LAST-MSN=268,LAST-PART=2
#EXT-X-RENDITION-REPORT:URI="../4M/waitForMSN.php",LAST-MSN=268,LAST-PART=1
`;

/** A master playlist with every URI-bearing master tag. */
export const MASTER = `#EXTM3U
#EXT-X-VERSION:6
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-SESSION-DATA:DATA-ID="com.example.lyrics",URI="lyrics.json"
#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI="skd://key-65",KEYFORMAT="com.apple.streamingkeydelivery"
#EXT-X-CONTENT-STEERING:SERVER-URI="/live/cam1/steering.json?video=12",PATHWAY-ID="CDN-A"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",DEFAULT=YES,URI="audio/en.m3u8?lang=en"
#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="CC1",INSTREAM-ID="CC1"
#EXT-X-STREAM-INF:BANDWIDTH=1280000,CODECS="avc1.4d401e,mp4a.40.2",RESOLUTION=640x360,AUDIO="aud",CLOSED-CAPTIONS="cc"
low/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=2560000,RESOLUTION=1280x720,AUDIO="aud"
NODE/live/cam1/high/index.m3u8?q=1
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=86000,CODECS="avc1.4d401e",URI="low/iframe.m3u8"
`;

/** Keys (AES-128, relative and on a key server, METHOD=NONE), byte ranges and an HLS interstitial. */
export const MEDIA_KEYS = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:6
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-KEY:METHOD=AES-128,URI="key.bin?kid=7",IV=0x0123456789ABCDEF0123456789ABCDEF
#EXTINF:6.0,
#EXT-X-BYTERANGE:1000@0
main.ts
#EXT-X-KEY:METHOD=AES-128,URI="https://keys.example.com/k/8"
#EXTINF:6.0,
#EXT-X-BYTERANGE:1000
main.ts
#EXT-X-KEY:METHOD=NONE
#EXT-X-DATERANGE:ID="ad1",CLASS="com.apple.hls.interstitial",START-DATE="2024-01-01T00:00:10Z",X-ASSET-URI="ads/ad1.m3u8",X-RESUME-OFFSET=0
#EXTINF:6.0,
plain.ts
#EXT-X-ENDLIST
`;

export const withNode = (text: string, origin: string): string => text.replaceAll('NODE', origin);
