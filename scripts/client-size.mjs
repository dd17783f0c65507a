// The size budget of @tickroom/client: the file that `import "@tickroom/client"`
// resolves to, gzipped, must stay within BUDGET bytes. Run after the
// package is built (npm run build); `make test` runs it (client-checks).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

// 15,000 until the views decoder (view frames, four segment forms) and the
// adaptive interpolation clock came in (issues 14 and 16): 15,650 then.
const BUDGET = 16_000;

const file = fileURLToPath(import.meta.resolve('@tickroom/client'));
const raw = readFileSync(file);
const gz = gzipSync(raw, { level: 9 }).length;
const line = `@tickroom/client: ${file}: ${raw.length} bytes, ${gz} gzipped (budget ${BUDGET})`;
if (gz > BUDGET) {
  console.error(`${line}: over budget by ${gz - BUDGET} bytes`);
  process.exit(1);
}
console.log(line);
