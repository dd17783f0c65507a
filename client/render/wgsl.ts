// The WebGPU shader. Vertices are pulled from a storage buffer: the draw is
// non-instanced with 6 vertices per shape, and the vertex shader finds its
// shape as vertex_index / 6. SwiftShader (software Vulkan) runs instanced
// draws slowly: with 10,000 shapes, draw(6, n) reading instances[instance_index]
// took 333 ms a frame, this draw(6 * n) 67 ms (run-bench.mjs; BROWSER_TESTING.md
// saw the same ~4x against instanced vertex attributes).
// Shapes are signed distance fields on a quad, antialiased over one pixel.

import { RING_WIDTH } from './shapes';
import { Shape } from './types';

/** Floats in the uniform buffer: clip scale (2), clip offset (2), pixel size (1), padding. */
export const VIEW_UNIFORM_FLOATS = 8;

export const SHAPE_WGSL = /* wgsl */ `
struct View {
  clipScale: vec2f,
  clipOffset: vec2f,
  // One device pixel in world units: the antialiasing width and quad padding.
  pixel: f32,
};

// One shape, laid out as FLOATS_PER_INSTANCE floats (see types.ts):
// a = x, y, w, h; b = angle, rgb, shape, alpha.
struct Instance {
  a: vec4f,
  b: vec4f,
};

@group(0) @binding(0) var<uniform> view: View;
@group(0) @binding(1) var<storage, read> instances: array<Instance>;

struct Varyings {
  @builtin(position) position: vec4f,
  @location(0) local: vec2f,
  @location(1) @interpolate(flat) halfSize: vec2f,
  @location(2) @interpolate(flat) color: vec4f,
  @location(3) @interpolate(flat) shape: u32,
};

@vertex
fn vs(@builtin(vertex_index) vertexIndex: u32) -> Varyings {
  var corners = array<vec2f, 6>(
    vec2f(-1.0, -1.0), vec2f(1.0, -1.0), vec2f(-1.0, 1.0),
    vec2f(-1.0, 1.0), vec2f(1.0, -1.0), vec2f(1.0, 1.0));
  let inst = instances[vertexIndex / 6u];
  // Never zero: the distance functions divide by it.
  let halfSize = max(abs(inst.a.zw) * 0.5, vec2f(1e-4));
  // Grow the quad by a pixel so the antialiased edge is not cut off.
  let local = corners[vertexIndex % 6u] * (halfSize + vec2f(view.pixel));
  let c = cos(inst.b.x);
  let s = sin(inst.b.x);
  // Counter-clockwise on a y-down screen (see shapes.ts).
  let world = inst.a.xy + vec2f(local.x * c + local.y * s, local.y * c - local.x * s);

  let rgb = u32(inst.b.y);
  let alpha = clamp(inst.b.w, 0.0, 1.0);
  var out: Varyings;
  out.position = vec4f(world * view.clipScale + view.clipOffset, 0.0, 1.0);
  out.local = local;
  out.halfSize = halfSize;
  // Premultiplied, to match the blend state.
  out.color = vec4f(vec3f(f32((rgb >> 16u) & 255u), f32((rgb >> 8u) & 255u), f32(rgb & 255u)) * (alpha / 255.0), alpha);
  out.shape = u32(inst.b.z + 0.5);
  return out;
}

// Approximate distance to the ellipse inscribed in the box (exact for circles).
fn sdEllipse(p: vec2f, h: vec2f) -> f32 {
  let k0 = length(p / h);
  let k1 = length(p / (h * h));
  if (k1 < 1e-6) {
    return -min(h.x, h.y);
  }
  return k0 * (k0 - 1.0) / k1;
}

fn sdBox(p: vec2f, h: vec2f) -> f32 {
  let q = abs(p) - h;
  return length(max(q, vec2f(0.0))) + min(max(q.x, q.y), 0.0);
}

// The arrow triangle: the back edge, and the slanted edges folded onto y >= 0.
fn sdArrow(p: vec2f, h: vec2f) -> f32 {
  let n = normalize(vec2f(h.y, 2.0 * h.x));
  return max(-p.x - h.x, dot(vec2f(p.x - h.x, abs(p.y)), n));
}

fn sdRing(p: vec2f, h: vec2f) -> f32 {
  let halfWidth = 0.5 * ${RING_WIDTH.toFixed(6)} * min(h.x, h.y);
  return abs(sdEllipse(p, h) + halfWidth) - halfWidth;
}

@fragment
fn fs(v: Varyings) -> @location(0) vec4f {
  var d: f32;
  switch v.shape {
    case ${Shape.Rect}u: { d = sdBox(v.local, v.halfSize); }
    case ${Shape.Arrow}u: { d = sdArrow(v.local, v.halfSize); }
    case ${Shape.Ring}u: { d = sdRing(v.local, v.halfSize); }
    default: { d = sdEllipse(v.local, v.halfSize); }
  }
  let coverage = clamp(0.5 - d / view.pixel, 0.0, 1.0);
  return v.color * coverage;
}
`;
