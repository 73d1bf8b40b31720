/** The node hook parsers (relay/node-hooks.ts): each format's publish and unpublish, what is ignored, and errors naming the field. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkHookSecret,
  checkStreamKey,
  hookSecretOf,
  HOOK_MAX_STREAMS,
  parseHook,
  parseJsonHook,
  parseMediaMtx,
  parseNms,
  parseSrs,
  parseZlm,
} from '../../../electron/engine/relay/node-hooks.js';
import type { NodeConfig } from '../../../shared/config.js';

const q = (text = '') => new URLSearchParams(text);

function failsOn(fn: () => unknown, field: RegExp): void {
  assert.throws(fn, (error: Error & { code?: string }) => {
    assert.equal(error.code, 'BAD_REQUEST', error.message);
    assert.match(error.message, field);
    return true;
  });
}

describe('SRS http_hooks', () => {
  const srs = { server_id: 'vid-1', action: 'on_publish', client_id: 'x', ip: '127.0.0.1', vhost: '__defaultVhost__', app: 'live', stream: 'cam1', param: '' };
  it('on_publish and on_unpublish name app/stream', () => {
    assert.deepEqual(parseSrs(srs), { event: 'publish', streams: ['live/cam1'] });
    assert.deepEqual(parseSrs({ ...srs, action: 'on_unpublish' }), { event: 'unpublish', streams: ['live/cam1'] });
  });
  it('other actions are ignored', () => {
    assert.equal(parseSrs({ ...srs, action: 'on_play' }).event, 'ignore');
  });
  it('malformed bodies name the field', () => {
    failsOn(() => parseSrs(undefined), /^body:/);
    failsOn(() => parseSrs([1]), /^body:/);
    failsOn(() => parseSrs({ ...srs, action: 3 }), /^action:/);
    failsOn(() => parseSrs({ ...srs, stream: '' }), /^stream:/);
    failsOn(() => parseSrs({ ...srs, app: 'a/b' }), /^app:/);
    failsOn(() => parseSrs({ ...srs, stream: 'x y' }), /^stream:/);
  });
});

describe('ZLMediaKit hooks', () => {
  const changed = { regist: true, schema: 'rtmp', app: 'live', stream: 'cam1', vhost: '__defaultVhost__', mediaServerId: 'z' };
  it('on_stream_changed follows the rtmp registration', () => {
    assert.deepEqual(parseZlm(changed, q()), { event: 'publish', streams: ['live/cam1'] });
    assert.deepEqual(parseZlm({ ...changed, regist: false }, q()), { event: 'unpublish', streams: ['live/cam1'] });
    assert.equal(parseZlm({ ...changed, schema: 'hls' }, q()).event, 'ignore');
  });
  it('on_publish (no regist, or named by the query)', () => {
    const publish = { app: 'live', stream: 'cam2', id: '1', ip: '1.2.3.4', params: '', port: 1, schema: 'rtmp', vhost: 'v' };
    assert.deepEqual(parseZlm(publish, q()), { event: 'publish', streams: ['live/cam2'] });
    assert.deepEqual(parseZlm(publish, q('event=on_publish')), { event: 'publish', streams: ['live/cam2'] });
    assert.equal(parseZlm(publish, q('event=on_play')).event, 'ignore');
  });
  it('malformed bodies name the field', () => {
    failsOn(() => parseZlm({ ...changed, regist: 'yes' }, q()), /^regist:/);
    failsOn(() => parseZlm({ ...changed, app: 7 }, q()), /^app:/);
    failsOn(() => parseZlm('text', q()), /^body:/);
  });
});

describe('MediaMTX runOnReady / runOnNotReady', () => {
  it('ready and notready with the path', () => {
    assert.deepEqual(parseMediaMtx(q('event=ready&path=live/cam1')), { event: 'publish', streams: ['live/cam1'] });
    assert.deepEqual(parseMediaMtx(q('event=notready&path=cam1')), { event: 'unpublish', streams: ['cam1'] });
  });
  it('errors name the query field', () => {
    failsOn(() => parseMediaMtx(q('path=live/cam1')), /^event:/);
    failsOn(() => parseMediaMtx(q('event=gone&path=live/cam1')), /^event:/);
    failsOn(() => parseMediaMtx(q('event=ready')), /^path:/);
    failsOn(() => parseMediaMtx(q('event=ready&path=a/b/c')), /^path:/);
  });
});

describe('node-media-server notify', () => {
  it('postPublish / donePublish name app/name; plays are ignored', () => {
    const nms = { id: 'x', ip: '::1', app: 'live', name: 'cam1', query: {}, protocol: 'rtmp', action: 'postPublish' };
    assert.deepEqual(parseNms(nms), { event: 'publish', streams: ['live/cam1'] });
    assert.deepEqual(parseNms({ ...nms, action: 'donePublish' }), { event: 'unpublish', streams: ['live/cam1'] });
    assert.equal(parseNms({ ...nms, action: 'postPlay' }).event, 'ignore');
    failsOn(() => parseNms({ ...nms, name: undefined }), /^name:/);
  });
});

describe('the plain JSON hook', () => {
  it('publish, unpublish and refresh with stream keys (duplicates once, slashes trimmed)', () => {
    assert.deepEqual(parseJsonHook({ event: 'publish', streams: ['live/a', '/live/b', 'live/a'] }), { event: 'publish', streams: ['live/a', 'live/b'] });
    assert.deepEqual(parseJsonHook({ event: 'refresh', streams: [] }), { event: 'refresh', streams: [] });
    assert.equal(parseHook('json', { event: 'unpublish', streams: ['x/y'] }, q()).event, 'unpublish');
  });
  it('strict: every wrong field is named', () => {
    failsOn(() => parseJsonHook({ event: 'publish', streams: ['a/b'], extra: 1 }), /^extra: unknown field/);
    failsOn(() => parseJsonHook({ event: 'start', streams: [] }), /^event:/);
    failsOn(() => parseJsonHook({ streams: [] }), /^event:/);
    failsOn(() => parseJsonHook({ event: 'publish', streams: 'a/b' }), /^streams:/);
    failsOn(() => parseJsonHook({ event: 'publish', streams: ['a/b', 3] }), /^streams\[1\]:/);
    failsOn(() => parseJsonHook({ event: 'publish', streams: ['a/b', 'a/../b'] }), /^streams\[1\]:/);
    failsOn(() => parseJsonHook({ event: 'publish', streams: ['a\u0000b'] }), /^streams\[0\]: control/);
    failsOn(() => parseJsonHook({ event: 'publish', streams: new Array(HOOK_MAX_STREAMS + 1).fill('a/b') }), /^streams: at most/);
    failsOn(() => checkStreamKey('x'.repeat(300), 'streams[0]'), /^streams\[0\]:/);
  });
});

describe('hook secrets', () => {
  const node = { id: 'b', url: 'http://127.0.0.1:1', hookSecret: 'a-node-secret-0123456789' } as NodeConfig;
  it('bearer first, else the query', () => {
    assert.equal(hookSecretOf('Bearer abc', q('secret=def')), 'abc');
    assert.equal(hookSecretOf(undefined, q('secret=def')), 'def');
    assert.equal(hookSecretOf('Basic xyz', q()), undefined);
  });
  it('right passes; wrong, missing, or a node without hookSecret is HOOK_UNAUTHORIZED', () => {
    checkHookSecret(node, 'b', 'a-node-secret-0123456789');
    const refused = (fn: () => void, why: RegExp) =>
      assert.throws(fn, (error: Error & { code?: string }) => error.code === 'HOOK_UNAUTHORIZED' && why.test(error.message));
    refused(() => checkHookSecret(node, 'b', 'a-node-secret-0123456788'), /wrong secret/);
    refused(() => checkHookSecret(node, 'b', 'short'), /wrong secret/);
    refused(() => checkHookSecret(node, 'b', undefined), /no secret/);
    refused(() => checkHookSecret({ ...node, hookSecret: undefined }, 'b', 'a-node-secret-0123456789'), /no hookSecret/);
    refused(() => checkHookSecret(undefined, 'zz', 'a-node-secret-0123456789'), /no such node/);
  });
});
