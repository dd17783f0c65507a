// Runs the render benchmark page (bench.ts, assets/bench.html) in Chromium
// with WebGPU and WebGL2 on SwiftShader and prints the results as JSON.
// These are measurements to read, not assertions.
//
//   node client/render/run-bench.mjs [--renderers=WebGPU,WebGL2] [--n=1000,10000] [--frames=120] [--labels=0]

import path from 'node:path';
import { REPO_ROOT, buildBundle, launchChromium, recordPageProblems, serve } from './harness.mjs';

function arg(name, fallback) {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}

const renderers = arg('renderers', 'WebGPU,WebGL2').split(',');
const counts = arg('n', '1000,10000').split(',').map(Number);
const frames = Number(arg('frames', '120'));
const labels = Number(arg('labels', '0'));

const bundle = await buildBundle('client/render/bench.ts', '.build/render-bench', 'bench.js');
const server = await serve({
  '/bench/render': { type: 'text/html; charset=utf-8', file: path.join(REPO_ROOT, 'assets/bench.html') },
  '/dist/bench.js': { type: 'text/javascript; charset=utf-8', file: bundle },
});
const browser = await launchChromium();
const results = [];
try {
  for (const renderer of renderers) {
    for (const n of counts) {
      // One WebGPU page per browser context (BROWSER_TESTING.md).
      const context = await browser.newContext({ viewport: { width: 820, height: 700 } });
      try {
        const page = await context.newPage();
        const problems = recordPageProblems(page);
        await page.goto(`${server.url}/bench/render?renderer=${renderer}&n=${n}&frames=${frames}&labels=${labels}`);
        await page.waitForFunction(() => window.benchResult !== undefined, null, { timeout: 600_000, polling: 500 });
        const result = await page.evaluate(() => window.benchResult);
        if (problems.length > 0) result.console = problems;
        results.push(result);
        console.error(`${renderer} n=${n}: median ${result.frameMedianMs} ms/frame, cpu ${result.cpuMedianMs} ms${result.error ? `, error: ${result.error}` : ''}`);
      } finally {
        await context.close();
      }
    }
  }
} finally {
  await browser.close();
  await server.close();
}
console.log(JSON.stringify(results, null, 2));
