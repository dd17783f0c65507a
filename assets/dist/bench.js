var ge=Object.defineProperty;var xe=(e,r,t)=>r in e?ge(e,r,{enumerable:!0,configurable:!0,writable:!0,value:t}):e[r]=t;var s=(e,r,t)=>xe(e,typeof r!="symbol"?r+"":r,t);var w=class{constructor(){s(this,"strings",new Map)}get(r){let t=this.strings.get(r);return t===void 0&&(this.strings.size>=4096&&this.strings.clear(),t="#"+(r&16777215|16777216).toString(16).slice(1),this.strings.set(r,t)),t}};function b(e,r){return(e>>r&255)/255}var we="rgba(0, 0, 0, 0.75)",R=class{constructor(r){s(this,"colors",r);s(this,"font","");s(this,"outlineWidth",1)}resize(r,t){this.font=`600 ${Math.round(12*t)}px system-ui, sans-serif`,this.outlineWidth=3*t,r.font=this.font,r.textAlign="center",r.textBaseline="middle",r.lineJoin="round"}draw(r,t,n,o){let i=Math.min(o,n.length);if(!(i<=0)){r.setTransform(1,0,0,1,0,0),r.globalAlpha=1,r.lineWidth=this.outlineWidth,r.strokeStyle=we;for(let a=0;a<i;a++){let c=n[a],l=c.x*t.scale+t.offsetX,f=c.y*t.scale+t.offsetY;r.strokeText(c.text,l,f),r.fillStyle=this.colors.get(c.rgb),r.fillText(c.text,l,f)}}}};function Z(e){return r=>{console.warn(`render: ${r}`),e?.(r)}}var S=class{constructor(r){s(this,"report",r);s(this,"seen",new Set)}once(r,t){this.seen.has(r)||(this.seen.add(r),this.report(t))}};function E(e){return e instanceof Error?e.message:String(e)}var A=.2;function G(e,r,t){return e>0?Math.max(0,Math.min(Math.floor(e),Math.floor(r.length/8),t)):0}function W(){return{scale:1,offsetX:0,offsetY:0,pixelWidth:1,pixelHeight:1}}function _(e,r,t,n){let o=e.worldWidth>0?e.worldWidth:1,i=e.worldHeight>0?e.worldHeight:1,a=Math.min(r/o,t/i),c=e.cameraX??NaN,l=e.cameraY??NaN,f=c-c===0&&l-l===0;if(f){let u=e.spanWidth!==void 0&&e.spanWidth>0?e.spanWidth:o,m=e.spanHeight!==void 0&&e.spanHeight>0?e.spanHeight:i;a=Math.max(a,Math.min(r/u,t/m))}n.scale=a,n.offsetX=f?ee(r,o,a,c):(r-o*a)/2,n.offsetY=f?ee(t,i,a,l):(t-i*a)/2,n.pixelWidth=r,n.pixelHeight=t}function ee(e,r,t,n){let o=e/t;if(o>=r)return(e-r*t)/2;let i=Math.min(r-o/2,Math.max(o/2,n));return e/2-i*t}function M(e,r,t){r[t]=2*e.scale/e.pixelWidth,r[t+1]=-2*e.scale/e.pixelHeight,r[t+2]=2*e.offsetX/e.pixelWidth-1,r[t+3]=1-2*e.offsetY/e.pixelHeight,r[t+4]=1/e.scale}function L(e,r){return Math.max(1,Math.round(e*r))}function N(e){let r=typeof devicePixelRatio=="number"&&devicePixelRatio>0?devicePixelRatio:1,t=e.clientWidth>0&&e.clientHeight>0;return{cssWidth:t?e.clientWidth:e.width,cssHeight:t?e.clientHeight:e.height,devicePixelRatio:t?r:1}}var z=2*Math.PI,U=class e{constructor(r,t,n){s(this,"canvas",r);s(this,"ctx",t);s(this,"name","2D");s(this,"colors",new w);s(this,"labels",new R(this.colors));s(this,"warnings");s(this,"transform",W());s(this,"devicePixelRatio",NaN);s(this,"destroyed",!1);this.warnings=new S(n);let o=N(r);this.resize(o.cssWidth,o.cssHeight,o.devicePixelRatio)}static create(r,t){let n=r.getContext("2d",{alpha:!1});if(!n)throw new Error('2D: canvas.getContext("2d") returned null');return new e(r,n,t)}frame(r,t,n,o,i){if(this.destroyed)return;let a=this.ctx,c=this.transform;_(r,this.canvas.width,this.canvas.height,c),a.setTransform(1,0,0,1,0,0),a.globalAlpha=1,a.fillStyle=this.colors.get(r.background),a.fillRect(0,0,this.canvas.width,this.canvas.height);let l=G(n,t,Number.MAX_SAFE_INTEGER);l<n&&this.warnings.once("count",`2D: asked for ${n} instances, data holds ${l}`);let f=-1,u=1;for(let m=0,h=0;m<l;m++,h+=8){let p=Math.min(1,t[h+7]);if(!(p>0))continue;let C=t[h+5];C!==f&&(a.fillStyle=this.colors.get(f=C)),p!==u&&(a.globalAlpha=u=p);let x=c.scale,y=Math.cos(t[h+4])*x,v=Math.sin(t[h+4])*x;a.setTransform(y,-v,v,y,t[h]*x+c.offsetX,t[h+1]*x+c.offsetY),Re(a,t[h+6],Math.abs(t[h+2])/2,Math.abs(t[h+3])/2)}this.labels.draw(a,c,o,i)}resize(r,t,n){if(this.destroyed)return;let o=L(r,n),i=L(t,n);this.canvas.width===o&&this.canvas.height===i&&n===this.devicePixelRatio||(this.canvas.width=o,this.canvas.height=i,this.devicePixelRatio=n,this.labels.resize(this.ctx,n))}destroy(){this.destroyed=!0}};function Re(e,r,t,n){switch(Math.round(r)){case 1:e.fillRect(-t,-n,2*t,2*n);return;case 2:e.beginPath(),e.moveTo(t,0),e.lineTo(-t,-n),e.lineTo(-t,n),e.closePath(),e.fill();return;case 3:{let o=A*Math.min(t,n);e.beginPath(),e.ellipse(0,0,t,n,0,0,z),e.moveTo(Math.max(0,t-o),0),e.ellipse(0,0,Math.max(0,t-o),Math.max(0,n-o),0,0,z),e.fill("evenodd");return}default:e.beginPath(),e.ellipse(0,0,t,n,0,0,z),e.fill()}}var B=class{constructor(r){s(this,"under",r);s(this,"canvas");s(this,"ctx");s(this,"painter",new R(new w));s(this,"dirty",!1);s(this,"left",NaN);s(this,"top",NaN);s(this,"cssWidth",NaN);s(this,"cssHeight",NaN);s(this,"devicePixelRatio",NaN);s(this,"destroyed",!1);let t=r.ownerDocument.createElement("canvas"),n=t.getContext("2d");if(!n)throw new Error("labels: no 2D context for the overlay canvas");t.className="tickroom-label-overlay",t.setAttribute("aria-hidden","true"),t.style.position="absolute",t.style.pointerEvents="none",this.canvas=t,this.ctx=n,this.attach()}resize(r,t,n,o,i){let a=this.canvas;a.width===r&&a.height===t&&n===this.cssWidth&&o===this.cssHeight&&i===this.devicePixelRatio||(this.cssWidth=n,this.cssHeight=o,this.devicePixelRatio=i,a.width=r,a.height=t,a.style.width=`${n}px`,a.style.height=`${o}px`,this.place(),this.painter.resize(this.ctx,i),this.dirty=!1)}draw(r,t,n){this.place(),this.dirty&&this.ctx.clearRect(0,0,this.canvas.width,this.canvas.height),this.dirty=n>0,this.painter.draw(this.ctx,r,t,n)}attach(){this.destroyed||this.canvas.previousSibling===this.under||!this.under.parentNode||this.under.insertAdjacentElement("afterend",this.canvas)}destroy(){this.destroyed=!0,this.canvas.remove()}place(){this.attach();let r=this.under,t=r.offsetLeft+r.clientLeft,n=r.offsetTop+r.clientTop;t===this.left&&n===this.top||(this.left=t,this.top=n,this.canvas.style.left=`${t}px`,this.canvas.style.top=`${n}px`)}};var P=class{constructor(r,t,n){s(this,"canvas",r);s(this,"report",n);s(this,"scene");s(this,"overlay");s(this,"warnings");s(this,"transform",W());s(this,"destroyed",!1);this.scene=t,this.warnings=new S(n),this.overlay=new B(r)}fitToLayout(){let r=N(this.canvas);this.resize(r.cssWidth,r.cssHeight,r.devicePixelRatio)}frame(r,t,n,o,i){this.destroyed||(_(r,this.canvas.width,this.canvas.height,this.transform),this.scene&&this.drawShapes(this.scene,r,t,n),this.overlay.draw(this.transform,o,i))}resize(r,t,n){if(this.destroyed)return;let o=L(r,n),i=L(t,n);this.canvas.width!==o&&(this.canvas.width=o),this.canvas.height!==i&&(this.canvas.height=i),this.overlay.resize(o,i,r,t,n)}destroy(){this.destroyed||(this.destroyed=!0,this.overlay.destroy(),this.release())}};var q=0,Y=1,re=`#version 300 es
layout(location = ${q}) in vec4 geometry;
layout(location = ${Y}) in vec4 style;

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
`,ne=`#version 300 es
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
  float halfWidth = 0.5 * ${A.toFixed(6)} * min(h.x, h.y);
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
`;var j=32,oe=1024;function K(e){let r=Se(e,re,ne),t=e.createVertexArray(),n=e.createBuffer();e.bindVertexArray(t),e.bindBuffer(e.ARRAY_BUFFER,n),e.bufferData(e.ARRAY_BUFFER,oe*j,e.DYNAMIC_DRAW);for(let[i,a]of[[q,0],[Y,16]])e.enableVertexAttribArray(i),e.vertexAttribPointer(i,4,e.FLOAT,!1,j,a),e.vertexAttribDivisor(i,1);e.useProgram(r),e.enable(e.BLEND),e.blendFunc(e.ONE,e.ONE_MINUS_SRC_ALPHA),e.disable(e.DEPTH_TEST);let o=e.getError();if(o!==e.NO_ERROR)throw new Error(`WebGL2: creating GL objects: error 0x${o.toString(16)}`);return{program:r,vertexArray:t,instanceBuffer:n,clipScale:X(e,r,"clipScale"),clipOffset:X(e,r,"clipOffset"),pixel:X(e,r,"pixel"),capacity:oe}}function ae(e,r,t){if(t<=r.capacity)return;let n=r.capacity;for(;n<t;)n*=2;e.bufferData(e.ARRAY_BUFFER,n*j,e.DYNAMIC_DRAW),r.capacity=n}function se(e,r){e.deleteBuffer(r.instanceBuffer),e.deleteVertexArray(r.vertexArray),e.deleteProgram(r.program)}function Se(e,r,t){let n=e.createProgram(),o=ie(e,e.VERTEX_SHADER,r),i=ie(e,e.FRAGMENT_SHADER,t);if(e.attachShader(n,o),e.attachShader(n,i),e.linkProgram(n),e.deleteShader(o),e.deleteShader(i),!e.getProgramParameter(n,e.LINK_STATUS)){let a=e.getProgramInfoLog(n);throw e.deleteProgram(n),new Error(`WebGL2: link: ${a??"no log"}`)}return n}function ie(e,r,t){let n=e.createShader(r);if(!n)throw new Error("WebGL2: createShader returned null");if(e.shaderSource(n,t),e.compileShader(n),!e.getShaderParameter(n,e.COMPILE_STATUS)){let o=e.getShaderInfoLog(n);e.deleteShader(n);let i=r===e.VERTEX_SHADER?"vertex":"fragment";throw new Error(`WebGL2: compile ${i} shader: ${o??"no log"}`)}return n}function X(e,r,t){let n=e.getUniformLocation(r,t);if(!n)throw new Error(`WebGL2: uniform ${t} not found`);return n}var Ee=120,F=class e extends P{constructor(t,n,o,i){super(t,o,i);s(this,"gl",n);s(this,"name","WebGL2");s(this,"clip",new Float32Array(5));s(this,"framesSinceErrorCheck",0);s(this,"onLost",t=>{t.preventDefault(),this.scene=null,this.report("WebGL2 context lost; waiting for the browser to restore it")});s(this,"onRestored",()=>{try{this.scene=K(this.gl),this.report("WebGL2 context restored")}catch(t){this.report(`WebGL2 could not rebuild after a context restore, giving up: ${E(t)}`)}});t.addEventListener("webglcontextlost",this.onLost),t.addEventListener("webglcontextrestored",this.onRestored),this.fitToLayout()}static create(t,n){let o=t.getContext("webgl2",{alpha:!1,antialias:!1,depth:!1,stencil:!1});if(!o)throw new Error('WebGL2: canvas.getContext("webgl2") returned null');return new e(t,o,K(o),n)}release(){this.canvas.removeEventListener("webglcontextlost",this.onLost),this.canvas.removeEventListener("webglcontextrestored",this.onRestored),this.scene&&se(this.gl,this.scene),this.scene=null,this.gl.getExtension("WEBGL_lose_context")?.loseContext()}loseContextForTesting(t){let n=this.gl.getExtension("WEBGL_lose_context");if(!n)throw new Error("WebGL2: WEBGL_lose_context is not available");n.loseContext(),setTimeout(()=>n.restoreContext(),t)}drawShapes(t,n,o,i){let a=this.gl,c=G(i,o,Number.MAX_SAFE_INTEGER);c<i&&this.warnings.once("count",`WebGL2: asked for ${i} instances, data holds ${c}`),a.viewport(0,0,this.canvas.width,this.canvas.height);let l=n.background;a.clearColor(b(l,16),b(l,8),b(l,0),1),a.clear(a.COLOR_BUFFER_BIT),c>0&&(ae(a,t,c),a.bufferSubData(a.ARRAY_BUFFER,0,o,0,c*8),M(this.transform,this.clip,0),a.uniform2f(t.clipScale,this.clip[0],this.clip[1]),a.uniform2f(t.clipOffset,this.clip[2],this.clip[3]),a.uniform1f(t.pixel,this.clip[4]),a.drawArraysInstanced(a.TRIANGLES,0,6,c)),++this.framesSinceErrorCheck>=Ee&&this.checkErrors()}checkErrors(){this.framesSinceErrorCheck=0;let t=this.gl.getError();t!==this.gl.NO_ERROR&&t!==this.gl.CONTEXT_LOST_WEBGL&&this.warnings.once(`gl${t}`,`WebGL2 error 0x${t.toString(16)} while drawing`)}};var O=8,ce=`
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
  let halfWidth = 0.5 * ${A.toFixed(6)} * min(h.x, h.y);
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
`;var le=32,Ae=1024;async function J(){let e=typeof navigator<"u"?navigator.gpu:void 0;if(!e)throw new Error("WebGPU: navigator.gpu is missing (unsupported browser, or not a secure context)");let r=await e.requestAdapter()??await e.requestAdapter({forceFallbackAdapter:!0});if(!r)throw new Error("WebGPU: requestAdapter found no adapter, not even a fallback one");return r.requestDevice({label:"tickroom render"})}async function Q(e,r){e.pushErrorScope("validation");let t=e.createShaderModule({label:"shapes",code:ce}),o=(await t.getCompilationInfo()).messages.filter(p=>p.type==="error");if(o.length>0)throw await e.popErrorScope(),new Error(`WebGPU: shader: ${o.map(p=>`${p.lineNum}:${p.linePos} ${p.message}`).join("; ")}`);let i={color:{srcFactor:"one",dstFactor:"one-minus-src-alpha"},alpha:{srcFactor:"one",dstFactor:"one-minus-src-alpha"}},a=await e.createRenderPipelineAsync({label:"shapes",layout:"auto",vertex:{module:t,entryPoint:"vs"},fragment:{module:t,entryPoint:"fs",targets:[{format:r,blend:i}]},primitive:{topology:"triangle-list"}}),c=e.createBuffer({label:"view",size:O*4,usage:GPUBufferUsage.UNIFORM|GPUBufferUsage.COPY_DST}),l=Math.floor(e.limits.maxStorageBufferBindingSize/le),f=Math.min(Ae,l),u=de(e,f),m={device:e,pipeline:a,viewBuffer:c,instanceBuffer:u,bindGroup:he(e,a,c,u),capacity:f,maxCapacity:l},h=await e.popErrorScope();if(h)throw new Error(`WebGPU: creating GPU objects: ${h.message}`);return m}function fe(e,r){if(r<=e.capacity)return;let t=e.capacity;for(;t<r;)t*=2;t=Math.min(t,e.maxCapacity),e.instanceBuffer.destroy(),e.instanceBuffer=de(e.device,t),e.bindGroup=he(e.device,e.pipeline,e.viewBuffer,e.instanceBuffer),e.capacity=t}function T(e){e.viewBuffer.destroy(),e.instanceBuffer.destroy()}function de(e,r){return e.createBuffer({label:"instances",size:r*le,usage:GPUBufferUsage.STORAGE|GPUBufferUsage.COPY_DST})}function he(e,r,t,n){return e.createBindGroup({label:"shapes",layout:r.getBindGroupLayout(0),entries:[{binding:0,resource:{buffer:t}},{binding:1,resource:{buffer:n}}]})}var pe=10,Ge=3,Le=1e4,I=class e extends P{constructor(t,n,o,i,a){super(t,i,a);s(this,"context",n);s(this,"format",o);s(this,"name","WebGPU");s(this,"viewData",new Float32Array(O));s(this,"clearValue",{r:0,g:0,b:0,a:1});s(this,"colorAttachment",null);s(this,"passDescriptor",null);s(this,"commandBuffers",[]);s(this,"background",-1);s(this,"reportedErrors",0);s(this,"quickLosses",0);s(this,"lastLoss",-1/0);this.configure(i.device),this.watch(i.device),this.fitToLayout()}static async create(t,n){let o=await J(),i=navigator.gpu.getPreferredCanvasFormat(),a;try{a=await Q(o,i)}catch(l){throw o.destroy(),l}let c=t.getContext("webgpu");if(!c)throw T(a),o.destroy(),new Error('WebGPU: canvas.getContext("webgpu") returned null');return new e(t,c,i,a,n)}release(){this.context.unconfigure(),this.scene&&(T(this.scene),this.scene.device.destroy(),this.scene=null)}causeErrorForTesting(){this.scene?.device.createBuffer({size:4,usage:GPUBufferUsage.MAP_READ|GPUBufferUsage.MAP_WRITE})}loseDeviceForTesting(){this.scene?.device.destroy()}drawShapes(t,n,o,i){let a=G(i,o,t.maxCapacity);a<i&&this.warnings.once("count",`WebGPU: asked for ${i} instances, drawing ${a} (data length or device limit)`),fe(t,a);let c=t.device.queue;M(this.transform,this.viewData,0),c.writeBuffer(t.viewBuffer,0,this.viewData),a>0&&c.writeBuffer(t.instanceBuffer,0,o,0,a*8);let l=t.device.createCommandEncoder(),f=l.beginRenderPass(this.passFor(n.background));a>0&&(f.setPipeline(t.pipeline),f.setBindGroup(0,t.bindGroup),f.draw(6*a)),f.end(),this.commandBuffers[0]=l.finish(),c.submit(this.commandBuffers)}passFor(t){t!==this.background&&(this.background=t,this.clearValue.r=b(t,16),this.clearValue.g=b(t,8),this.clearValue.b=b(t,0));let n=this.context.getCurrentTexture().createView();return(!this.colorAttachment||!this.passDescriptor)&&(this.colorAttachment={view:n,clearValue:this.clearValue,loadOp:"clear",storeOp:"store"},this.passDescriptor={colorAttachments:[this.colorAttachment]}),this.colorAttachment.view=n,this.passDescriptor}configure(t){this.context.configure({device:t,format:this.format,alphaMode:"opaque"})}watch(t){t.addEventListener("uncapturederror",n=>{let o=`WebGPU error: ${n.error.message}`;this.reportedErrors++,this.reportedErrors<=pe?this.report(o):console.error(`render: ${o}`),this.reportedErrors===pe&&this.report("WebGPU: further errors go to the console only")}),t.lost.then(n=>this.recover(t,n))}async recover(t,n){if(this.destroyed||this.scene?.device!==t)return;T(this.scene),this.scene=null;let o=performance.now();if(this.quickLosses=o-this.lastLoss<Le?this.quickLosses+1:1,this.lastLoss=o,this.quickLosses>Ge){this.report(`WebGPU device lost ${this.quickLosses} times in a row (${n.reason}: ${n.message}); giving up`);return}this.report(`WebGPU device lost (${n.reason}: ${n.message}); recreating it`);try{let i=await J(),a=await Q(i,this.format);if(this.destroyed){T(a),i.destroy();return}this.configure(i),this.watch(i),this.scene=a,this.report("WebGPU device recreated")}catch(i){this.report(`WebGPU could not recreate the device, giving up: ${E(i)}`)}}};var Pe=["WebGPU","WebGL2","2D"];async function ue(e,r={}){let t=Z(r.onStatus),n=r.prefer&&r.prefer.length>0?r.prefer:Pe,o=[];for(let i of n)try{return await Te(i,e,t)}catch(a){let c=E(a);o.push(`${i}: ${c}`),console.warn(`render: ${i} unavailable: ${c}`)}throw new Error(`render: no renderer works here (${o.join("; ")})`)}function Te(e,r,t){switch(e){case"WebGPU":return I.create(r,t);case"WebGL2":return F.create(r,t);case"2D":return U.create(r,t)}}var me=800,ve=600,g={worldWidth:1600,worldHeight:1200,background:1054752},be=[15079755,3978315,16769305,4416472,16089649,9510580,4649200,15741670];function V(e,r,t){let n=Number.parseInt(e.get(r)??"",10);return Number.isFinite(n)&&n>=0?n:t}function Ce(e){let r=e>>>0;return()=>{r=r+1831565813>>>0;let t=r;return t=Math.imul(t^t>>>15,t|1),t^=t+Math.imul(t^t>>>7,t|61),((t^t>>>14)>>>0)/4294967296}}function We(e){let r=Ce(42),t=new Float32Array(e*8),n=new Float32Array(e*3);for(let o=0;o<e;o++){let i=o*8,a=8+r()*24;t[i]=r()*g.worldWidth,t[i+1]=r()*g.worldHeight,t[i+2]=a,t[i+3]=a*(.6+r()*.4),t[i+4]=r()*Math.PI*2,t[i+5]=be[o%be.length],t[i+6]=o%4,t[i+7]=.6+r()*.4,n[o*3]=(r()-.5)*8,n[o*3+1]=(r()-.5)*8,n[o*3+2]=(r()-.5)*.1}return{data:t,velocity:n}}function _e(e,r,t){for(let n=0;n<t;n++){let o=n*8,i=n*3,a=e[o]+r[i],c=e[o+1]+r[i+1];(a<0||a>g.worldWidth)&&(r[i]=-r[i]),(c<0||c>g.worldHeight)&&(r[i+1]=-r[i+1]),a=Math.min(Math.max(a,0),g.worldWidth),c=Math.min(Math.max(c,0),g.worldHeight),e[o]=a,e[o+1]=c,e[o+4]+=r[i+2]}}function D(e,r){return e[Math.min(e.length-1,Math.floor(r*e.length))]}function Me(e,r,t,n,o){let{data:i,velocity:a}=We(r),c=new Float64Array(o),l=new Float64Array(o);return new Promise(f=>{let u=0,m=0,h=p=>{_e(i,a,r);for(let v=0;v<t.length;v++)t[v].x=i[v*8],t[v].y=i[v*8+1]-20;let C=performance.now();e.frame(g,i,r,t,t.length);let x=performance.now()-C,y=u-n;y>=0&&(l[y]=x,c[y]=p-m),m=p,u++,y+1>=o?f({intervals:c,cpu:l}):requestAnimationFrame(h)};requestAnimationFrame(h)})}async function Ne(e,r){let t=document.getElementById("bench");if(!(t instanceof HTMLCanvasElement))throw new Error('bench: no <canvas id="bench">');t.style.width=`${me}px`,t.style.height=`${ve}px`;let n=r.get("renderer"),o=await ue(t,{prefer:n?[n]:void 0,onStatus:l=>e.status.push(l)});o.resize(me,ve,devicePixelRatio),e.renderer=o.name,e.canvasWidth=t.width,e.canvasHeight=t.height;let i=[];for(let l=0;l<Math.min(e.labels,e.n);l++)i.push({x:0,y:0,text:`player ${l}`,rgb:16777215});let{intervals:a,cpu:c}=await Me(o,e.n,i,Math.max(1,V(r,"warmup",20)),e.frames);a.sort(),c.sort(),e.frameMedianMs=H(D(a,.5)),e.frameP95Ms=H(D(a,.95)),e.cpuMedianMs=H(D(c,.5)),e.cpuP95Ms=H(D(c,.95)),o.destroy()}function H(e){return Math.round(e*100)/100}var $=new URLSearchParams(location.search),k={n:V($,"n",1e3),labels:V($,"labels",0),frames:Math.max(1,V($,"frames",120)),status:[]},ye=()=>{window.benchResult=k;let e=document.getElementById("result");e&&(e.textContent=JSON.stringify(k,null,2))};Ne(k,$).then(ye,e=>{k.error=e instanceof Error?e.message:String(e),ye()});
