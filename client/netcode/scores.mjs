// Scores of one recorded scenario (docs/NETCODE.md "Scores"): pure
// functions of the page's per-frame recording and the tape's true positions.

function quantile(values, q) {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return null;
  return v[Math.min(v.length - 1, Math.floor(q * v.length))];
}

const median = (v) => quantile(v, 0.5);

/**
 * rec: the page's recording (t, rt, newest, lastAt, rx, ry, ox, oy, corr, keys, pxPerUnit);
 * truth: the remote player's { first, x[], y[] } per tick from the tape;
 * o: { tickMs, speed (units a tick), freeze: { startMs, ms } | null }.
 */
export function scores(rec, truth, o) {
  const n = rec.n;
  const { t, rt, rx, ry } = rec;
  const tickMs = o.tickMs;
  const tx = (k) => truth.x[k - truth.first];
  const ty = (k) => truth.y[k - truth.first];
  /** The true position at fractional tick r (linear between ticks), or NaN. */
  const truthAt = (r) => {
    const k = Math.floor(r);
    const f = r - k;
    const x0 = tx(k), x1 = tx(k + 1), y0 = ty(k), y1 = ty(k + 1);
    if (x0 === undefined || x1 === undefined) return [NaN, NaN];
    return [x0 + (x1 - x0) * f, y0 + (y1 - y0) * f];
  };
  /** The remote's velocity (units a tick) when constant over ticks around r, else null (turning, still, unknown). */
  const steadyVelocity = (r) => {
    const k = Math.floor(r);
    let vx = NaN;
    for (let j = k - 2; j <= k + 2; j++) {
      const a = tx(j), b = tx(j + 1), ay = ty(j), by = ty(j + 1);
      if (a === undefined || b === undefined || Number.isNaN(a) || Number.isNaN(b)) return null;
      if (Math.abs(by - ay) > 1e-6) return null;
      const v = b - a;
      if (Number.isNaN(vx)) vx = v;
      else if (Math.abs(v - vx) > 1e-6) return null;
    }
    return Math.abs(vx) > 0.5 ? vx : null;
  };

  const dts = [];
  for (let i = 1; i < n; i++) dts.push(t[i] - t[i - 1]);
  const medDt = median(dts) ?? 16.7;
  const hitch = (i) => t[i] - t[i - 1] > 2 * medDt;
  const seconds = n > 1 ? (t[n - 1] - t[0]) / 1000 : 0;

  let hitches = 0;
  const speeds = [];
  let stutter = 0;
  let jump = 0;
  let underrun = 0;
  let counted = 0;
  let backwards = 0;
  const errors = [];
  const delays = [];
  for (let i = 0; i < n; i++) {
    const [x, y] = truthAt(rt[i]);
    if (Number.isFinite(rx[i]) && Number.isFinite(x)) errors.push(Math.hypot(rx[i] - x, ry[i] - y));
    if (rec.newest[i] >= 0) delays.push((rec.newest[i] - rt[i]) * tickMs + (t[i] - rec.lastAt[i]));
    if (i === 0) continue;
    if (hitch(i)) {
      hitches++;
      continue;
    }
    counted++;
    if (rt[i] >= rec.newest[i] - 1e-9) underrun++; // at or past the newest tick: holding, extrapolating or frozen
    if (rt[i] < rt[i - 1] - 1e-9) backwards++;
    const v0 = steadyVelocity(rt[i - 1]);
    const v1 = steadyVelocity(rt[i]);
    if (v0 === null || v1 === null || v0 !== v1 || !Number.isFinite(rx[i]) || !Number.isFinite(rx[i - 1])) continue;
    const dt = t[i] - t[i - 1];
    const moved = rx[i] - rx[i - 1];
    const dist = Math.hypot(moved, ry[i] - ry[i - 1]);
    const expected = (Math.abs(v1) / tickMs) * dt;
    if (moved * v1 < -1e-6) backwards++;
    speeds.push(dist / dt);
    if (dist < 0.25 * expected) stutter++;
    else if (dist > 2 * expected) jump++;
  }
  const mean = speeds.reduce((a, b) => a + b, 0) / Math.max(1, speeds.length);
  const sd = Math.sqrt(speeds.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, speeds.length));

  // Own avatar: frames from each keydown to the first frame drawing it moved that way.
  const responses = [];
  for (const [, f, code, down] of rec.keys) {
    if (!down || (code !== 'KeyD' && code !== 'KeyA') || f < 1 || f >= n) continue;
    const dir = code === 'KeyD' ? 1 : -1;
    const base = rec.ox[f - 1];
    let r = null;
    for (let j = f; j < Math.min(n, f + 60); j++) {
      if ((rec.ox[j] - base) * dir > 0.5) {
        r = j - f + 1;
        break;
      }
    }
    responses.push(r ?? 60);
  }
  // Corrections: everywhere, and in steady driving (a key held for 300 ms or more).
  let corrMax = 0;
  let corrSteady = 0;
  // The same in world units: pixels depend on the page's layout and scale.
  let corrUnits = 0;
  let corrUnitsSteady = 0;
  const held = new Float64Array(n).fill(NaN); // when the current hold began, per frame
  let since = NaN;
  let ki = 0;
  const keys = rec.keys;
  for (let i = 0; i < n; i++) {
    while (ki < keys.length && keys[ki][1] <= i) {
      since = keys[ki][3] ? keys[ki][0] : NaN;
      ki++;
    }
    held[i] = since;
    const u = rec.corr[i];
    const c = u * rec.pxPerUnit;
    if (!Number.isFinite(c) || (i > 0 && hitch(i))) continue;
    corrMax = Math.max(corrMax, c);
    corrUnits = Math.max(corrUnits, u);
    if (Number.isFinite(since) && t[i] - since >= 300) {
      corrSteady = Math.max(corrSteady, c);
      corrUnitsSteady = Math.max(corrUnitsSteady, u);
    }
  }

  // S4: from the end of the freeze until the delay stays near its level before it for 0.5 s.
  let recover = null;
  if (o.freeze) {
    const end = o.freeze.startMs + o.freeze.ms;
    const before = [];
    for (let i = 0; i < n; i++) if (t[i] < o.freeze.startMs && rec.newest[i] >= 0) before.push((rec.newest[i] - rt[i]) * tickMs + (t[i] - rec.lastAt[i]));
    const target = median(before);
    const tol = Math.max(20, 0.2 * target);
    const d = (i) => (rec.newest[i] - rt[i]) * tickMs + (t[i] - rec.lastAt[i]);
    for (let i = 0; i < n && recover === null; i++) {
      if (t[i] < end) continue;
      let ok = true;
      for (let j = i; j < n && t[j] < t[i] + 500; j++) {
        if (Math.abs(d(j) - target) > tol) {
          ok = false;
          break;
        }
      }
      if (ok && t[n - 1] >= t[i] + 500) recover = t[i] - end;
    }
  }
  // Not recovered by the end of the recording: the time from the freeze's end to that end, flagged.
  const recovered = o.freeze ? recover !== null : null;
  if (o.freeze && recover === null) recover = t[n - 1] - (o.freeze.startMs + o.freeze.ms);

  return {
    remote_speed_cv: speeds.length ? sd / mean : null,
    remote_stutter_per_s: seconds ? stutter / seconds : null,
    remote_jump_per_s: seconds ? jump / seconds : null,
    underrun_share: counted ? underrun / counted : null,
    remote_error_p99: quantile(errors, 0.99),
    own_response_frames_p95: quantile(responses, 0.95),
    correction_px_per_frame_max: corrMax,
    correction_px_steady_max: corrSteady,
    correction_units_per_frame_max: corrUnits,
    correction_units_steady_max: corrUnitsSteady,
    px_per_unit: rec.pxPerUnit,
    interp_delay_ms: median(delays),
    backwards_frames: backwards,
    recover_ms: recover,
    recovered,
    renderer_hitches: hitches,
    frames: n,
    fps: seconds ? (n - 1) / seconds : null,
    moving_frames: speeds.length,
    key_presses: responses.length,
  };
}
