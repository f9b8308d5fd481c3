// Registers tfjs' gradient functions in bundled (browser) builds, where tfjs-core's ESM tree
// resolves. Chosen by package.json "imports" (#tfjs-gradients) for every non-Node condition.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
