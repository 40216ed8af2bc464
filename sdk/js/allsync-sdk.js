// Write allsync adapters in JavaScript (ES modules), built into WebAssembly
// components with componentize-js.
//
//   import { Adapter, Config, exportAdapter, info, key } from './allsync-sdk.js';
//
//   class Static extends Adapter {
//     static describe() {
//       return info('static', '0.1.0', 'A fixed list', { keys: [key('things', 'a,b,c', { required: true })], readOnly: true });
//     }
//     constructor(config) { super(config); this.things = config.list('things'); }
//     get() { return this.things; }
//   }
//
//   export const adapter = exportAdapter(Static);
//
// Throw InvalidConfig, Unauthorized, NotFound, RateLimited, Unsupported or
// Other for a whole call that fails; return rejected(...) items from
// add/remove for things that could not be applied, or keep the account in an
// Outcome when a call sends several requests. request() sends HTTP through
// wasi:http, where the host allows it.

import { handle } from 'wasi:http/outgoing-handler@0.2.12';
import { Fields, OutgoingRequest, OutgoingBody, IncomingBody } from 'wasi:http/types@0.2.12';

/** A whole call failed; `tag` is the WIT `error` variant. */
export class AdapterError extends Error {
  constructor(tag, message, val = message) {
    super(message);
    this.payload = { tag, val };
  }

  /** The error's text with its kind, as a rejection reason ("not found: ..."). */
  get reason() {
    const { tag } = this.payload;
    return tag === 'other' ? this.message : `${tag.replace('-', ' ')}: ${this.message}`;
  }
}
export class InvalidConfig extends AdapterError { constructor(m) { super('invalid-config', m); } }
export class Unauthorized extends AdapterError { constructor(m) { super('unauthorized', m); } }
export class NotFound extends AdapterError { constructor(m) { super('not-found', m); } }
export class RateLimited extends AdapterError { constructor(seconds) { super('rate-limited', `the service asks to retry in ${seconds} s`, seconds); } }
export class Unsupported extends AdapterError { constructor(m) { super('unsupported', m); } }
export class Other extends AdapterError { constructor(m) { super('other', m); } }

/** A config key the adapter understands. */
export function key(name, description, { required = false, secret = false } = {}) {
  return { name, description, required, secret };
}

/** What `describe` returns. */
export function info(name, version, description, { keys = [], hosts = [], readOnly = false } = {}) {
  return { name, version, description, config: keys, hosts, readOnly };
}

/** One thing add or remove could not apply, and why. */
export function rejected(thing, reason) {
  return { thing, reason };
}

/** `error` itself if it is an AdapterError, else `other` with its text after `context`. */
function asAdapterError(error, context = '') {
  return error instanceof AdapterError ? error : new Other(`${context}${error}`);
}

/**
 * What one add or remove call did, thing by thing.
 *
 * The host counts as applied every thing a call was given and did not
 * reject. A call that sends several requests can fail part-way: the things a
 * failed request did not apply must then come back as rejections, with the
 * failure as the reason, or the host would report them as done.
 *
 *   const outcome = new Outcome();
 *   for (const email of things) {
 *     outcome.record(email, () => request('PUT', member(email), { headers }).success('add a member'));
 *   }
 *   return outcome.finish();
 */
export class Outcome {
  #applied = 0;
  #rejected = [];
  #failure = null;

  /** Notes that one thing was applied. */
  applied() {
    this.#applied += 1;
  }

  /** Rejects one thing for a reason of its own (unknown here, refused for
   * this thing only); the call goes on. */
  reject(thing, reason) {
    this.#rejected.push(rejected(thing, reason));
  }

  /** Notes that `things` were not applied because a request failed with
   * `error` (any other error than an AdapterError counts as `other`). */
  failed(things, error) {
    const failure = asAdapterError(error);
    const reason = `not applied: ${failure.reason}`;
    for (const thing of things) this.#rejected.push(rejected(thing, reason));
    this.#failure ??= failure;
  }

  /** Runs `action` for `thing`: applied if it returns, failed with what it
   * throws if not. */
  record(thing, action) {
    try {
      action();
    } catch (error) {
      this.failed([thing], error);
      return;
    }
    this.applied();
  }

