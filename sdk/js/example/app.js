// The `webhook` adapter: a destination that POSTs each change to a URL as
// JSON, one request per thing, for chat-ops or audit trails:
//
//   {"event": "add", "things": ["ada@example.com"]}
//
// The changes of a call are POSTed in order, and the first that fails stops
// the call: it and the ones after it come back rejected ("not applied: ..."),
// so the sync reports exactly what the receiver was sent.
//
// What the receiver already holds is read from `state_url` (a GET answering
// a JSON array of strings); without it the list starts empty on every run,
// so each run announces the whole source.
//
// Built next to a copy of ../allsync-sdk.js (see scripts/lib.sh).

import { Adapter, InvalidConfig, Outcome, exportAdapter, info, key, request } from './allsync-sdk.js';

class Webhook extends Adapter {
  static describe() {
    return info('webhook', '0.1.0', 'POSTs each change to a URL as JSON (a destination for chat-ops or audits)', {
      keys: [
        key('url', 'where the changes are POSTed', { required: true }),
        key('state_url', 'a GET answering the JSON array of things the receiver holds'),
        key('token', 'a bearer token for both URLs', { secret: true }),
      ],
    });
  }

  constructor(config) {
    super(config);
    this.url = config.require('url');
    this.stateUrl = config.get('state_url');
    this.token = config.get('token');
    for (const url of [this.url, this.stateUrl].filter(Boolean)) {
      if (!/^https?:\/\//.test(url)) throw new InvalidConfig(`\`${url}\` is not an http:// or https:// URL`);
    }
  }

  headers() {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  get() {
    if (!this.stateUrl) return [];
    const state = request('GET', this.stateUrl, { headers: this.headers() }).success('read the state').json();
    if (!Array.isArray(state) || state.some((thing) => typeof thing !== 'string')) {
      throw new InvalidConfig(`${this.stateUrl} did not answer a JSON array of strings`);
    }
    return state;
  }

  add(things) {
    return this.post('add', things);
  }

  remove(things) {
    return this.post('remove', things);
  }

  /** POSTs one `event` per thing, stopping at the first that fails. */
  post(event, things) {
    const outcome = new Outcome();
    for (const [index, thing] of things.entries()) {
      try {
        request('POST', this.url, { headers: this.headers(), json: { event, things: [thing] } }).success(`post the ${event} event`);
      } catch (error) {
        outcome.failed(things.slice(index), error);
        break;
      }
      outcome.applied();
    }
    return outcome.finish();
  }
}

export const adapter = exportAdapter(Webhook);
