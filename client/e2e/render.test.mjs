// Browser test of client/render: each back-end draws a known scene
// (client/render/testpage.ts) in real Chromium, WebGPU and WebGL2 on
// SwiftShader, and the screenshot's pixels are checked. Screenshots are kept in
// client/e2e/artifacts/render-<case>.png for a person to look at.
//
// Run: node --test client/e2e/render.test.mjs

import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PNG } from 'pngjs';
import { REPO_ROOT, buildBundle, launchChromium, recordPageProblems, serve } from '../render/harness.mjs';

const ARTIFACTS = path.join(REPO_ROOT, 'client/e2e/artifacts');
const CSS_WIDTH = 320; // testpage.ts
const CSS_HEIGHT = 200;
// The canvas sits off the stage's origin, so the label overlay must follow its offset.
const CANVAS_X = 11;
const CANVAS_Y = 7;

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>render test</title>
<style>body { margin: 0; background: #fff; } #stage { position: relative; padding: 7px 0 0 11px; }</style></head>
<body><div id="stage"></div><script type="module" src="/testpage.js"></script></body></html>`;

// testpage.ts draws a 200x100 world on a 320x200 CSS canvas: scale 1.6,
// letterboxed with 20 CSS px above and below.
const toCss = (x, y) => [x * 1.6, y * 1.6 + 20];

const BACKGROUND = [0x10, 0x20, 0x30];
const RED = [255, 0, 0];
const BLUE = [0, 0, 255];
const GREEN = [0, 255, 0];
const YELLOW = [255, 255, 0];
const HALF_WHITE = BACKGROUND.map((c) => (255 + c) / 2);

/** World points and the colour each must show. */
const EXPECTED_PIXELS = [
  { what: 'circle centre', at: [40, 50], rgb: RED },
  { what: 'circle inside its edge', at: [54, 50], rgb: RED },
  { what: 'outside the circle, inside its box', at: [57, 67], rgb: BACKGROUND },
  { what: 'rect centre', at: [160, 50], rgb: BLUE },
  { what: 'rect near its corner', at: [178, 63], rgb: BLUE },
  { what: 'right of the rect', at: [183, 50], rgb: BACKGROUND },
  // The arrow points up (angle pi/2 is counter-clockwise on a y-down screen):
  // wide near its base (y=45), narrow near its tip (y=15).
  { what: 'arrow base, left', at: [93, 42], rgb: GREEN },
  { what: 'arrow base, right', at: [107, 42], rgb: GREEN },
  { what: 'arrow near the tip', at: [100, 22], rgb: GREEN },
  { what: 'beside the arrow tip', at: [93, 18], rgb: BACKGROUND },
  { what: 'ring, right', at: [113.5, 75], rgb: YELLOW },
  { what: 'ring, top', at: [100, 61.5], rgb: YELLOW },
  { what: 'ring centre', at: [100, 75], rgb: BACKGROUND },
  { what: 'half-transparent white rect', at: [100, 96], rgb: HALF_WHITE },
  { what: 'empty world', at: [185, 90], rgb: BACKGROUND },
];
/**
 * With ?camera=1 (testpage.ts) the same scene through a camera: scale 3.2,
 * world (10, 30.75) at the canvas' top-left; only the points on screen.
 */
const cameraToCss = (x, y) => [(x - 10) * 3.2, (y - 30.75) * 3.2];
const CAMERA_PIXELS = [
  { what: 'circle centre', at: [40, 50], rgb: RED },
  { what: 'circle inside its edge', at: [54, 50], rgb: RED },
  { what: 'outside the circle, inside its box', at: [57, 67], rgb: BACKGROUND },
  { what: 'arrow base, left', at: [93, 42], rgb: GREEN },
  { what: 'arrow base, right', at: [107, 42], rgb: GREEN },
  { what: 'ring, top', at: [100, 61.5], rgb: YELLOW },
  { what: 'ring centre', at: [100, 75], rgb: BACKGROUND },
  // CSS (256, 100), where the blue rect is drawn without the camera: off screen with it.
  { what: 'empty world where the rect would be without a camera', at: [90, 62], rgb: BACKGROUND },
];
/** CSS points in the letterbox: cleared to the background too. */
const LETTERBOX_PIXELS = [[5, 5], [315, 195]];
const TOLERANCE = 12;

const CASES = [
  { name: 'webgpu', query: '', want: 'WebGPU' },
  { name: 'webgl2', query: '', hideWebGPU: true, want: 'WebGL2' },
  { name: '2d', query: '?renderer=2D', want: '2D' },
  { name: 'webgpu-dpr2', query: '', dpr: 2, want: 'WebGPU' },
  { name: 'webgl2-dpr2', query: '?renderer=WebGL2', dpr: 2, want: 'WebGL2' },
  { name: '2d-dpr2', query: '?renderer=2D', dpr: 2, want: '2D' },
  // Past the initial instance capacity (1024): the buffer grows by doubling.
  { name: 'webgpu-grown', query: '?pad=3000', want: 'WebGPU' },
  { name: 'webgl2-grown', query: '?renderer=WebGL2&pad=3000', want: 'WebGL2' },
  // The label overlay attaches itself once the canvas is in the document.
  { name: 'webgpu-late-attach', query: '?late=1', want: 'WebGPU' },
  { name: 'webgpu-device-lost', query: '?lose=1', want: 'WebGPU', statuses: [/device lost/, /device recreated/] },
  { name: 'webgpu-error-reported', query: '?error=1', want: 'WebGPU', statuses: [/WebGPU error: .*usage/i] },
  { name: 'webgl2-context-lost', query: '?renderer=WebGL2&lose=1', want: 'WebGL2', statuses: [/context lost/, /context restored/] },
  // A camera (the room page follows the own avatar with one): every back-end draws through it, labels too.
  { name: 'webgpu-camera', query: '?camera=1', want: 'WebGPU', camera: true },
  { name: 'webgl2-camera', query: '?renderer=WebGL2&camera=1', want: 'WebGL2', camera: true },
  { name: '2d-camera', query: '?renderer=2D&camera=1', want: '2D', camera: true },
];

describe('client/render in Chromium', { timeout: 300_000 }, () => {
  let browser;
  let server;

  before(async () => {
    const bundle = await buildBundle('client/render/testpage.ts', '.build/render-test', 'testpage.js');
    server = await serve({
      '/': { type: 'text/html; charset=utf-8', body: PAGE },
      '/testpage.js': { type: 'text/javascript; charset=utf-8', file: bundle },
    });
    browser = await launchChromium();
    await mkdir(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const c of CASES) {
    it(`${c.name}: draws the scene with ${c.want}`, { timeout: 120_000 }, async () => {
      const dpr = c.dpr ?? 1;
      // One WebGPU page per browser context (BROWSER_TESTING.md).
      const context = await browser.newContext({
        viewport: { width: CSS_WIDTH + 40, height: CSS_HEIGHT + 40 },
        deviceScaleFactor: dpr,
      });
      try {
        if (c.hideWebGPU) {
          await context.addInitScript(() => {
            delete Object.getPrototypeOf(navigator).gpu;
          });
        }
        const page = await context.newPage();
        const problems = recordPageProblems(page);
        await page.goto(server.url + '/' + c.query);
        await page.waitForFunction(() => window.testResult !== undefined, null, { timeout: 60_000 });
        const result = await page.evaluate(() => window.testResult);
        const context_ = `result ${JSON.stringify(result)}; console: ${problems.join(' | ') || 'none'}`;

        assert.equal(result.error, undefined, context_);
        assert.equal(result.name, c.want, `renderer: ${context_}`);
        assert.equal(result.canvasWidth, CSS_WIDTH * dpr, `canvas.width: ${context_}`);
        assert.equal(result.canvasHeight, CSS_HEIGHT * dpr, `canvas.height: ${context_}`);
        const wantStatuses = c.statuses ?? [];
        assert.equal(result.status.length, wantStatuses.length, `status messages: ${context_}`);
        wantStatuses.forEach((re, i) => assert.match(result.status[i], re, context_));
        assert.ok(!problems.some((p) => p.startsWith('pageerror') || p === 'page crashed'), context_);

        const shot = await page.screenshot({ clip: { x: CANVAS_X, y: CANVAS_Y, width: CSS_WIDTH, height: CSS_HEIGHT } });
        await writeFile(path.join(ARTIFACTS, `render-${c.name}.png`), shot);
        const png = PNG.sync.read(shot);
        assert.equal(png.width, CSS_WIDTH * dpr, 'screenshot width in device pixels');

        const wrong = [];
        const project = c.camera ? cameraToCss : toCss;
        for (const { what, at, rgb } of c.camera ? CAMERA_PIXELS : EXPECTED_PIXELS) {
          const got = pixelAt(png, ...project(...at), dpr);
          if (!near(got, rgb)) wrong.push(`${what} at world ${at}: got rgb(${got}), want rgb(${rgb.map(Math.round)})`);
        }
        for (const at of c.camera ? [] : LETTERBOX_PIXELS) {
          const got = pixelAt(png, ...at, dpr);
          if (!near(got, BACKGROUND)) wrong.push(`letterbox at css ${at}: got rgb(${got}), want rgb(${BACKGROUND})`);
        }
        assert.deepEqual(wrong, [], `see client/e2e/artifacts/render-${c.name}.png`);

        // The label "HELLO" is white on the dark background, centred on world
        // (40, 90): on the overlay canvas for the GPU back-ends, which must sit
        // exactly over the scene canvas.
        const [lx, ly] = project(40, 90);
        const white = (p) => p[0] > 200 && p[1] > 200 && p[2] > 200;
        const label = whiteCentroid(png, dpr, lx - 40, ly - 16, 80, 32, white);
        assert.ok(label.count >= 20 * dpr * dpr, `label: ${label.count} white pixels near world (40, 90), want >= ${20 * dpr * dpr}`);
        assert.ok(
          Math.abs(label.x - lx) <= 3 && Math.abs(label.y - ly) <= 3,
          `label centred at css (${label.x.toFixed(1)}, ${label.y.toFixed(1)}), want (${lx}, ${ly}) +-3`,
        );

        // destroy() removes the label overlay and leaves only the page's canvas.
        const canvases = await page.evaluate(() => {
          window.testRenderer.destroy();
          return document.querySelectorAll('canvas').length;
        });
        assert.equal(canvases, 1, 'canvases left after destroy()');
      } finally {
        await context.close();
      }
    });
  }
});

function pixelAt(png, cssX, cssY, dpr) {
  const x = Math.floor(cssX * dpr);
  const y = Math.floor(cssY * dpr);
  const i = (y * png.width + x) * 4;
  return [png.data[i], png.data[i + 1], png.data[i + 2]];
}

function near(got, want) {
  return got.every((c, i) => Math.abs(c - want[i]) <= TOLERANCE);
}

/** Count and centre (CSS pixels) of the matching pixels in a CSS rectangle. */
function whiteCentroid(png, dpr, cssX, cssY, cssW, cssH, match) {
  let count = 0;
  let sx = 0;
  let sy = 0;
  for (let y = Math.floor(cssY * dpr); y < (cssY + cssH) * dpr; y++) {
    for (let x = Math.floor(cssX * dpr); x < (cssX + cssW) * dpr; x++) {
      // x, y are device pixels already.
      if (match(pixelAt(png, x, y, 1))) {
        count++;
        sx += x + 0.5;
        sy += y + 0.5;
      }
    }
  }
  return { count, x: sx / count / dpr, y: sy / count / dpr };
}
