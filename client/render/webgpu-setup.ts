// Everything the WebGPU renderer creates up front: the device, the pipeline,
// the buffers and the bind group. Built once, and rebuilt as a whole only when
// the device is lost. A frame uses these objects and creates none.

import { FLOATS_PER_INSTANCE } from './types';
import { SHAPE_WGSL, VIEW_UNIFORM_FLOATS } from './wgsl';

const INSTANCE_BYTES = FLOATS_PER_INSTANCE * 4;
const INITIAL_CAPACITY = 1024;

export interface GpuScene {
  readonly device: GPUDevice;
  readonly pipeline: GPURenderPipeline;
  readonly viewBuffer: GPUBuffer;
  instanceBuffer: GPUBuffer;
  bindGroup: GPUBindGroup;
  /** Instances instanceBuffer holds. */
  capacity: number;
  /** The most instances one binding may hold on this device. */
  readonly maxCapacity: number;
}

/**
 * Asks for an adapter and a device. Software adapters (SwiftShader, with
 * isFallbackAdapter set) are accepted, and asked for explicitly when the
 * plain request finds nothing.
 */
export async function requestDevice(): Promise<GPUDevice> {
  const gpu = typeof navigator !== 'undefined' ? navigator.gpu : undefined;
  if (!gpu) throw new Error('WebGPU: navigator.gpu is missing (unsupported browser, or not a secure context)');
  const adapter = (await gpu.requestAdapter()) ?? (await gpu.requestAdapter({ forceFallbackAdapter: true }));
  if (!adapter) throw new Error('WebGPU: requestAdapter found no adapter, not even a fallback one');
  return adapter.requestDevice({ label: 'tickroom render' });
}

/** Creates the pipeline, buffers and bind group; rejects with the validation error if any fails. */
export async function createScene(device: GPUDevice, format: GPUTextureFormat): Promise<GpuScene> {
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label: 'shapes', code: SHAPE_WGSL });
  const info = await module.getCompilationInfo();
  const problems = info.messages.filter((m) => m.type === 'error');
  if (problems.length > 0) {
    await device.popErrorScope();
    throw new Error(`WebGPU: shader: ${problems.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('; ')}`);
  }
  // Premultiplied colour from the shader, blended over what is drawn already.
  const blend: GPUBlendState = {
    color: { srcFactor: 'one', dstFactor: 'one-minus-src-alpha' },
    alpha: { srcFactor: 'one', dstFactor: 'one-minus-src-alpha' },
  };
  const pipeline = await device.createRenderPipelineAsync({
    label: 'shapes',
    layout: 'auto',
    vertex: { module, entryPoint: 'vs' },
    fragment: { module, entryPoint: 'fs', targets: [{ format, blend }] },
    primitive: { topology: 'triangle-list' },
  });
  const viewBuffer = device.createBuffer({
    label: 'view',
    size: VIEW_UNIFORM_FLOATS * 4,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  const maxCapacity = Math.floor(device.limits.maxStorageBufferBindingSize / INSTANCE_BYTES);
  const capacity = Math.min(INITIAL_CAPACITY, maxCapacity);
  const instanceBuffer = createInstanceBuffer(device, capacity);
  const scene: GpuScene = {
    device,
    pipeline,
    viewBuffer,
    instanceBuffer,
    bindGroup: createBindGroup(device, pipeline, viewBuffer, instanceBuffer),
    capacity,
    maxCapacity,
  };
  const error = await device.popErrorScope();
  if (error) throw new Error(`WebGPU: creating GPU objects: ${error.message}`);
  return scene;
}

/**
 * Makes room for count instances (at most maxCapacity) by doubling the
 * capacity, so a growing scene reallocates a logarithmic number of times.
 */
export function ensureCapacity(scene: GpuScene, count: number): void {
  if (count <= scene.capacity) return;
  let capacity = scene.capacity;
  while (capacity < count) capacity *= 2;
  capacity = Math.min(capacity, scene.maxCapacity);
  scene.instanceBuffer.destroy();
  scene.instanceBuffer = createInstanceBuffer(scene.device, capacity);
  scene.bindGroup = createBindGroup(scene.device, scene.pipeline, scene.viewBuffer, scene.instanceBuffer);
  scene.capacity = capacity;
}

/** Frees the buffers; the device itself is destroyed by its owner. */
export function destroyScene(scene: GpuScene): void {
  scene.viewBuffer.destroy();
  scene.instanceBuffer.destroy();
}

function createInstanceBuffer(device: GPUDevice, capacity: number): GPUBuffer {
  return device.createBuffer({
    label: 'instances',
    size: capacity * INSTANCE_BYTES,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
}

function createBindGroup(device: GPUDevice, pipeline: GPURenderPipeline, view: GPUBuffer, instances: GPUBuffer): GPUBindGroup {
  return device.createBindGroup({
    label: 'shapes',
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: view } },
      { binding: 1, resource: { buffer: instances } },
    ],
  });
}
