/**
 * Active health checks (a GET on a timer; any HTTP answer below 500 passes) and passive
 * checks (proxy failures within a window). A node flips down after `fails` consecutive
 * failed checks and up after `passes` passed ones; each flip is reported once. A check the
 * relay could not make for want of its own resources (EMFILE, ...) says nothing about the node
 * and is not counted (errors.ts isRelayResourceError).
 */
import type { HealthSettings } from '../../../shared/config.js';
import type { RelayError } from '../core/errors.js';
import { oneTimeout } from './http-json.js';
import { MAX_PASSIVE_FAILURES_KEPT, type NodeState } from './node-state.js';
import { addressOf, pathOf, type UpstreamTransport } from './transport.js';

/** Result of one active check. */
export interface CheckResult {
  ok: boolean;
  rttMs: number;
  error: string;
  /** The relay could not make the check (its own resources ran out): neither a pass nor a fail. */
  inconclusive?: boolean;
}

/** One GET of the health path through the transport (a connection of its own); never rejects. */
export function checkOnce(baseUrl: string, settings: HealthSettings, transport: UpstreamTransport): Promise<CheckResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let url: URL;
    try {
      url = new URL(settings.path, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
    } catch {
      resolve({ ok: false, rttMs: -1, error: 'bad health URL' });
      return;
    }
    const call = transport.request(
      { to: addressOf(url), path: pathOf(url), headers: { 'user-agent': 'RelayDeck health check' }, timeouts: oneTimeout(settings.timeoutMs), pooled: false },
      {
        onResponse: (response) => {
          const rttMs = Math.round((performance.now() - started) * 10) / 10;
          call.abort();
          const status = response.status;
          resolve(status < 500 ? { ok: true, rttMs, error: '' } : { ok: false, rttMs, error: `HTTP ${status}` });
        },
        onEnd: (error) => resolve(failedCheck(error)),
      },
    );
  });
}

/** A check that got no answer: the socket error's code (ECONNREFUSED, ...) or the transport's message; the relay's own shortage is inconclusive. */
function failedCheck(error: RelayError | undefined): CheckResult {
  const errno = (error?.cause as NodeJS.ErrnoException | undefined)?.code;
  return { ok: false, rttMs: -1, error: errno ?? error?.message ?? 'no answer', inconclusive: error?.code === 'RELAY_RESOURCES' };
}

/** Apply a check result; returns true when the node's health flipped. */
export function applyCheck(state: NodeState, result: CheckResult, settings: HealthSettings, now = Date.now()): boolean {
  if (result.inconclusive) return false;
  state.lastCheckAt = now;
  if (result.ok) {
    state.rttMs = result.rttMs;
    state.consecutivePasses += 1;
    state.consecutiveFails = 0;
    state.lastError = '';
    if (state.health === 'down' && state.consecutivePasses >= settings.passes) {
      state.health = 'up';
      return true;
    }
    return false;
  }
  state.lastError = result.error;
  state.consecutiveFails += 1;
  state.consecutivePasses = 0;
  if (state.health === 'up' && state.consecutiveFails >= settings.fails) {
    state.health = 'down';
    return true;
  }
  return false;
}

/** Count a proxy failure against the node; returns true when it made the node go down. */
export function recordPassiveFailure(state: NodeState, settings: HealthSettings, now = Date.now()): boolean {
  if (settings.passiveMaxFails === 0) return false;
  state.passiveFailures.push(now);
  if (state.passiveFailures.length > MAX_PASSIVE_FAILURES_KEPT) state.passiveFailures.shift();
  return updatePassive(state, settings, now);
}

/** Forget failures older than the window; returns true when the passive verdict flipped. */
export function updatePassive(state: NodeState, settings: HealthSettings, now = Date.now()): boolean {
  const cutoff = now - settings.passiveWindowMs;
  while (state.passiveFailures.length > 0 && state.passiveFailures[0] < cutoff) state.passiveFailures.shift();
  const down = settings.passiveMaxFails > 0 && state.passiveFailures.length >= settings.passiveMaxFails;
  if (down === state.passivelyDown) return false;
  state.passivelyDown = down;
  return true;
}
