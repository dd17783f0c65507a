// Medians of several `make netcode NETCODE_JSON=...` runs, as one markdown
// table (docs/NETCODE.md):  node client/netcode/median.mjs run1.json run2.json run3.json
import { readFileSync } from 'node:fs';

const COLUMNS = [
  ['remote_speed_cv', 3], ['remote_stutter_per_s', 2], ['remote_jump_per_s', 2], ['underrun_share', 3], ['remote_error_p99', 1],
  ['own_response_frames_p95', 0], ['correction_px_per_frame_max', 2], ['correction_px_steady_max', 2], ['interp_delay_ms', 0],
  ['backwards_frames', 0], ['recover_ms', 0], ['renderer_hitches', 0], ['frames', 0], ['fps', 1],
];

const runs = process.argv.slice(2).map((f) => JSON.parse(readFileSync(f, 'utf8')));
if (runs.length === 0) {
  console.error('usage: node client/netcode/median.mjs RUN.json...');
  process.exit(2);
}
const median = (v) => {
  const s = v.filter((x) => x !== null && x !== undefined).map(Number).sort((a, b) => a - b);
  return s.length === 0 ? null : s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const names = Object.keys(runs[0].scenarios);
console.log(`| | ${COLUMNS.map(([c]) => c).join(' | ')} |`);
console.log(`|---|${COLUMNS.map(() => '---').join('|')}|`);
for (const n of names) {
  const cells = COLUMNS.map(([c, d]) => {
    const m = median(runs.map((r) => r.scenarios[n]?.[c]));
    return m === null ? '-' : Number.isFinite(m) ? m.toFixed(d) : String(m);
  });
  console.log(`| ${n} | ${cells.join(' | ')} |`);
}
console.log(`\n${runs.length} runs: commits ${[...new Set(runs.map((r) => r.commit))].join(', ')}; load averages ${runs.map((r) => r.load).join(' / ')}`);