  /** Whether a request has failed, so the caller can stop sending more
   * (passing the things not sent to failed()). */
  get hasFailed() {
    return this.#failure !== null;
  }

  /** The call's result: the rejections; or, when a request failed and
   * nothing at all was applied, throws that first failure (so "nothing was
   * done" reads as such). */
  finish() {
    if (this.#applied === 0 && this.#failure) throw this.#failure;
    return this.#rejected;
  }
}

/** The key/value configuration from allsync.toml. */
export class Config {
  constructor(pairs) { this.values = new Map(pairs); }
  get(name, fallback = undefined) { return this.values.has(name) ? this.values.get(name) : fallback; }
  require(name) {
    const value = this.values.get(name) ?? '';
    if (!value.trim()) throw new InvalidConfig(`missing required config key \`${name}\``);
    return value;
  }
  list(name) { return (this.values.get(name) ?? '').split(',').map((item) => item.trim()).filter(Boolean); }
}

/** Base class: override static describe(), constructor(config), get(), and
 * (unless read-only) add(things) and remove(things). */
export class Adapter {
  constructor(config) { this.config = config; }
  get() { throw new Other('get is not implemented'); }
  add() { throw new Unsupported('this adapter is read-only: use it as a source'); }
  remove() { throw new Unsupported('this adapter is read-only: use it as a source'); }
}

/** The `adapter` export componentize-js needs, delegating to AdapterClass. */
export function exportAdapter(AdapterClass) {
  let instance = null;
  const call = (method, ...args) => {
    try {
      if (!instance) throw new Other('the host called the adapter before init');
      return instance[method](...args);
    } catch (error) {
      throw asAdapterError(error, `${method} failed: `);
    }
  };
  return {
    describe: () => AdapterClass.describe(),
    init(config) {
      try {
        instance = new AdapterClass(new Config(config));
      } catch (error) {
        throw error instanceof AdapterError ? error : new InvalidConfig(`init failed: ${error}`);
      }
    },
    get: () => call('get'),
    add: (things) => call('add', things),
    remove: (things) => call('remove', things),
  };
}

/** The largest wait the WIT `rate-limited(u32)` variant holds. */
const U32_MAX = 2 ** 32 - 1;
/** A reset written as a Unix time is far past any sane wait in seconds. */
const UNIX_TIME_FROM = 1e9;

/** Whole seconds from now until `time` (milliseconds since the Unix epoch;
 * 0 if it has passed), rounded up. */
function secondsUntil(time) {
  return Math.min(Math.max(0, Math.ceil((time - Date.now()) / 1000)), U32_MAX);
}

/** A whole HTTP response. */
export class Response {
  constructor(status, headers, body) { Object.assign(this, { status, headers, body }); }
  header(name) { return this.headers.find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1]; }
  text() { return new TextDecoder().decode(this.body); }
  json() {
    try { return JSON.parse(this.text()); } catch (error) {
      throw new Other(`unexpected response body (HTTP ${this.status}): ${error}: ${this.text().slice(0, 300)}`);
    }
  }
  /** This response if 2xx, else the matching error: a rate limit (429, or
   * 403 with `Retry-After` or an exhausted `x-ratelimit-remaining`)
   * RateLimited, 401/403 Unauthorized, 404 NotFound, anything else Other.
   * `what` names the operation. */
  success(what) {
    if (this.status >= 200 && this.status < 300) return this;
    const seconds = this.rateLimited();
    if (seconds !== undefined) throw new RateLimited(seconds);
    const detail = `${what}: HTTP ${this.status}: ${this.text().slice(0, 300)}`;
    if (this.status === 401 || this.status === 403) throw new Unauthorized(detail);
    if (this.status === 404) throw new NotFound(detail);
    throw new Other(detail);
  }

