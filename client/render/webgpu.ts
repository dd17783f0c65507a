// The WebGPU renderer. GPU objects come from webgpu-setup.ts and are made
// once; a frame writes two buffers, encodes one render pass with one draw
// call for every shape, and submits. Labels go on a 2D overlay canvas.

import { channel } from './color';
import { OverlayRenderer } from './overlay-renderer';
import { errorMessage, type Report } from './report';
import { drawableCount } from './shapes';
import { writeClipTransform } from './transform';
import { FLOATS_PER_INSTANCE, type Renderer, type View } from './types';
import { createScene, destroyScene, ensureCapacity, requestDevice, type GpuScene } from './webgpu-setup';
import { VIEW_UNIFORM_FLOATS } from './wgsl';

/** Uncaptured errors reported through onStatus before the rest only go to the console. */
const MAX_REPORTED_ERRORS = 10;
/** Device losses in a row, each within LOSS_WINDOW_MS of the last, before giving up. */
const MAX_QUICK_LOSSES = 3;
const LOSS_WINDOW_MS = 10_000;

export class WebGPURenderer extends OverlayRenderer<GpuScene> implements Renderer {
  readonly name = 'WebGPU' as const;
  // scene (in OverlayRenderer) is null while a lost device is being
  // replaced, or after that failed.
  private readonly viewData = new Float32Array(VIEW_UNIFORM_FLOATS);
  private readonly clearValue = { r: 0, g: 0, b: 0, a: 1 };
  private colorAttachment: GPURenderPassColorAttachment | null = null;
  private passDescriptor: GPURenderPassDescriptor | null = null;
  private readonly commandBuffers: GPUCommandBuffer[] = [];
  private background = -1;
  private reportedErrors = 0;
  private quickLosses = 0;
  private lastLoss = -Infinity;

  /** Rejects when WebGPU is unusable; the canvas is left untouched unless it succeeds. */
  static async create(canvas: HTMLCanvasElement, report: Report): Promise<WebGPURenderer> {
    const device = await requestDevice();
    const format = navigator.gpu.getPreferredCanvasFormat();
    let scene: GpuScene;
    try {
      scene = await createScene(device, format);
    } catch (e) {
      device.destroy();
      throw e;
    }
    // Taken last: once a canvas has a webgpu context, WebGL2 cannot have it.
    const context = canvas.getContext('webgpu');
    if (!context) {
      destroyScene(scene);
      device.destroy();
      throw new Error('WebGPU: canvas.getContext("webgpu") returned null');
    }
    return new WebGPURenderer(canvas, context, format, scene, report);
  }

  private constructor(
    canvas: HTMLCanvasElement,
    private readonly context: GPUCanvasContext,
    private readonly format: GPUTextureFormat,
    scene: GpuScene,
    report: Report,
  ) {
    super(canvas, scene, report);
    this.configure(scene.device);
    this.watch(scene.device);
    this.fitToLayout();
  }

  protected override release(): void {
    this.context.unconfigure();
    if (this.scene) {
      destroyScene(this.scene);
      this.scene.device.destroy();
      this.scene = null;
    }
  }

  /** Makes an invalid buffer, so tests can check that uncaptured errors are reported. */
  causeErrorForTesting(): void {
    this.scene?.device.createBuffer({ size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.MAP_WRITE });
  }

  /** Destroys the device as a driver reset would, so tests can check the recovery. */
  loseDeviceForTesting(): void {
    this.scene?.device.destroy();
  }

  protected override drawShapes(scene: GpuScene, view: View, data: Float32Array, count: number): void {
    const n = drawableCount(count, data, scene.maxCapacity);
    if (n < count) this.warnings.once('count', `WebGPU: asked for ${count} instances, drawing ${n} (data length or device limit)`);
    ensureCapacity(scene, n);
    const queue = scene.device.queue;
    writeClipTransform(this.transform, this.viewData, 0);
    queue.writeBuffer(scene.viewBuffer, 0, this.viewData);
    // The spec accepts views of shared buffers too; @webgpu/types 0.1.74 only
    // lists views of plain ArrayBuffers, hence the cast. Offset and size count floats.
    if (n > 0) queue.writeBuffer(scene.instanceBuffer, 0, data as Float32Array<ArrayBuffer>, 0, n * FLOATS_PER_INSTANCE);

    const encoder = scene.device.createCommandEncoder();
    const pass = encoder.beginRenderPass(this.passFor(view.background));
    if (n > 0) {
      pass.setPipeline(scene.pipeline);
      pass.setBindGroup(0, scene.bindGroup);
      pass.draw(6 * n); // six vertices per shape, pulled from the storage buffer
    }
    pass.end();
    this.commandBuffers[0] = encoder.finish();
    queue.submit(this.commandBuffers);
  }

  /** The render pass descriptor, reused across frames: only the target view changes. */
  private passFor(background: number): GPURenderPassDescriptor {
    if (background !== this.background) {
      this.background = background;
      this.clearValue.r = channel(background, 16);
      this.clearValue.g = channel(background, 8);
      this.clearValue.b = channel(background, 0);
    }
    const view = this.context.getCurrentTexture().createView();
    if (!this.colorAttachment || !this.passDescriptor) {
      this.colorAttachment = { view, clearValue: this.clearValue, loadOp: 'clear', storeOp: 'store' };
      this.passDescriptor = { colorAttachments: [this.colorAttachment] };
    }
    this.colorAttachment.view = view;
    return this.passDescriptor;
  }

  private configure(device: GPUDevice): void {
    // Opaque: every frame clears to the background, so the page never shows through.
    this.context.configure({ device, format: this.format, alphaMode: 'opaque' });
  }

  /** Reports the device's uncaptured errors and recovers from its loss. */
  private watch(device: GPUDevice): void {
    device.addEventListener('uncapturederror', (event) => {
      const message = `WebGPU error: ${event.error.message}`;
      this.reportedErrors++;
      if (this.reportedErrors <= MAX_REPORTED_ERRORS) this.report(message);
      else console.error(`render: ${message}`);
      if (this.reportedErrors === MAX_REPORTED_ERRORS) this.report('WebGPU: further errors go to the console only');
    });
    void device.lost.then((info) => this.recover(device, info));
  }

  private async recover(device: GPUDevice, info: GPUDeviceLostInfo): Promise<void> {
    if (this.destroyed || this.scene?.device !== device) return;
    destroyScene(this.scene);
    this.scene = null;
    const now = performance.now();
    this.quickLosses = now - this.lastLoss < LOSS_WINDOW_MS ? this.quickLosses + 1 : 1;
    this.lastLoss = now;
    if (this.quickLosses > MAX_QUICK_LOSSES) {
      this.report(`WebGPU device lost ${this.quickLosses} times in a row (${info.reason}: ${info.message}); giving up`);
      return;
    }
    this.report(`WebGPU device lost (${info.reason}: ${info.message}); recreating it`);
    try {
      const next = await requestDevice();
      const scene = await createScene(next, this.format);
      if (this.destroyed) {
        destroyScene(scene);
        next.destroy();
        return;
      }
      this.configure(next);
      this.watch(next);
      this.scene = scene;
      this.report('WebGPU device recreated');
    } catch (e) {
      this.report(`WebGPU could not recreate the device, giving up: ${errorMessage(e)}`);
    }
  }
}
