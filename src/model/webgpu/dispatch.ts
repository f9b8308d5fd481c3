/**
 * Recording our own WGSL dispatches into tfjs's WebGPU backend (fused.ts says why): the
 * backend's device, buffers, uniform pool and command encoder, as its `runWebGPUProgram` uses
 * them, but with any number of outputs (up to the 8 storage buffers a stage may bind).
 */
import * as tf from '@tensorflow/tfjs-core';

/** The parts of tfjs-backend-webgpu's WebGPUBackend this file uses (it exports no types we want to bundle). */
export interface WebGPUBackendLike {
  device: GPUDevice;
  tensorMap: { get(dataId: object): { resource: GPUBuffer | null; dtype: string } };
  makeTensorInfo(shape: number[], dtype: 'float32'): tf.TensorInfo;
  uploadToGPU(dataId: object): void;
  makeUniforms(u: { type: 'float32' | 'uint32' | 'int32'; data: number[] }[]): GPUBufferBinding;
  commandQueueOwnedIds: Set<object>;
  ensureCommandEncoderReady(): void;
  commandEncoder: GPUCommandEncoder;
  computePassEncoder: GPUComputePassEncoder | null;
  dispatchCountInPass: number;
  endComputePassEncoder(): void;
  submitQueue(): void;
  activeTimers: { name: string; query: number | Promise<number> }[] | null;
}

const WORKGROUP = 64;
/** A scalar uniform, or an array of vec4<f32> (4·k values: per-model coefficients, k rows). */
export type Uniform = { name: string; type: 'f32' | 'u32'; value: number } | { name: string; type: 'vec4f'; values: number[] };

/** The WGSL type of a uniform's field. */
function wgslType(x: Uniform): string {
  if (x.type !== 'vec4f') return x.type;
  if (x.values.length === 0 || x.values.length % 4 !== 0) throw new Error(`${x.name}: a vec4 array of ${x.values.length} values`);
  return `array<vec4<f32>, ${x.values.length / 4}>`;
}

/**
 * tfjs's uniform entries: a scalar is one entry, a vec4 array one 4-value entry a row (tfjs aligns
 * each to 16 bytes, which is the stride of array<vec4<f32>> in a uniform buffer).
 */
function uniformEntries(x: Uniform): { type: 'float32' | 'uint32'; data: number[] }[] {
  if (x.type !== 'vec4f') return [{ type: x.type === 'f32' ? 'float32' : 'uint32', data: [x.value] }];
  const rows: { type: 'float32'; data: number[] }[] = [];
  for (let r = 0; r < x.values.length; r += 4) rows.push({ type: 'float32', data: x.values.slice(r, r + 4) });
  return rows;
}

const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

function pipelineFor(device: GPUDevice, key: string, code: () => string): GPUComputePipeline {
  let cache = pipelines.get(device);
  if (!cache) pipelines.set(device, (cache = new Map()));
  let p = cache.get(key);
  if (!p) {
    p = device.createComputePipeline({ layout: 'auto', label: key, compute: { module: device.createShaderModule({ code: code(), label: key }), entryPoint: 'main' } });
    cache.set(key, p);
  }
  return p;
}

/**
 * Records one dispatch of `body` (WGSL run once per index `i` < `count`) reading `inputs` and
 * writing new `outputs` of the given shapes, as tfjs records its own programs.
 */
export function dispatch(
  backend: WebGPUBackendLike,
  key: string,
  inputs: { name: string; t: tf.TensorInfo }[],
  outputs: { name: string; shape: number[] }[],
  uniforms: Uniform[],
  count: number,
  body: string,
  /** WGSL functions at module scope, before `main` (they may read the bindings). */
  prelude = '',
): tf.TensorInfo[] {
  if (inputs.length + outputs.length > 8) throw new Error(`${key}: more than 8 storage buffers`);
  const outs = outputs.map((o) => backend.makeTensorInfo(o.shape, 'float32'));
  for (const t of [...inputs.map((x) => x.t), ...outs]) backend.uploadToGPU(t.dataId);
  const u: Uniform[] = [{ name: 'count', type: 'u32', value: count }, ...uniforms];
  const code = () => {
    // Inputs are read through in_<name>(k) as f32: tfjs keeps a float32 cast of int32 data in
    // its int32 buffer (the one-hot labels), so the buffer's own type is declared.
    const decl = [
      ...inputs.map((x, i) => {
        const t = backend.tensorMap.get(x.t.dataId).dtype === 'float32' ? 'f32' : 'i32';
        return `@group(0) @binding(${i}) var<storage, read> ${x.name}: array<${t}>;\nfn in_${x.name}(k: u32) -> f32 { return f32(${x.name}[k]); }`;
      }),
      ...outputs.map((o, i) => `@group(0) @binding(${inputs.length + i}) var<storage, read_write> ${o.name}: array<f32>;`),
      `struct Uniforms { ${u.map((x) => `${x.name}: ${wgslType(x)},`).join(' ')} };`,
      `@group(0) @binding(${inputs.length + outputs.length}) var<uniform> uniforms: Uniforms;`,
    ];
    return `${decl.join('\n')}
${prelude}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * ${WORKGROUP}u;
  if (i >= uniforms.count) { return; }
${body}
}`;
  };
  // The WGSL depends on the inputs' buffer types and the uniform arrays' lengths too.
  const arrays = u.map((x) => (x.type === 'vec4f' ? x.values.length : '')).join(',');
  const pipeline = pipelineFor(backend.device, `${key}:${inputs.map((x) => backend.tensorMap.get(x.t.dataId).dtype).join(',')}:${arrays}`, code);
  const uniform = backend.makeUniforms(u.flatMap(uniformEntries));
  const buffers = [...inputs.map((x) => x.t), ...outs].map((t) => {
    backend.commandQueueOwnedIds.add(t.dataId);
    return { buffer: backend.tensorMap.get(t.dataId).resource! };
  });
  const bindGroup = backend.device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [...buffers, uniform].map((resource, binding) => ({ binding, resource })),
  });
  const groups = Math.max(1, Math.ceil(count / WORKGROUP));
  const x = Math.min(groups, 65535);
  backend.ensureCommandEncoderReady();
  if (!backend.computePassEncoder) backend.computePassEncoder = backend.commandEncoder.beginComputePass({});
  backend.computePassEncoder.setPipeline(pipeline);
  backend.computePassEncoder.setBindGroup(0, bindGroup);
  backend.computePassEncoder.dispatchWorkgroups(x, Math.ceil(groups / x), 1);
  backend.dispatchCountInPass++;
  if (backend.activeTimers) {
    // tf.profile is timing kernels: close the pass as tfjs does (no timestamp for ours).
    backend.endComputePassEncoder();
    backend.activeTimers.push({ name: key, query: 0 });
  } else if ((tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') as number) <= backend.dispatchCountInPass) {
    backend.endComputePassEncoder();
    backend.submitQueue();
  }
  return outs;
}

/** Registers a kernel for the webgpu backend unless it is already. */
export function registerOnce(name: string, kernelFunc: (b: WebGPUBackendLike, inputs: Record<string, tf.TensorInfo>, attrs: Record<string, unknown>) => tf.TensorInfo[]): void {
  if (tf.getKernel(name, 'webgpu')) return;
  tf.registerKernel({
    kernelName: name,
    backendName: 'webgpu',
    kernelFunc: ({ inputs, backend, attrs }) => kernelFunc(backend as unknown as WebGPUBackendLike, inputs as Record<string, tf.TensorInfo>, attrs as Record<string, unknown>),
  });
}
