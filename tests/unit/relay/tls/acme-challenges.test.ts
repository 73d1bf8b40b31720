/**
 * ACME HTTP-01 tokens the relay answers (electron/engine/relay/tls/acme-challenges.ts): an
 * exact lookup of a well-formed token, forgotten when removed or after its time, and a map
 * that never grows past its bound.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACME_CHALLENGE_TTL_MS, AcmeChallenges, MAX_ACME_CHALLENGES } from '../../../../electron/engine/relay/tls/acme-challenges.js';

describe('ACME challenge tokens', () => {
  it('answers exactly the tokens held, and nothing once removed', () => {
    const challenges = new AcmeChallenges();
    challenges.add('tok_en-1', 'tok_en-1.thumb');
    assert.equal(challenges.answer('tok_en-1'), 'tok_en-1.thumb');
    assert.equal(challenges.answer('tok_en-'), undefined, 'no prefix match');
    assert.equal(challenges.answer('TOK_EN-1'), undefined, 'case matters');
    assert.equal(challenges.answer('tok_en-1/'), undefined);
    assert.equal(challenges.answer('../tok_en-1'), undefined);
    challenges.remove('tok_en-1');
    assert.equal(challenges.answer('tok_en-1'), undefined);
  });

  it('refuses a token that is not base64url', () => {
    assert.throws(() => new AcmeChallenges().add('a/b', 'x'), /not base64url/);
    assert.throws(() => new AcmeChallenges().add('', 'x'), /not base64url/);
  });

  it(`forgets a token after ${ACME_CHALLENGE_TTL_MS} ms, and holds at most ${MAX_ACME_CHALLENGES}, dropping the oldest`, () => {
    const challenges = new AcmeChallenges();
    challenges.add('old', 'old.k', 0);
    assert.equal(challenges.answer('old', ACME_CHALLENGE_TTL_MS - 1), 'old.k');
    assert.equal(challenges.answer('old', ACME_CHALLENGE_TTL_MS), undefined);
    for (let i = 0; i < MAX_ACME_CHALLENGES + 50; i += 1) challenges.add(`t${i}`, `k${i}`, 1);
    assert.equal(challenges.size, MAX_ACME_CHALLENGES);
    assert.equal(challenges.answer('t0', 2), undefined, 'the oldest went');
    assert.equal(challenges.answer(`t${MAX_ACME_CHALLENGES + 49}`, 2), `k${MAX_ACME_CHALLENGES + 49}`);
  });
});
