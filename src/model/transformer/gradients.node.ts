// Registers tfjs' gradient functions under Node, where tfjs-core's ESM tree cannot load (its
// imports have no file extensions). The @tensorflow/tfjs bundle for Node registers them all on
// the same tfjs-core instance (the one the model imports), via package.json "imports".
import '@tensorflow/tfjs';
