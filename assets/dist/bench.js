var be=Object.defineProperty;var ye=(t,e,r)=>e in t?be(t,e,{enumerable:!0,configurable:!0,writable:!0,value:r}):t[e]=r;var s=(t,e,r)=>ye(t,typeof e!="symbol"?e+"":e,r);var S=class{constructor(){s(this,"strings",new Map)}get(e){let r=this.strings.get(e);return r===void 0&&(this.strings.size>=4096&&this.strings.clear(),r="#"+(e&16777215|16777216).toString(16).slice(1),this.strings.set(e,r)),r}};function b(t,e){return(t>>e&255)/255}var ge="rgba(0, 0, 0, 0.75)",E=class{constructor(e){s(this,"colors",e);s(this,"font","");s(this,"outlineWidth",1)}resize(e,r){this.font=`600 ${Math.round(12*r)}px system-ui, sans-serif`,this.outlineWidth=3*r,e.font=this.font,e.textAlign="center",e.textBaseline="middle",e.lineJoin="round"}draw(e,r,n,o){let i=Math.min(o,n.length);if(!(i<=0)){e.setTransform(1,0,0,1,0,0),e.globalAlpha=1,e.lineWidth=this.outlineWidth,e.strokeStyle=ge;for(let a=0;a<i;a++){let c=n[a],l=c.x*r.scale+r.offsetX,p=c.y*r.scale+r.offsetY;e.strokeText(c.text,l,p),e.fillStyle=this.colors.get(c.rgb),e.fillText(c.text,l,p)}}}};function Q(t){return e=>{console.warn(`render: ${e}`),t?.(e)}}var y=class{constructor(e){s(this,"report",e);s(this,"seen",new Set)}once(e,r){this.seen.has(e)||(this.seen.add(e),this.report(r))}};function A(t){return t instanceof Error?t.message:String(t)}var G=.2;function L(t,e,r){return t>0?Math.max(0,Math.min(Math.floor(t),Math.floor(e.length/8),r)):0}function P(){return{scale:1,offsetX:0,offsetY:0,pixelWidth:1,pixelHeight:1}}function T(t,e,r,n){let o=t.worldWidth>0?t.worldWidth:1,i=t.worldHeight>0?t.worldHeight:1,a=Math.min(e/o,r/i);n.scale=a,n.offsetX=(e-o*a)/2,n.offsetY=(r-i*a)/2,n.pixelWidth=e,n.pixelHeight=r}function N(t,e,r){e[r]=2*t.scale/t.pixelWidth,e[r+1]=-2*t.scale/t.pixelHeight,e[r+2]=2*t.offsetX/t.pixelWidth-1,e[r+3]=1-2*t.offsetY/t.pixelHeight,e[r+4]=1/t.scale}function m(t,e){return Math.max(1,Math.round(t*e))}function C(t){let e=typeof devicePixelRatio=="number"&&devicePixelRatio>0?devicePixelRatio:1,r=t.clientWidth>0&&t.clientHeight>0;return{cssWidth:r?t.clientWidth:t.width,cssHeight:r?t.clientHeight:t.height,devicePixelRatio:r?e:1}}var $=2*Math.PI,U=class t{constructor(e,r,n){s(this,"canvas",e);s(this,"ctx",r);s(this,"name","2D");s(this,"colors",new S);s(this,"labels",new E(this.colors));s(this,"warnings");s(this,"transform",P());s(this,"devicePixelRatio",NaN);s(this,"destroyed",!1);this.warnings=new y(n);let o=C(e);this.resize(o.cssWidth,o.cssHeight,o.devicePixelRatio)}static create(e,r){let n=e.getContext("2d",{alpha:!1});if(!n)throw new Error('2D: canvas.getContext("2d") returned null');return new t(e,n,r)}frame(e,r,n,o,i){if(this.destroyed)return;let a=this.ctx,c=this.transform;T(e,this.canvas.width,this.canvas.height,c),a.setTransform(1,0,0,1,0,0),a.globalAlpha=1,a.fillStyle=this.colors.get(e.background),a.fillRect(0,0,this.canvas.width,this.canvas.height);let l=L(n,r,Number.MAX_SAFE_INTEGER);l<n&&this.warnings.once("count",`2D: asked for ${n} instances, data holds ${l}`);let p=-1,v=1;for(let g=0,h=0;g<l;g++,h+=8){let d=Math.min(1,r[h+7]);if(!(d>0))continue;let M=r[h+5];M!==p&&(a.fillStyle=this.colors.get(p=M)),d!==v&&(a.globalAlpha=v=d);let R=c.scale,w=Math.cos(r[h+4])*R,u=Math.sin(r[h+4])*R;a.setTransform(w,-u,u,w,r[h]*R+c.offsetX,r[h+1]*R+c.offsetY),we(a,r[h+6],Math.abs(r[h+2])/2,Math.abs(r[h+3])/2)}this.labels.draw(a,c,o,i)}resize(e,r,n){if(this.destroyed)return;let o=m(e,n),i=m(r,n);this.canvas.width===o&&this.canvas.height===i&&n===this.devicePixelRatio||(this.canvas.width=o,this.canvas.height=i,this.devicePixelRatio=n,this.labels.resize(this.ctx,n))}destroy(){this.destroyed=!0}};function we(t,e,r,n){switch(Math.round(e)){case 1:t.fillRect(-r,-n,2*r,2*n);return;case 2:t.beginPath(),t.moveTo(r,0),t.lineTo(-r,-n),t.lineTo(-r,n),t.closePath(),t.fill();return;case 3:{let o=G*Math.min(r,n);t.beginPath(),t.ellipse(0,0,r,n,0,0,$),t.moveTo(Math.max(0,r-o),0),t.ellipse(0,0,Math.max(0,r-o),Math.max(0,n-o),0,0,$),t.fill("evenodd");return}default:t.beginPath(),t.ellipse(0,0,r,n,0,0,$),t.fill()}}var _=class{constructor(e){s(this,"under",e);s(this,"canvas");s(this,"ctx");s(this,"painter",new E(new S));s(this,"dirty",!1);s(this,"left",NaN);s(this,"top",NaN);s(this,"cssWidth",NaN);s(this,"cssHeight",NaN);s(this,"devicePixelRatio",NaN);s(this,"destroyed",!1);let r=e.ownerDocument.createElement("canvas"),n=r.getContext("2d");if(!n)throw new Error("labels: no 2D context for the overlay canvas");r.className="tickroom-label-overlay",r.setAttribute("aria-hidden","true"),r.style.position="absolute",r.style.pointerEvents="none",this.canvas=r,this.ctx=n,this.attach()}resize(e,r,n,o,i){let a=this.canvas;a.width===e&&a.height===r&&n===this.cssWidth&&o===this.cssHeight&&i===this.devicePixelRatio||(this.cssWidth=n,this.cssHeight=o,this.devicePixelRatio=i,a.width=e,a.height=r,a.style.width=`${n}px`,a.style.height=`${o}px`,this.place(),this.painter.resize(this.ctx,i),this.dirty=!1)}draw(e,r,n){this.place(),this.dirty&&this.ctx.clearRect(0,0,this.canvas.width,this.canvas.height),this.dirty=n>0,this.painter.draw(this.ctx,e,r,n)}attach(){this.destroyed||this.canvas.previousSibling===this.under||!this.under.parentNode||this.under.insertAdjacentElement("afterend",this.canvas)}destroy(){this.destroyed=!0,this.canvas.remove()}place(){this.attach();let e=this.under,r=e.offsetLeft+e.clientLeft,n=e.offsetTop+e.clientTop;r===this.left&&n===this.top||(this.left=r,this.top=n,this.canvas.style.left=`${r}px`,this.canvas.style.top=`${n}px`)}};var k=0,q=1,ee=`#version 300 es
layout(location = ${k}) in vec4 geometry;
layout(location = ${q}) in vec4 style;

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
`,te=`#version 300 es
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
  float halfWidth = 0.5 * ${G.toFixed(6)} * min(h.x, h.y);
  return abs(sdEllipse(p, h) + halfWidth) - halfWidth;
}

void main() {
  float d;
  if (shape == 1) d = sdBox(local, halfSize);
  else if (shape == 2) d = sdArrow(local, halfSize);
  else if (shape == 3) d = sdRing(local, halfSize);
  else d = sdEllipse(local, halfSize);
  float coverage = clamp(0.5 - d / pixel, 0.0, 1.0);
  fragColor = color * coverage;
}
`;var X=32,re=1024;function j(t){let e=xe(t,ee,te),r=t.createVertexArray(),n=t.createBuffer();t.bindVertexArray(r),t.bindBuffer(t.ARRAY_BUFFER,n),t.bufferData(t.ARRAY_BUFFER,re*X,t.DYNAMIC_DRAW);for(let[i,a]of[[k,0],[q,16]])t.enableVertexAttribArray(i),t.vertexAttribPointer(i,4,t.FLOAT,!1,X,a),t.vertexAttribDivisor(i,1);t.useProgram(e),t.enable(t.BLEND),t.blendFunc(t.ONE,t.ONE_MINUS_SRC_ALPHA),t.disable(t.DEPTH_TEST);let o=t.getError();if(o!==t.NO_ERROR)throw new Error(`WebGL2: creating GL objects: error 0x${o.toString(16)}`);return{program:e,vertexArray:r,instanceBuffer:n,clipScale:Y(t,e,"clipScale"),clipOffset:Y(t,e,"clipOffset"),pixel:Y(t,e,"pixel"),capacity:re}}function ie(t,e,r){if(r<=e.capacity)return;let n=e.capacity;for(;n<r;)n*=2;t.bufferData(t.ARRAY_BUFFER,n*X,t.DYNAMIC_DRAW),e.capacity=n}function oe(t,e){t.deleteBuffer(e.instanceBuffer),t.deleteVertexArray(e.vertexArray),t.deleteProgram(e.program)}function xe(t,e,r){let n=t.createProgram(),o=ne(t,t.VERTEX_SHADER,e),i=ne(t,t.FRAGMENT_SHADER,r);if(t.attachShader(n,o),t.attachShader(n,i),t.linkProgram(n),t.deleteShader(o),t.deleteShader(i),!t.getProgramParameter(n,t.LINK_STATUS)){let a=t.getProgramInfoLog(n);throw t.deleteProgram(n),new Error(`WebGL2: link: ${a??"no log"}`)}return n}function ne(t,e,r){let n=t.createShader(e);if(!n)throw new Error("WebGL2: createShader returned null");if(t.shaderSource(n,r),t.compileShader(n),!t.getShaderParameter(n,t.COMPILE_STATUS)){let o=t.getShaderInfoLog(n);t.deleteShader(n);let i=e===t.VERTEX_SHADER?"vertex":"fragment";throw new Error(`WebGL2: compile ${i} shader: ${o??"no log"}`)}return n}function Y(t,e,r){let n=t.getUniformLocation(e,r);if(!n)throw new Error(`WebGL2: uniform ${r} not found`);return n}var Re=120,B=class t{constructor(e,r,n,o){s(this,"canvas",e);s(this,"gl",r);s(this,"report",o);s(this,"name","WebGL2");s(this,"scene");s(this,"overlay");s(this,"warnings");s(this,"transform",P());s(this,"clip",new Float32Array(5));s(this,"framesSinceErrorCheck",0);s(this,"destroyed",!1);s(this,"onLost",e=>{e.preventDefault(),this.scene=null,this.report("WebGL2 context lost; waiting for the browser to restore it")});s(this,"onRestored",()=>{try{this.scene=j(this.gl),this.report("WebGL2 context restored")}catch(e){this.report(`WebGL2 could not rebuild after a context restore, giving up: ${A(e)}`)}});this.scene=n,this.warnings=new y(o),e.addEventListener("webglcontextlost",this.onLost),e.addEventListener("webglcontextrestored",this.onRestored),this.overlay=new _(e);let i=C(e);this.resize(i.cssWidth,i.cssHeight,i.devicePixelRatio)}static create(e,r){let n=e.getContext("webgl2",{alpha:!1,antialias:!1,depth:!1,stencil:!1});if(!n)throw new Error('WebGL2: canvas.getContext("webgl2") returned null');return new t(e,n,j(n),r)}frame(e,r,n,o,i){this.destroyed||(T(e,this.canvas.width,this.canvas.height,this.transform),this.scene&&this.drawShapes(this.scene,e,r,n),this.overlay.draw(this.transform,o,i))}resize(e,r,n){if(this.destroyed)return;let o=m(e,n),i=m(r,n);this.canvas.width!==o&&(this.canvas.width=o),this.canvas.height!==i&&(this.canvas.height=i),this.overlay.resize(o,i,e,r,n)}destroy(){this.destroyed||(this.destroyed=!0,this.canvas.removeEventListener("webglcontextlost",this.onLost),this.canvas.removeEventListener("webglcontextrestored",this.onRestored),this.overlay.destroy(),this.scene&&oe(this.gl,this.scene),this.scene=null,this.gl.getExtension("WEBGL_lose_context")?.loseContext())}loseContextForTesting(e){let r=this.gl.getExtension("WEBGL_lose_context");if(!r)throw new Error("WebGL2: WEBGL_lose_context is not available");r.loseContext(),setTimeout(()=>r.restoreContext(),e)}drawShapes(e,r,n,o){let i=this.gl,a=L(o,n,Number.MAX_SAFE_INTEGER);a<o&&this.warnings.once("count",`WebGL2: asked for ${o} instances, data holds ${a}`),i.viewport(0,0,this.canvas.width,this.canvas.height);let c=r.background;i.clearColor(b(c,16),b(c,8),b(c,0),1),i.clear(i.COLOR_BUFFER_BIT),a>0&&(ie(i,e,a),i.bufferSubData(i.ARRAY_BUFFER,0,n,0,a*8),N(this.transform,this.clip,0),i.uniform2f(e.clipScale,this.clip[0],this.clip[1]),i.uniform2f(e.clipOffset,this.clip[2],this.clip[3]),i.uniform1f(e.pixel,this.clip[4]),i.drawArraysInstanced(i.TRIANGLES,0,6,a)),++this.framesSinceErrorCheck>=Re&&this.checkErrors()}checkErrors(){this.framesSinceErrorCheck=0;let e=this.gl.getError();e!==this.gl.NO_ERROR&&e!==this.gl.CONTEXT_LOST_WEBGL&&this.warnings.once(`gl${e}`,`WebGL2 error 0x${e.toString(16)} while drawing`)}};var F=8,ae=`
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
  let halfWidth = 0.5 * ${G.toFixed(6)} * min(h.x, h.y);
  return abs(sdEllipse(p, h) + halfWidth) - halfWidth;
}

@fragment
fn fs(v: Varyings) -> @location(0) vec4f {
  var d: f32;
  switch v.shape {
    case 1u: { d = sdBox(v.local, v.halfSize); }
    case 2u: { d = sdArrow(v.local, v.halfSize); }
    case 3u: { d = sdRing(v.local, v.halfSize); }
    default: { d = sdEllipse(v.local, v.halfSize); }
  }
  let coverage = clamp(0.5 - d / view.pixel, 0.0, 1.0);
  return v.color * coverage;
}
`;var se=32,Se=1024;async function K(){let t=typeof navigator<"u"?navigator.gpu:void 0;if(!t)throw new Error("WebGPU: navigator.gpu is missing (unsupported browser, or not a secure context)");let e=await t.requestAdapter()??await t.requestAdapter({forceFallbackAdapter:!0});if(!e)throw new Error("WebGPU: requestAdapter found no adapter, not even a fallback one");return e.requestDevice({label:"tickroom render"})}async function J(t,e){t.pushErrorScope("validation");let r=t.createShaderModule({label:"shapes",code:ae}),o=(await r.getCompilationInfo()).messages.filter(d=>d.type==="error");if(o.length>0)throw await t.popErrorScope(),new Error(`WebGPU: shader: ${o.map(d=>`${d.lineNum}:${d.linePos} ${d.message}`).join("; ")}`);let i={color:{srcFactor:"one",dstFactor:"one-minus-src-alpha"},alpha:{srcFactor:"one",dstFactor:"one-minus-src-alpha"}},a=await t.createRenderPipelineAsync({label:"shapes",layout:"auto",vertex:{module:r,entryPoint:"vs"},fragment:{module:r,entryPoint:"fs",targets:[{format:e,blend:i}]},primitive:{topology:"triangle-list"}}),c=t.createBuffer({label:"view",size:F*4,usage:GPUBufferUsage.UNIFORM|GPUBufferUsage.COPY_DST}),l=Math.floor(t.limits.maxStorageBufferBindingSize/se),p=Math.min(Se,l),v=le(t,p),g={device:t,pipeline:a,viewBuffer:c,instanceBuffer:v,bindGroup:fe(t,a,c,v),capacity:p,maxCapacity:l},h=await t.popErrorScope();if(h)throw new Error(`WebGPU: creating GPU objects: ${h.message}`);return g}function ce(t,e){if(e<=t.capacity)return;let r=t.capacity;for(;r<e;)r*=2;r=Math.min(r,t.maxCapacity),t.instanceBuffer.destroy(),t.instanceBuffer=le(t.device,r),t.bindGroup=fe(t.device,t.pipeline,t.viewBuffer,t.instanceBuffer),t.capacity=r}function W(t){t.viewBuffer.destroy(),t.instanceBuffer.destroy()}function le(t,e){return t.createBuffer({label:"instances",size:e*se,usage:GPUBufferUsage.STORAGE|GPUBufferUsage.COPY_DST})}function fe(t,e,r,n){return t.createBindGroup({label:"shapes",layout:e.getBindGroupLayout(0),entries:[{binding:0,resource:{buffer:r}},{binding:1,resource:{buffer:n}}]})}var he=10,Ee=3,Ae=1e4,O=class t{constructor(e,r,n,o,i){s(this,"canvas",e);s(this,"context",r);s(this,"format",n);s(this,"report",i);s(this,"name","WebGPU");s(this,"scene");s(this,"overlay");s(this,"warnings");s(this,"transform",P());s(this,"viewData",new Float32Array(F));s(this,"clearValue",{r:0,g:0,b:0,a:1});s(this,"colorAttachment",null);s(this,"passDescriptor",null);s(this,"commandBuffers",[]);s(this,"background",-1);s(this,"reportedErrors",0);s(this,"quickLosses",0);s(this,"lastLoss",-1/0);s(this,"destroyed",!1);this.scene=o,this.warnings=new y(i),this.configure(o.device),this.watch(o.device),this.overlay=new _(e);let a=C(e);this.resize(a.cssWidth,a.cssHeight,a.devicePixelRatio)}static async create(e,r){let n=await K(),o=navigator.gpu.getPreferredCanvasFormat(),i;try{i=await J(n,o)}catch(c){throw n.destroy(),c}let a=e.getContext("webgpu");if(!a)throw W(i),n.destroy(),new Error('WebGPU: canvas.getContext("webgpu") returned null');return new t(e,a,o,i,r)}frame(e,r,n,o,i){this.destroyed||(T(e,this.canvas.width,this.canvas.height,this.transform),this.scene&&this.drawShapes(this.scene,e,r,n),this.overlay.draw(this.transform,o,i))}resize(e,r,n){if(this.destroyed)return;let o=m(e,n),i=m(r,n);this.canvas.width!==o&&(this.canvas.width=o),this.canvas.height!==i&&(this.canvas.height=i),this.overlay.resize(o,i,e,r,n)}destroy(){this.destroyed||(this.destroyed=!0,this.overlay.destroy(),this.context.unconfigure(),this.scene&&(W(this.scene),this.scene.device.destroy(),this.scene=null))}causeErrorForTesting(){this.scene?.device.createBuffer({size:4,usage:GPUBufferUsage.MAP_READ|GPUBufferUsage.MAP_WRITE})}loseDeviceForTesting(){this.scene?.device.destroy()}drawShapes(e,r,n,o){let i=L(o,n,e.maxCapacity);i<o&&this.warnings.once("count",`WebGPU: asked for ${o} instances, drawing ${i} (data length or device limit)`),ce(e,i);let a=e.device.queue;N(this.transform,this.viewData,0),a.writeBuffer(e.viewBuffer,0,this.viewData),i>0&&a.writeBuffer(e.instanceBuffer,0,n,0,i*8);let c=e.device.createCommandEncoder(),l=c.beginRenderPass(this.passFor(r.background));i>0&&(l.setPipeline(e.pipeline),l.setBindGroup(0,e.bindGroup),l.draw(6*i)),l.end(),this.commandBuffers[0]=c.finish(),a.submit(this.commandBuffers)}passFor(e){e!==this.background&&(this.background=e,this.clearValue.r=b(e,16),this.clearValue.g=b(e,8),this.clearValue.b=b(e,0));let r=this.context.getCurrentTexture().createView();return(!this.colorAttachment||!this.passDescriptor)&&(this.colorAttachment={view:r,clearValue:this.clearValue,loadOp:"clear",storeOp:"store"},this.passDescriptor={colorAttachments:[this.colorAttachment]}),this.colorAttachment.view=r,this.passDescriptor}configure(e){this.context.configure({device:e,format:this.format,alphaMode:"opaque"})}watch(e){e.addEventListener("uncapturederror",r=>{let n=`WebGPU error: ${r.error.message}`;this.reportedErrors++,this.reportedErrors<=he?this.report(n):console.error(`render: ${n}`),this.reportedErrors===he&&this.report("WebGPU: further errors go to the console only")}),e.lost.then(r=>this.recover(e,r))}async recover(e,r){if(this.destroyed||this.scene?.device!==e)return;W(this.scene),this.scene=null;let n=performance.now();if(this.quickLosses=n-this.lastLoss<Ae?this.quickLosses+1:1,this.lastLoss=n,this.quickLosses>Ee){this.report(`WebGPU device lost ${this.quickLosses} times in a row (${r.reason}: ${r.message}); giving up`);return}this.report(`WebGPU device lost (${r.reason}: ${r.message}); recreating it`);try{let o=await K(),i=await J(o,this.format);if(this.destroyed){W(i),o.destroy();return}this.configure(o),this.watch(o),this.scene=i,this.report("WebGPU device recreated")}catch(o){this.report(`WebGPU could not recreate the device, giving up: ${A(o)}`)}}};var Ge=["WebGPU","WebGL2","2D"];async function de(t,e={}){let r=Q(e.onStatus),n=e.prefer&&e.prefer.length>0?e.prefer:Ge,o=[];for(let i of n)try{return await Le(i,t,r)}catch(a){let c=A(a);o.push(`${i}: ${c}`),console.warn(`render: ${i} unavailable: ${c}`)}throw new Error(`render: no renderer works here (${o.join("; ")})`)}function Le(t,e,r){switch(t){case"WebGPU":return O.create(e,r);case"WebGL2":return B.create(e,r);case"2D":return U.create(e,r)}}var pe=800,ue=600,x={worldWidth:1600,worldHeight:1200,background:1054752},me=[15079755,3978315,16769305,4416472,16089649,9510580,4649200,15741670];function V(t,e,r){let n=Number.parseInt(t.get(e)??"",10);return Number.isFinite(n)&&n>=0?n:r}function Pe(t){let e=t>>>0;return()=>{e=e+1831565813>>>0;let r=e;return r=Math.imul(r^r>>>15,r|1),r^=r+Math.imul(r^r>>>7,r|61),((r^r>>>14)>>>0)/4294967296}}function Te(t){let e=Pe(42),r=new Float32Array(t*8),n=new Float32Array(t*3);for(let o=0;o<t;o++){let i=o*8,a=8+e()*24;r[i]=e()*x.worldWidth,r[i+1]=e()*x.worldHeight,r[i+2]=a,r[i+3]=a*(.6+e()*.4),r[i+4]=e()*Math.PI*2,r[i+5]=me[o%me.length],r[i+6]=o%4,r[i+7]=.6+e()*.4,n[o*3]=(e()-.5)*8,n[o*3+1]=(e()-.5)*8,n[o*3+2]=(e()-.5)*.1}return{data:r,velocity:n}}function Ce(t,e,r){for(let n=0;n<r;n++){let o=n*8,i=n*3,a=t[o]+e[i],c=t[o+1]+e[i+1];(a<0||a>x.worldWidth)&&(e[i]=-e[i]),(c<0||c>x.worldHeight)&&(e[i+1]=-e[i+1]),a=Math.min(Math.max(a,0),x.worldWidth),c=Math.min(Math.max(c,0),x.worldHeight),t[o]=a,t[o+1]=c,t[o+4]+=e[i+2]}}function I(t,e){return t[Math.min(t.length-1,Math.floor(e*t.length))]}function _e(t,e,r,n,o){let{data:i,velocity:a}=Te(e),c=new Float64Array(o),l=new Float64Array(o);return new Promise(p=>{let v=0,g=0,h=d=>{Ce(i,a,e);for(let u=0;u<r.length;u++)r[u].x=i[u*8],r[u].y=i[u*8+1]-20;let M=performance.now();t.frame(x,i,e,r,r.length);let R=performance.now()-M,w=v-n;w>=0&&(l[w]=R,c[w]=d-g),g=d,v++,w+1>=o?p({intervals:c,cpu:l}):requestAnimationFrame(h)};requestAnimationFrame(h)})}async function We(t,e){let r=document.getElementById("bench");if(!(r instanceof HTMLCanvasElement))throw new Error('bench: no <canvas id="bench">');r.style.width=`${pe}px`,r.style.height=`${ue}px`;let n=e.get("renderer"),o=await de(r,{prefer:n?[n]:void 0,onStatus:l=>t.status.push(l)});o.resize(pe,ue,devicePixelRatio),t.renderer=o.name,t.canvasWidth=r.width,t.canvasHeight=r.height;let i=[];for(let l=0;l<Math.min(t.labels,t.n);l++)i.push({x:0,y:0,text:`player ${l}`,rgb:16777215});let{intervals:a,cpu:c}=await _e(o,t.n,i,Math.max(1,V(e,"warmup",20)),t.frames);a.sort(),c.sort(),t.frameMedianMs=D(I(a,.5)),t.frameP95Ms=D(I(a,.95)),t.cpuMedianMs=D(I(c,.5)),t.cpuP95Ms=D(I(c,.95)),o.destroy()}function D(t){return Math.round(t*100)/100}var z=new URLSearchParams(location.search),H={n:V(z,"n",1e3),labels:V(z,"labels",0),frames:Math.max(1,V(z,"frames",120)),status:[]},ve=()=>{window.benchResult=H;let t=document.getElementById("result");t&&(t.textContent=JSON.stringify(H,null,2))};We(H,z).then(ve,t=>{H.error=t instanceof Error?t.message:String(t),ve()});
