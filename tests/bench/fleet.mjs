// Fleet bench (issue 16), section `fleet` of `npm run bench`: what fleet mode costs, measured
// against the same relay running alone, in the same run, on the same origin:
//   a. config propagation: 50 route changes made on relay 1's admin API; the time until relays
//      2 and 3 push the changed config on their event streams (SSE), p50/p99 (target p99 <= 200 ms)
//   b. FLV viewer join: time to the first response byte of a viewer joining a live stream already
//      pulled, alone against in a fleet, on a route with a per-stream viewer cap (the fleet pays
//      its one Redis script per join there) and on one without; interleaved; the median added
//      (target <= 2 ms)
//   c. Redis commands per viewer join and leave (INFO commandstats over the joins, minus the
//      heartbeat baseline measured over as long an idle window)
//   d. relay CPU at BENCH_FLEET_VIEWERS viewers (1000), alone against in a fleet, interleaved
//      rounds (target <= 5% more)
// Needs redis-server on PATH (skipped with the reason otherwise).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { cpuProbe, envNumber, fmt, forkHelper, forkTracked, freePort, HOST, nextMessage, percentiles, sleep, spawnServer, stopChild, table } from './lib.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH_DIR, '..', '..');

export const FLEET_GOALS = { propagationP99MaxMs: 200, joinAddedMedianMaxMs: 2, cpuAddedMaxFraction: 0.05 };

export function fleetSettingsFromEnv(env = process.env) {
  return {
    changes: envNumber(env, 'BENCH_FLEET_CHANGES', 50, 1, 1000),
    joins: envNumber(env, 'BENCH_FLEET_JOINS', 200, 10, 5000),
    viewers: envNumber(env, 'BENCH_FLEET_VIEWERS', 1000, 10, 5000),
    viewSeconds: envNumber(env, 'BENCH_FLEET_VIEW_SECONDS', 10, 3, 120),
    rounds: envNumber(env, 'BENCH_FLEET_ROUNDS', 2, 1, 5),
    bitrate: envNumber(env, 'BENCH_BITRATE', 2_000_000, 100_000, 20_000_000),
  };
}

function hasRedis() {
  return spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).status === 0;
}

/** One RESP command over a fresh socket (the bench needs INFO only; no client library in the measuring path). */
function redisCommand(port, ...args) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, HOST);
    let text = '';
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`));
    socket.on('data', (chunk) => {
      text += chunk;
      const header = /^\$(\d+)\r\n/.exec(text);
      if (header && text.length >= header[0].length + Number(header[1])) {
        socket.destroy();
        resolve(text.slice(header[0].length, header[0].length + Number(header[1])));
      }
    });
    socket.once('error', reject);
    setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis ${args[0]}: no answer`));
    }, 5_000).unref();
  });
}

/** Total commands Redis has run (INFO commandstats, every command summed). */
async function redisCalls(port) {
  const info = await redisCommand(port, 'INFO', 'commandstats');
  let calls = 0;
  for (const match of info.matchAll(/calls=(\d+)/g)) calls += Number(match[1]);
  return calls;
}

function relayConfig({ originUrl, token, redisUrl, relayId }) {
  return {
    relay: { host: HOST, port: 0, shutdownGraceMs: 1_000 },
    admin: { host: HOST, port: 0, token },
    ...(redisUrl ? { fleet: { redisUrl, relayId, name: 'bench' } } : {}),
    nodes: [{ id: 'a', url: originUrl }],
    routes: [
      { id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' },
      { id: 'capped', path: '/live/capped/', kind: 'flv', mode: 'proxy', limits: { maxViewersPerStream: 100_000 } },
      { id: 'r', path: '/r/', kind: 'file', mode: 'redirect' },
    ],
  };
}

async function startRelay(tmpRoot, name, options) {
  const dir = mkdtempSync(path.join(tmpRoot, `fleet-${name}-`));
  const token = `bench-${randomBytes(16).toString('hex')}`;
  const configFile = path.join(dir, 'config.json');
  writeFileSync(configFile, `${JSON.stringify(relayConfig({ ...options, token }), null, 2)}\n`, { mode: 0o600 });
  const server = await spawnServer(process.execPath, [path.join(ROOT, 'electron', 'bin', 'relaydeck.mjs'), 'serve', '--config', configFile], {
    ready: [/relay listening on (http:\/\/\S+)/, /admin listening on (http:\/\/\S+)/],
    cwd: ROOT,
    env: { RELAYDECK_HOME: dir, RELAYDECK_LOG_LEVEL: 'warn' },
    stderrFile: path.join(dir, 'stderr.log'),
  });
  const [relayUrl, adminUrl] = server.matches;
  const api = async (method, p, body) => {
    const response = await fetch(adminUrl + p, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(5_000),
    });
    if (!response.ok) throw new Error(`${name} admin ${method} ${p}: HTTP ${response.status} ${await response.text()}`);
    return response.json();
  };
  return { name, relayUrl, adminUrl, token, api, pid: server.child.pid, stop: () => stopChild(server.child, { signal: 'SIGTERM', timeoutMs: 6_000 }) };
}

