/**
 * The Settings page's values (renderer/src/pages/settings-values.ts): every tls setting has a
 * field, ACME's included; a field of tls.acme changes the whole object as saved (the API
 * replaces it whole), a bad value is named by its field before anything is sent, and an
 * engine error naming a nested field lands under it. Every webhooks setting and the
 * per-address connection limit have a field too, and a change of them is a patch of its section.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig, tlsAcmeSchema, tlsSettingsSchema, webhookSettingsSchema } from '../../../shared/config.js';
import type { SettingsDto } from '../../../shared/dto.js';
import { ALL_FIELDS, buildPatch, fieldErrorOfApi, keyOf, valuesOf } from '../../../renderer/src/pages/settings-values.js';

/** The settings of a config with defaults, as the API answers them. */
function settingsOf(config: unknown): SettingsDto {
  const { relay, tls, admin, flv, hls, app, logs, webhooks } = parseConfig(config);
  return { relay, tls, admin, flv, hls, app, logs, webhooks, listening: { relayUrl: '', adminUrl: '' }, restartNeeded: false };
}

describe('Settings page values', () => {
  it('has a field for every tls setting (the certificates list has its own panel)', () => {
    const keys = new Set(ALL_FIELDS.map(keyOf));
    for (const key of Object.keys(tlsSettingsSchema.shape).filter((k) => k !== 'certificates' && k !== 'acme')) assert.ok(keys.has(`tls.${key}`), `tls.${key}`);
    for (const key of Object.keys(tlsAcmeSchema.shape)) assert.ok(keys.has(`tls.acme.${key}`), `tls.acme.${key}`);
  });

  it('has a field for every webhooks setting and for the per-address connection limit', () => {
    const keys = new Set(ALL_FIELDS.map(keyOf));
    for (const key of Object.keys(webhookSettingsSchema.shape)) assert.ok(keys.has(`webhooks.${key}`), `webhooks.${key}`);
    for (const key of ['maxConnectionsPerAddress', 'addressLimitIpv6Prefix']) assert.ok(keys.has(`relay.${key}`), `relay.${key}`);
  });

  it('sends the changed webhooks and relay fields as a patch of their sections; a bad one is named', () => {
    const settings = settingsOf({ webhooks: { stopRetries: 2 } });
    const values = valuesOf(settings);
    assert.equal(values['webhooks.stopRetries'], '2');
    assert.equal(values['webhooks.verifyTls'], true);
    assert.equal(values['relay.maxConnectionsPerAddress'], '0');
    const changed = { ...values, 'webhooks.cacheEntries': '500', 'webhooks.verifyTls': false, 'relay.maxConnectionsPerAddress': '8' };
    assert.deepEqual(buildPatch(changed, settings), {
      patch: { webhooks: { cacheEntries: 500, verifyTls: false }, relay: { maxConnectionsPerAddress: 8 } },
      errors: {},
    });
    const bad = buildPatch({ ...values, 'webhooks.stopRetries': '21', 'relay.addressLimitIpv6Prefix': '0' }, settings);
    assert.deepEqual(bad.patch, {});
    assert.deepEqual(bad.errors, {
      'webhooks.stopRetries': 'expected an integer from 0 to 20, got 21',
      'relay.addressLimitIpv6Prefix': 'expected an integer from 1 to 128, got 0',
    });
    assert.deepEqual(fieldErrorOfApi('body.webhooks.stopQueue: expected an integer from 0 to 1000000, got -1'), {
      'webhooks.stopQueue': 'expected an integer from 0 to 1000000, got -1',
    });
  });

  it('sends tls.acme whole, with the changed fields in it, and nothing for fields left as they are', () => {
    const settings = settingsOf({ tls: { acme: { email: 'ops@example.com' } } });
    const values = valuesOf(settings);
    assert.equal(values['tls.acme.email'], 'ops@example.com');
    assert.deepEqual(buildPatch(values, settings), { patch: {}, errors: {} });
    const { patch, errors } = buildPatch({ ...values, 'tls.acme.domains': 'live.example.com, cdn.example.com', 'tls.acme.renewBeforeDays': '20' }, settings);
    assert.deepEqual(errors, {});
    assert.deepEqual(patch, { tls: { acme: { ...settings.tls.acme, domains: ['live.example.com', 'cdn.example.com'], renewBeforeDays: 20 } } });
  });

  it('refuses a bad value naming its field, and sends nothing for it', () => {
    const settings = settingsOf({});
    const values = { ...valuesOf(settings), 'tls.acme.domains': 'live.example.com, not a host!', 'tls.http2MaxConcurrentStreams': '0' };
    const { patch, errors } = buildPatch(values, settings);
    assert.deepEqual(patch, {});
    assert.match(errors['tls.acme.domains'], /^tls\.acme\.domains\[1\]: expected a DNS name/);
    assert.equal(errors['tls.http2MaxConcurrentStreams'], 'expected an integer from 1 to 10000, got 0');
  });

  it("maps the engine's errors on nested fields back to them", () => {
    assert.deepEqual(fieldErrorOfApi('tls.acme.termsOfServiceAgreed: must be true when ACME is enabled'), {
      'tls.acme.termsOfServiceAgreed': 'must be true when ACME is enabled',
    });
    assert.deepEqual(fieldErrorOfApi('body.tls.acme.domains[0]: expected a DNS name'), { 'tls.acme.domains': 'tls.acme.domains[0]: expected a DNS name' });
    assert.deepEqual(fieldErrorOfApi('hls.carryParams[1]: "_rdh" is reserved'), { 'hls.carryParams': 'hls.carryParams[1]: "_rdh" is reserved' });
    assert.equal(fieldErrorOfApi('tls.acme.unknownThing: unknown key'), undefined);
  });
});
