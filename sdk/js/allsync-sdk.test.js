// Unit tests of allsync-sdk.js's plain-JavaScript parts (Outcome, and how
// Response reads rate limits), run natively:
//
//   node --test sdk/js/
//
// The wasi:http modules exist only inside a component, so a stand-in
// answers their imports here.

import { register } from 'node:module';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

const standIn = 'export const handle = null; export class Fields {} export class OutgoingRequest {} '
  + 'export class OutgoingBody {} export class IncomingBody {}';
const hooks = `export async function resolve(specifier, context, next) {
  if (!specifier.startsWith('wasi:')) return next(specifier, context);
  return { url: 'data:text/javascript,${encodeURIComponent(standIn)}', shortCircuit: true };
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);

const { NotFound, Other, Outcome, RateLimited, Response, Unauthorized } = await import('./allsync-sdk.js');

/** A response with `headers` and an empty JSON body. */
const answer = (status, headers = {}) => new Response(status, Object.entries(headers), new TextEncoder().encode('{}'));

const reasons = (rejections) => rejections.map(({ thing, reason }) => [thing, reason]);

describe('Outcome', () => {
  test('a failure part-way rejects what was not applied with the failure', () => {
    const outcome = new Outcome();
    outcome.record('ann@x.com', () => {});
    outcome.reject('bob@x.com', 'no such user');
    outcome.record('cy@x.com', () => new Response(500, [], new TextEncoder().encode('down')).success('add a member'));
    outcome.failed(['dan@x.com'], new Other('HTTP 500'));
    assert.equal(outcome.hasFailed, true);
    assert.deepEqual(reasons(outcome.finish()), [
      ['bob@x.com', 'no such user'],
      ['cy@x.com', 'not applied: add a member: HTTP 500: down'],
      ['dan@x.com', 'not applied: HTTP 500'],
    ]);
  });

  test('a failure before anything was applied fails the call', () => {
    const outcome = new Outcome();
    outcome.reject('bob@x.com', 'no such user');
    outcome.failed(['ann@x.com'], new Unauthorized('bad token'));
    outcome.failed(['cy@x.com'], new Other('later'));
    assert.throws(() => outcome.finish(), (error) => error instanceof Unauthorized && error.message === 'bad token');
  });

  test('rejections alone are not a failure', () => {
    const outcome = new Outcome();
    outcome.reject('bob@x.com', 'no such user');
    assert.equal(outcome.hasFailed, false);
    assert.equal(outcome.finish().length, 1);
  });

  test('reasons name the kind of failure', () => {
    const outcome = new Outcome();
    outcome.applied();
    outcome.failed(['ann@x.com'], new NotFound('no team `devs`'));
    outcome.failed(['bob@x.com'], new RateLimited(30));
    outcome.record('cy@x.com', () => JSON.parse('{'));
    const [notFound, rateLimited, other] = reasons(outcome.finish());
    assert.deepEqual(notFound, ['ann@x.com', 'not applied: not found: no team `devs`']);
    assert.deepEqual(rateLimited, ['bob@x.com', 'not applied: rate limited: the service asks to retry in 30 s']);
    assert.match(other[1], /^not applied: SyntaxError: /);
  });
});

describe('Response rate limits', () => {
  test('rate limits are told apart from refusals', () => {
    assert.equal(answer(429, { 'retry-after': '7' }).rateLimited(), 7);
    assert.equal(answer(429).rateLimited(), 1);
    assert.equal(answer(403, { 'Retry-After': '30' }).rateLimited(), 30);
    assert.equal(answer(403, { 'x-ratelimit-remaining': '0' }).rateLimited(), 60);
    assert.equal(answer(429, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '2.5' }).rateLimited(), 3);
    assert.equal(answer(403).rateLimited(), undefined);
    assert.equal(answer(500, { 'retry-after': '5' }).rateLimited(), undefined);
  });

  test('success throws a rate limit before a refusal', () => {
    assert.throws(() => answer(403).success('read'), Unauthorized);
    assert.throws(() => answer(403, { 'retry-after': '5' }).success('read'), (error) => error instanceof RateLimited
      && error.payload.val === 5);
  });

  test('Retry-After may be an HTTP date', () => {
    const inAMinute = new Date(Date.now() + 60_000).toUTCString();
    const wait = answer(429, { 'retry-after': inAMinute }).retryAfter();
    assert.ok(wait >= 59 && wait <= 61, `${wait}`);
    assert.equal(answer(429, { 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' }).retryAfter(), 0);
    assert.equal(answer(429, { 'retry-after': 'soon' }).retryAfter(), undefined);
  });

  test('x-ratelimit-reset may be a Unix time', () => {
    const inTwoMinutes = String(Math.floor(Date.now() / 1000) + 120);
    const wait = answer(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': inTwoMinutes }).rateLimited();
    assert.ok(wait >= 118 && wait <= 121, `${wait}`);
    assert.equal(answer(403, { 'x-ratelimit-remaining': '10', 'x-ratelimit-reset': inTwoMinutes }).rateLimited(), undefined);
  });
});
