// The WebGL2 shaders: the same quads and signed distance fields as wgsl.ts,
// fed by two per-instance vec4 attributes straight from the packed buffer.

import { RING_WIDTH } from './shapes';
import { Shape } from './types';

/** Attribute locations: the two vec4 halves of an instance (see types.ts). */
export const ATTR_GEOMETRY = 0; // x, y, w, h
export const ATTR_STYLE = 1; // angle, rgb, shape, alpha

export const SHAPE_VERTEX_GLSL = /* glsl */ `#version 300 es
layout(location = ${ATTR_GEOMETRY}) in vec4 geometry;
layout(location = ${ATTR_STYLE}) in vec4 style;

uniform vec2 clipScale;
uniform vec2 clipOffset;
// One device pixel in world units: the antialiasing width and quad padding.
uniform float pixel;

out vec2 local;
flat out vec2 halfSize;
flat out vec4 color;
flat out int shape;

const vec2 corners[6] = vec2[6](
  vec2(-1.0, -1.0), vec2(1.0, -1.0), vec2(-1.0, 1.0),
  vec2(-1.0, 1.0), vec2(1.0, -1.0), vec2(1.0, 1.0));

void main() {
  // Never zero: the distance functions divide by it.
  halfSize = max(abs(geometry.zw) * 0.5, vec2(1e-4));
  // Grow the quad by a pixel so the antialiased edge is not cut off.
  local = corners[gl_VertexID] * (halfSize + vec2(pixel));
  float c = cos(style.x);
  float s = sin(style.x);
  // Counter-clockwise on a y-down screen (see shapes.ts).
  vec2 world = geometry.xy + vec2(local.x * c + local.y * s, local.y * c - local.x * s);
  gl_Position = vec4(world * clipScale + clipOffset, 0.0, 1.0);

  int rgb = int(style.y);
  float alpha = clamp(style.w, 0.0, 1.0);
  // Premultiplied, to match the blend function.
  color = vec4(vec3(float((rgb >> 16) & 255), float((rgb >> 8) & 255), float(rgb & 255)) * (alpha / 255.0), alpha);
  shape = int(style.z + 0.5);
}
`;

export const SHAPE_FRAGMENT_GLSL = /* glsl */ `#version 300 es
precision highp float;

uniform float pixel;

in vec2 local;
flat in vec2 halfSize;
flat in vec4 color;
flat in int shape;

out vec4 fragColor;

// Approximate distance to the ellipse inscribed in the box (exact for circles).
float sdEllipse(vec2 p, vec2 h) {
  float k0 = length(p / h);
  float k1 = length(p / (h * h));
  if (k1 < 1e-6) return -min(h.x, h.y);
  return k0 * (k0 - 1.0) / k1;
}

float sdBox(vec2 p, vec2 h) {
  vec2 q = abs(p) - h;
  return length(max(q, vec2(0.0))) + min(max(q.x, q.y), 0.0);
}

// The arrow triangle: the back edge, and the slanted edges folded onto y >= 0.
float sdArrow(vec2 p, vec2 h) {
  vec2 n = normalize(vec2(h.y, 2.0 * h.x));
  return max(-p.x - h.x, dot(vec2(p.x - h.x, abs(p.y)), n));
}

float sdRing(vec2 p, vec2 h) {
  float halfWidth = 0.5 * ${RING_WIDTH.toFixed(6)} * min(h.x, h.y);
  return abs(sdEllipse(p, h) + halfWidth) - halfWidth;
}

void main() {
  float d;
  if (shape == ${Shape.Rect}) d = sdBox(local, halfSize);
  else if (shape == ${Shape.Arrow}) d = sdArrow(local, halfSize);
  else if (shape == ${Shape.Ring}) d = sdRing(local, halfSize);
  else d = sdEllipse(local, halfSize);
  float coverage = clamp(0.5 - d / pixel, 0.0, 1.0);
  fragColor = color * coverage;
}
`;
