/** §4.3: a neuron is "well explained" by one frequency above this fraction of variance (no tensors: the page's tables read it too). */
export const NEURON_FVE_THRESHOLD = 0.85;