/** Follow a relay's event stream; `onConfig(routes, at)` for each pushed config. Resolves once the stream is open. */
async function followConfig(relay, onConfig) {
  const controller = new AbortController();
  const response = await fetch(`${relay.adminUrl}/api/events`, { headers: { authorization: `Bearer ${relay.token}` }, signal: controller.signal });
  if (!response.ok) throw new Error(`${relay.name} events: HTTP ${response.status}`);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        const at = performance.now();
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!/^event: config$/m.test(block)) continue;
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (data) onConfig(JSON.parse(data).routes ?? [], at);
        }
      }
    } catch {
      // aborted at the end
    }
  })();
  return () => controller.abort();
}

/** a. 50 changes on relay 1; time until relays 2 and 3 push them. */
async function measurePropagation(relays, changes) {
  const [origin, ...others] = relays;
  const waiting = new Map();
  const stops = [];
  for (const relay of others)
    stops.push(
      await followConfig(relay, (routes, at) => {
        for (const [key, entry] of waiting) if (key.startsWith(`${relay.name}|`) && routes.some((r) => r.id === entry.routeId)) entry.resolve(at);
      }),
    );
  const latencies = [];
  const failures = [];
  try {
    for (let i = 0; i < changes; i += 1) {
      const routeId = `p${i}`;
      const arrivals = others.map(
        (relay) =>
          new Promise((resolve) => {
            const key = `${relay.name}|${routeId}`;
            const timer = setTimeout(() => {
              waiting.delete(key);
              resolve(NaN);
            }, 5_000);
            waiting.set(key, {
              routeId,
              resolve: (at) => {
                clearTimeout(timer);
                waiting.delete(key);
                resolve(at);
              },
            });
          }),
      );
      const sentAt = performance.now();
      try {
        await origin.api('POST', '/api/routes', { id: routeId, path: `/${routeId}/`, kind: 'file', mode: 'redirect' });
      } catch (error) {
        failures.push(error.message);
      }
      for (const at of await Promise.all(arrivals)) latencies.push(at - sentAt);
      await sleep(20);
    }
  } finally {
    for (const stop of stops) stop();
  }
  return { ...percentiles(latencies), lost: latencies.filter((v) => !Number.isFinite(v)).length, failures };
}

/** Time to the first response byte of one FLV viewer joining `url`, ms (the socket then closes). */
function joinOnce(url) {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const started = performance.now();
    const socket = net.connect(Number(target.port), target.hostname);
    socket.once('connect', () => socket.write(`GET ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\n\r\n`));
    socket.once('data', (chunk) => {
      const at = performance.now();
      socket.destroy();
      if (!chunk.toString('latin1').startsWith('HTTP/1.1 200')) reject(new Error(`join ${url}: ${chunk.toString('latin1').split('\r\n')[0]}`));
      else resolve(at - started);
    });
    socket.once('error', reject);
  });
}

/** A viewer that keeps the stream pulled while the joins come and go. */
function holdViewer(url) {
  const target = new URL(url);
  const socket = net.connect(Number(target.port), target.hostname);
  socket.once('connect', () => socket.write(`GET ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\n\r\n`));
  socket.on('data', () => undefined);
  socket.on('error', () => undefined);
  return new Promise((resolve) => socket.once('data', () => resolve(() => socket.destroy())));
}

