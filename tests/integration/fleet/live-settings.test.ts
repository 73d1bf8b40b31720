/**
 * fleet.heartbeatMs, fleet.expiryMs and fleet.advertiseUrl apply live (a reload of the config
 * file, Engine.replaceConfig), watched on a real redis-server with MONITOR: the heartbeat's
 * record write (SET relay:<id> ... PX <expiryMs>) comes at the new pace (a shorter heartbeat
 * also cuts the wait of the one pending), carries the new expiry and the new URL, without a
 * restart. Skips with the printed reason when redis-server
 * is missing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sleep, waitFor } from '../../helpers/http.js';
import { missingRedis, monitorRedis, RedisServer } from '../../helpers/redis.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';

const skip = missingRedis();
if (skip) console.log(`# fleet live-settings suite skipped: ${skip}`);

const RELAY_ID = 'live-settings';

/** The heartbeat record writes MONITOR saw: one per line that SETs this relay's record, with its PX and the URL it carries. */
function recordWrites(lines: readonly string[]): { px: number; url: string }[] {
  const out: { px: number; url: string }[] = [];
  for (const line of lines) {
    if (!/"set" /i.test(line) || !line.includes(`:relay:${RELAY_ID}"`)) continue;
    const px = /"PX" "(\d+)"/.exec(line);
    const url = /\\"url\\":\\"([^\\]+)\\"/.exec(line);
    out.push({ px: Number(px?.[1]), url: url?.[1] ?? '' });
  }
  return out;
}

describe('fleet settings that apply live (real Redis)', { skip }, () => {
  const redis = new RedisServer();
  let relay: StartedRelay;

  before(async () => {
    await redis.start();
    relay = await startRelay({
      relay: { shutdownGraceMs: 0 },
      fleet: {
        redisUrl: redis.url,
        name: `live-${process.pid}`,
        relayId: RELAY_ID,
        heartbeatMs: 3_000,
        expiryMs: 10_000,
        advertiseUrl: 'http://before.test:1',
      },
    });
  });

  after(async () => {
    await relay?.stop();
    await redis.stop();
  });

  it('a reload changes the heartbeat pace, the record expiry and the advertised URL at once', async () => {
    const monitor = await monitorRedis(redis.port);
    try {
      // The relay's first heartbeat may predate MONITOR: the next one comes within heartbeatMs (3 s).
      await waitFor(() => recordWrites(monitor.lines).length >= 1, 8_000, 'a heartbeat seen by MONITOR');
      monitor.lines.length = 0;
      await sleep(1_000);
      const slow = recordWrites(monitor.lines);
      assert.ok(slow.length <= 1, `one record write in 3 s at heartbeatMs 3000: ${slow.length} in 1 s`);
      assert.ok(
        slow.every((w) => w.px === 10_000 && w.url === 'http://before.test:1'),
        JSON.stringify(slow),
      );

      const config = relay.engine.config;
      await relay.engine.replaceConfig({ ...config, fleet: { ...config.fleet, heartbeatMs: 100, expiryMs: 2_500, advertiseUrl: 'http://after.test:2' } });
      // Within the 3 s the heartbeat already waiting had left: a shorter heartbeat applies to it too.
      await waitFor(() => recordWrites(monitor.lines).some((w) => w.px === 2_500), 1_000, 'a heartbeat with the new expiry');
      monitor.lines.length = 0;
      await sleep(1_000);
      const fast = recordWrites(monitor.lines);
      assert.ok(fast.length >= 4, `about ten record writes a second at heartbeatMs 100 (one in 3 s before): ${fast.length}`);
      assert.deepEqual(new Set(fast.map((w) => `${w.px} ${w.url}`)), new Set(['2500 http://after.test:2']));
    } finally {
      monitor.close();
    }
  });
});
