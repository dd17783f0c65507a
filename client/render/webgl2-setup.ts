// Everything the WebGL2 renderer creates up front: program, uniform locations,
// vertex array and instance buffer. Built once, and again after the context is
// restored from a loss (all GL objects die with the context).

import { ATTR_GEOMETRY, ATTR_STYLE, SHAPE_FRAGMENT_GLSL, SHAPE_VERTEX_GLSL } from './glsl';
import { FLOATS_PER_INSTANCE } from './types';

const INSTANCE_BYTES = FLOATS_PER_INSTANCE * 4;
const INITIAL_CAPACITY = 1024;

export interface GlScene {
  readonly program: WebGLProgram;
  readonly vertexArray: WebGLVertexArrayObject;
  readonly instanceBuffer: WebGLBuffer;
  readonly clipScale: WebGLUniformLocation;
  readonly clipOffset: WebGLUniformLocation;
  readonly pixel: WebGLUniformLocation;
  /** Instances instanceBuffer holds. */
  capacity: number;
}

/** Builds the GL objects and leaves them bound; throws with the GL info log on failure. */
export function createGlScene(gl: WebGL2RenderingContext): GlScene {
  const program = linkProgram(gl, SHAPE_VERTEX_GLSL, SHAPE_FRAGMENT_GLSL);
  const vertexArray = gl.createVertexArray();
  const instanceBuffer = gl.createBuffer();
  gl.bindVertexArray(vertexArray);
  gl.bindBuffer(gl.ARRAY_BUFFER, instanceBuffer);
  gl.bufferData(gl.ARRAY_BUFFER, INITIAL_CAPACITY * INSTANCE_BYTES, gl.DYNAMIC_DRAW);
  // Each instance is two vec4s straight from the packed buffer, advanced once per shape.
  for (const [location, offset] of [[ATTR_GEOMETRY, 0], [ATTR_STYLE, 16]] as const) {
    gl.enableVertexAttribArray(location);
    gl.vertexAttribPointer(location, 4, gl.FLOAT, false, INSTANCE_BYTES, offset);
    gl.vertexAttribDivisor(location, 1);
  }
  gl.useProgram(program);
  // Premultiplied colour from the shader, blended over what is drawn already.
  gl.enable(gl.BLEND);
  gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
  gl.disable(gl.DEPTH_TEST);
  const error = gl.getError();
  if (error !== gl.NO_ERROR) throw new Error(`WebGL2: creating GL objects: error 0x${error.toString(16)}`);
  return {
    program,
    vertexArray,
    instanceBuffer,
    clipScale: uniform(gl, program, 'clipScale'),
    clipOffset: uniform(gl, program, 'clipOffset'),
    pixel: uniform(gl, program, 'pixel'),
    capacity: INITIAL_CAPACITY,
  };
}

/** Grows the (bound) instance buffer by doubling until count instances fit. */
export function ensureGlCapacity(gl: WebGL2RenderingContext, scene: GlScene, count: number): void {
  if (count <= scene.capacity) return;
  let capacity = scene.capacity;
  while (capacity < count) capacity *= 2;
  gl.bufferData(gl.ARRAY_BUFFER, capacity * INSTANCE_BYTES, gl.DYNAMIC_DRAW);
  scene.capacity = capacity;
}

export function deleteGlScene(gl: WebGL2RenderingContext, scene: GlScene): void {
  gl.deleteBuffer(scene.instanceBuffer);
  gl.deleteVertexArray(scene.vertexArray);
  gl.deleteProgram(scene.program);
}

function linkProgram(gl: WebGL2RenderingContext, vertexSource: string, fragmentSource: string): WebGLProgram {
  const program = gl.createProgram();
  const vertex = compile(gl, gl.VERTEX_SHADER, vertexSource);
  const fragment = compile(gl, gl.FRAGMENT_SHADER, fragmentSource);
  gl.attachShader(program, vertex);
  gl.attachShader(program, fragment);
  gl.linkProgram(program);
  // The program keeps what it needs; the shader objects can go.
  gl.deleteShader(vertex);
  gl.deleteShader(fragment);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS)) {
    const log = gl.getProgramInfoLog(program);
    gl.deleteProgram(program);
    throw new Error(`WebGL2: link: ${log ?? 'no log'}`);
  }
  return program;
}

function compile(gl: WebGL2RenderingContext, type: GLenum, source: string): WebGLShader {
  const shader = gl.createShader(type);
  if (!shader) throw new Error('WebGL2: createShader returned null');
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) {
    const log = gl.getShaderInfoLog(shader);
    gl.deleteShader(shader);
    const kind = type === gl.VERTEX_SHADER ? 'vertex' : 'fragment';
    throw new Error(`WebGL2: compile ${kind} shader: ${log ?? 'no log'}`);
  }
  return shader;
}

function uniform(gl: WebGL2RenderingContext, program: WebGLProgram, name: string): WebGLUniformLocation {
  const location = gl.getUniformLocation(program, name);
  if (!location) throw new Error(`WebGL2: uniform ${name} not found`);
  return location;
}