  /** The seconds to wait, if this response is a rate limit: a 429 (1 s
   * unless it says), or a 403 that says when to come back (`Retry-After`, or
   * `x-ratelimit-remaining: 0` with `x-ratelimit-reset`), as GitHub's
   * secondary and primary rate limits answer; else undefined. */
  rateLimited() {
    const exhausted = this.header('x-ratelimit-remaining')?.trim() === '0';
    const wait = this.retryAfter() ?? (exhausted ? this.#ratelimitReset() : undefined);
    if (this.status === 429) return wait ?? 1;
    if (this.status === 403 && (wait !== undefined || exhausted)) return wait ?? 60;
    return undefined;
  }

  /** Seconds from a `Retry-After` header, in either of its forms: a number
   * of seconds, or an HTTP date (counted from now); else undefined. */
  retryAfter() {
    const value = this.header('retry-after')?.trim();
    if (value === undefined) return undefined;
    if (/^\d+$/.test(value)) return Math.min(Number(value), U32_MAX);
    const when = Date.parse(value);
    return Number.isNaN(when) ? undefined : secondsUntil(when);
  }

  /** Seconds until `x-ratelimit-reset`: Unix time (GitHub), or seconds from
   * now (Terraform Cloud, which may send a fraction). */
  #ratelimitReset() {
    const text = this.header('x-ratelimit-reset')?.trim();
    const value = text ? Number(text) : NaN;
    if (!Number.isFinite(value) || value < 0) return undefined;
    return value >= UNIX_TIME_FROM ? secondsUntil(Math.trunc(value) * 1000) : Math.ceil(value);
  }
}

const encoder = new TextEncoder();

/** Sends an HTTP request through wasi:http and reads the whole response;
 * `json` is sent as a JSON body. */
export function request(method, url, { headers = {}, json = undefined, body = undefined } = {}) {
  const match = /^(https?):\/\/([^/?]+)(.*)$/.exec(url);
  if (!match) throw new InvalidConfig(`\`${url}\` is not an http:// or https:// URL`);
  const [, scheme, authority, rest] = match;
  const all = { 'user-agent': 'allsync-adapter', ...headers };
  if (json !== undefined) {
    body = encoder.encode(JSON.stringify(json));
    all['content-type'] ??= 'application/json';
  }
  const fields = Fields.fromList(Object.entries(all).map(([name, value]) => [name.toLowerCase(), encoder.encode(value)]));
  const outgoing = new OutgoingRequest(fields);
  outgoing.setMethod({ tag: method.toLowerCase() });
  outgoing.setScheme({ tag: scheme.toUpperCase() });
  outgoing.setAuthority(authority);
  outgoing.setPathWithQuery(rest.startsWith('/') ? rest : `/${rest}`);
  const outgoingBody = outgoing.body();
  let pending;
  try {
    pending = handle(outgoing, undefined);
    if (body) {
      const stream = outgoingBody.write();
      for (let start = 0; start < body.length; start += 4096) stream.blockingWriteAndFlush(body.subarray(start, start + 4096));
      stream[Symbol.dispose]?.();
    }
    OutgoingBody.finish(outgoingBody, undefined);
  } catch (error) {
    throw new Other(`${method} ${url}: ${explain(error.payload ?? error)}`);
  }
  let answer;
  while ((answer = pending.get()) === undefined) pending.subscribe().block();
  if (answer.tag === 'err' || answer.val.tag === 'err') throw new Other(`${method} ${url}: ${explain(answer.val.val ?? answer.val)}`);
  return read(answer.val.val);
}

function read(incoming) {
  const decoder = new TextDecoder();
  const headers = incoming.headers().entries().map(([name, value]) => [name, decoder.decode(value)]);
  const status = incoming.status();
  const incomingBody = incoming.consume();
  const stream = incomingBody.stream();
  const chunks = [];
  for (;;) {
    try {
      chunks.push(stream.blockingRead(65536n));
    } catch (error) {
      if ((error.payload ?? error).tag === 'closed') break;
      throw new Other(`response body broke off: ${JSON.stringify(error.payload ?? String(error))}`);
    }
  }
  stream[Symbol.dispose]?.();
  IncomingBody.finish(incomingBody);
  const body = new Uint8Array(chunks.reduce((size, chunk) => size + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) { body.set(chunk, offset); offset += chunk.length; }
  return new Response(status, headers, body);
}

function explain(code) {
  if (code?.tag === 'HTTP-request-denied') return 'refused by the allsync host (it says why next to this error)';
  return code?.tag ?? String(code);
}
