// Pure helpers of the recordings list, replay page and monitor: time, size
// and axis formatting, and the chart's one-minute window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { niceMax, trimSamples, type Sample } from '../pages/admin-chart';
import { clockText, sizeText } from '../pages/recordings-api';

test('clockText: m:ss, h:mm:ss from an hour on', () => {
  const cases: Array<[number, string]> = [[0, '0:00'], [5.9, '0:05'], [61, '1:01'], [599, '9:59'], [3600, '1:00:00'], [3725, '1:02:05'], [-3, '0:00']];
  for (const [s, want] of cases) assert.equal(clockText(s), want, `${s} s`);
});

test('sizeText: B, KB, MB, GB', () => {
  const cases: Array<[number, string]> = [[0, '0 B'], [999, '999 B'], [1000, '1.0 KB'], [14_230, '14.2 KB'], [3_100_000, '3.1 MB'], [2_500_000_000, '2.50 GB']];
  for (const [n, want] of cases) assert.equal(sizeText(n), want, `${n} bytes`);
});

test('niceMax: 1, 2 or 5 times a power of ten at or above the value', () => {
  const cases: Array<[number, number]> = [[0.1, 0.1], [0.13, 0.2], [0.3, 0.5], [0.7, 1], [1, 1], [3, 5], [42, 50], [180, 200], [501, 1000], [12_345, 20_000]];
  for (const [v, want] of cases) assert.equal(niceMax(v), want, `${v}`);
});

test('trimSamples keeps the last minute', () => {
  const s = (t: number): Sample => ({ t, lastTickMs: 0, tickP99Ms: 0, bytesPerSec: NaN });
  const samples = [s(0), s(30_000), s(59_000), s(61_000), s(120_000)];
  trimSamples(samples, 120_000);
  assert.deepEqual(samples.map((x) => x.t), [61_000, 120_000]);
});
