// The app runs tfjs in PROD mode (src-main/engine/backend.ts); tests do the same, which also keeps tfjs's
// "install the node backend" advice out of the test log.
import * as tf from '@tensorflow/tfjs';

tf.env().set('PROD', true);