/** b + c. Interleaved joins alone / fleet on both routes; Redis calls per join on the fleet relay. */
async function measureJoins(alone, member, joins, redisPort) {
  const routes = ['live', 'capped'];
  const pathOf = { live: '/live/bench.flv', capped: '/live/capped/bench.flv' };
  const holds = [];
  for (const relay of [alone, member]) for (const route of routes) holds.push(await holdViewer(relay.relayUrl + pathOf[route]));
  const samples = { alone: { live: [], capped: [] }, fleet: { live: [], capped: [] } };
  const callsPerRoute = {};
  try {
    for (const route of routes) {
      // The heartbeat baseline over an idle window as long as the joins take, measured right after.
      const calls0 = await redisCalls(redisPort);
      const t0 = performance.now();
      for (let i = 0; i < joins; i += 1) {
        samples.alone[route].push(await joinOnce(alone.relayUrl + pathOf[route]));
        samples.fleet[route].push(await joinOnce(member.relayUrl + pathOf[route]));
      }
      await sleep(300); // the leaves of the last joins
      const calls1 = await redisCalls(redisPort);
      const window = performance.now() - t0;
      await sleep(window);
      const calls2 = await redisCalls(redisPort);
      const heartbeat = calls2 - calls1 - 3; // minus the INFO calls themselves
      callsPerRoute[route] = Math.max(0, calls1 - calls0 - 2 - heartbeat) / joins;
    }
  } finally {
    for (const release of holds) release();
  }
  const median = (values) => percentiles(values).p50Ms;
  return Object.fromEntries(
    routes.map((route) => [
      route,
      {
        aloneMedianMs: median(samples.alone[route]),
        fleetMedianMs: median(samples.fleet[route]),
        addedMedianMs: median(samples.fleet[route]) - median(samples.alone[route]),
        aloneP99Ms: percentiles(samples.alone[route]).p99Ms,
        fleetP99Ms: percentiles(samples.fleet[route]).p99Ms,
        redisCallsPerJoinAndLeave: callsPerRoute[route],
      },
    ]),
  );
}

/** d. CPU of one relay while `n` viewers watch one stream for `seconds`. */
async function measureCpu(relay, n, seconds, bitrate) {
  const viewers = forkTracked(path.join(BENCH_DIR, 'viewers.mjs'), [
    '--url',
    `${relay.relayUrl}/live/cpu.flv`,
    '--n',
    String(n),
    '--seconds',
    String(seconds),
    '--bitrate',
    String(bitrate),
  ]);
  const start = nextMessage(viewers, 'window-start', 60_000, 'viewers.mjs');
  const end = nextMessage(viewers, 'window-end', 60_000 + (seconds + 15) * 1000, 'viewers.mjs');
  const result = nextMessage(viewers, 'result', 120_000 + seconds * 1000, 'viewers.mjs');
  await start;
  const probe = cpuProbe(() => [relay.pid]);
  probe.start();
  await end;
  const cpu = probe.stop();
  viewers.send({ cmd: 'leave' });
  const outcome = await result;
  await sleep(2_000);
  return {
    cores: cpu.cores,
    machineBusyFraction: cpu.machineBusyFraction,
    withFirstByte: outcome.withFirstByte,
    belowMinRate: outcome.belowMinRate,
    errors: outcome.errors,
  };
}

