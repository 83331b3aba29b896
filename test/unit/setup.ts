// The app runs tfjs in PROD mode (src-main/engine/backend.ts); tests do the same, which also keeps tfjs's
// "install the node backend" advice out of the test log.
// Tests that compute without initBackend() run on the pure-JS backend, with gradients registered.
import * as tf from '../../src-main/engine/tf';

tf.env().set('PROD', true);
