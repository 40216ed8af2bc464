// The `{{name}}` allsync adapter.
//
// It starts as a read-only source of the things listed in its `things`
// config key: replace get() with a call to your service (see request() in
// allsync-sdk.js), and add add() and remove() (dropping readOnly) to make it
// a destination.

import { Adapter, exportAdapter, info, key } from './allsync-sdk.js';

class Template extends Adapter {
  static describe() {
    return info('{{name}}', '0.1.0', 'TODO: what this adapter syncs', {
      keys: [key('things', 'comma-separated things to return', { required: true })],
      readOnly: true,
    });
  }

  constructor(config) {
    super(config);
    config.require('things');
    this.things = config.list('things');
  }

  get() {
    return this.things;
  }
}

export const adapter = exportAdapter(Template);