export async function benchFleet(hooks, settings = fleetSettingsFromEnv()) {
  if (!hasRedis()) {
    hooks.note('fleet: skipped: redis-server not found (Debian package "redis-server")');
    return { skipped: 'redis-server not found' };
  }
  const tmpRoot = mkdtempSync(path.join(hooks.tmpRoot, 'fleet-'));
  const redisPort = await freePort();
  const redis = await spawnServer('redis-server', ['--port', String(redisPort), '--bind', HOST, '--save', '', '--appendonly', 'no'], {
    ready: [/(Ready to accept connections)/],
  });
  const { child: originChild, ready } = await forkHelper(path.join(BENCH_DIR, 'flv-origin.mjs'), [
    '--bitrate',
    String(settings.bitrate),
    '--seg-bytes',
    '1000',
  ]);
  const originUrl = `http://${HOST}:${ready.port}`;
  const redisUrl = `redis://${HOST}:${redisPort}`;
  const started = [];
  try {
    const start = async (name, options) => {
      const relay = await startRelay(tmpRoot, name, { originUrl, ...options });
      started.push(relay);
      return relay;
    };
    const alone = await start('alone', {});
    const members = [];
    for (const id of ['r1', 'r2', 'r3']) members.push(await start(id, { redisUrl, relayId: id }));
    await sleep(1_500); // every relay has beaten once
    hooks.progress('fleet: config propagation');
    const propagation = await measurePropagation(members, settings.changes);
    hooks.progress('fleet: viewer joins');
    const joins = await measureJoins(alone, members[0], settings.joins, redisPort);
    hooks.progress(`fleet: relay CPU at ${settings.viewers} viewers`);
    const cpuRounds = [];
    for (let round = 0; round < settings.rounds; round += 1) {
      if (hooks.waitQuiet) await hooks.waitQuiet();
      const a = await measureCpu(alone, settings.viewers, settings.viewSeconds, settings.bitrate);
      if (hooks.waitQuiet) await hooks.waitQuiet();
      const f = await measureCpu(members[0], settings.viewers, settings.viewSeconds, settings.bitrate);
      cpuRounds.push({ aloneCores: a.cores, fleetCores: f.cores, added: f.cores / a.cores - 1, viewersServed: [a.withFirstByte, f.withFirstByte] });
    }
    const cpuAdded = cpuRounds.reduce((sum, r) => sum + r.added, 0) / cpuRounds.length;
    return { settings, goals: FLEET_GOALS, propagation, joins, cpu: { rounds: cpuRounds, addedMean: cpuAdded } };
  } finally {
    for (const relay of started) await relay.stop();
    await stopChild(originChild, { timeoutMs: 3_000 });
    await stopChild(redis.child, { timeoutMs: 3_000 });
  }
}

export function printFleet(results, log) {
  log('\n== Fleet mode (issue 16): cost against the same relay alone, same run');
  if (results.skipped) {
    log(`   skipped: ${results.skipped}`);
    return;
  }
  const { propagation: p, joins, cpu, goals } = results;
  log(
    table(
      ['measure', 'value', 'target'],
      [
        [
          `config propagation, ${results.settings.changes} changes to 2 relays: p50 / p99`,
          `${fmt.fixed(p.p50Ms, 1)} / ${fmt.fixed(p.p99Ms, 1)} ms${p.lost ? ` (${p.lost} lost)` : ''}`,
          `p99 <= ${goals.propagationP99MaxMs} ms`,
        ],
        ...Object.entries(joins).map(([route, j]) => [
          `FLV join, route "${route}"${route === 'capped' ? ' (per-stream cap: one Redis script)' : ''}: median alone / fleet (added)`,
          `${fmt.fixed(j.aloneMedianMs, 2)} / ${fmt.fixed(j.fleetMedianMs, 2)} ms (${fmt.fixed(j.addedMedianMs, 2)})`,
          `added <= ${goals.joinAddedMedianMaxMs} ms`,
        ]),
        ...Object.entries(joins).map(([route, j]) => [
          `Redis commands per join + leave, route "${route}"`,
          fmt.fixed(j.redisCallsPerJoinAndLeave, 2),
          'bounded',
        ]),
        [
          `relay CPU at ${results.settings.viewers} viewers: fleet / alone - 1 (rounds)`,
          `${fmt.fixed(cpu.addedMean * 100, 1)}% (${cpu.rounds.map((r) => `${fmt.fixed(r.aloneCores, 3)} -> ${fmt.fixed(r.fleetCores, 3)}`).join('; ')})`,
          `<= ${goals.cpuAddedMaxFraction * 100}%`,
        ],
      ],
    ),
  );
  if (p.failures.length) log(`   change failures: ${p.failures.slice(0, 3).join('; ')}`);
}
