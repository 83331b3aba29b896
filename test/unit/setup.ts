// The app runs tfjs in PROD mode (src-main/engine/backend.ts); tests do the same, which also keeps tfjs's
// "install the node backend" advice out of the test log.
// Tests that compute without initBackend() run on the pure-JS backend, with gradients registered.
import * as tf from '../../src-main/engine/tf';

tf.env().set('PROD', true);
// Test files share worker processes (vitest.config.ts, isolate: false): start each on the pure-JS backend,
// whatever the file before it chose.
await tf.setBackend('cpu');
