// Replay `/replay/{id}[?t=TICK]`: downloads a recording's tape and plays it
// in the same scene as a live room (core's Mirror, the renderers,
// interpolation between ticks), with play/pause, speed, a timeline scrubber,
// stepping, and the people and chat as they were at the tick shown. The URL
// with `?t=` is the share link: it opens at that tick. A views room's replay
// shows the whole world, or follows one member's view (replay-follow.ts).
//
// For tests the page exposes `window.tickroom.replay` (see ReplayDebug).
import type { Mirror } from '@tickroom/client';
import { SPEEDS, TapeFormatError, Replay, ReplayError } from '@tickroom/client';
import { ApiError } from './api';
import { copyText, h, replace } from './dom';
import { messagePage } from './message-page';
import { clockText, dateText, fetchTape, getRecording, sizeText, type RecordingInfo } from './recordings-api';
import { Follow, ViewTimeline } from './replay-follow';
import { ReplayChat, ReplayMembers } from './replay-panels';
import { Scene } from './scene';

/**
 * `window.tickroom` on the replay page:
 * - replay.tick(): the tick shown (the mirror's); replay.seek(t) moves there
 * - replay.mirror: the state at that tick (read it; do not mutate)
 * - replay.playing(), play(), pause(), firstTick, lastTick
 * - replay.follow(member | null): follow a member's view (null: the whole
 *   world); followed(); viewMembers(): the members a views tape has views of;
 *   shownIds(): the ids of the mirror's entities the scene draws (before
 *   culling to the screen), ascending; cameraEntity(): what the camera follows (-1: none)
 * - rendererName(), project(x, y): as on the room page
 */
export interface ReplayDebug {
  replay: {
    tick(): number;
    seek(tick: number): number;
    mirror: Mirror;
    playing(): boolean;
    play(): void;
    pause(): void;
    firstTick: number;
    lastTick: number;
    follow(member: number | null): void;
    followed(): number | null;
    viewMembers(): number[];
    shownIds(): number[];
    cameraEntity(): number;
  };
  rendererName(): string | null;
  project(x: number, y: number): { x: number; y: number };
}

/**
 * World sizes of the built-in types when the creator gave none (PROTOCOL.md
 * "Input payloads"): a tape's header holds the creator's options, not the
 * effective ones the live welcome carries.
 */
const TYPE_WORLDS: Record<string, { width: number; height: number }> = {
  // The arena's default field grew from 1000 x 600: a tape of a room made
  // without a size before then shows on the larger floor, every entity in
  // its place (the other way round would lose most of a new field).
  arena: { width: 3000, height: 1800 },
  'arena-bench': { width: 1000, height: 600 },
  board: { width: 1600, height: 1000 },
  'field-bench': { width: 8000, height: 8000 },
};
const DEFAULT_WORLD = { width: 1000, height: 600 };
/** Longest frame step played: after a stall the replay resumes rather than jumping ahead. */
const MAX_FRAME_MS = 250;

export async function replayPage(root: HTMLElement, id: string): Promise<void> {
  document.title = 'replay · tickroom';
  const progress = h('p', { class: 'note', id: 'load-progress' }, 'loading the recording…');
  replace(root, h('main', { class: 'center' }, h('div', { class: 'card message', id: 'loading' }, h('h1', {}, 'Replay'), progress)));

  let info: RecordingInfo | null;
  let bytes: Uint8Array;
  try {
    info = await getRecording(id);
    if (info === null) {
      messagePage(root, 'No such recording', 'This recording does not exist or was deleted. See the list of recordings for the ones kept.');
      addListLink(root);
      return;
    }
    bytes = await fetchTape(id, (loaded, total) => {
      progress.textContent = total > 0 ? `downloading ${sizeText(loaded)} of ${sizeText(total)}…` : `downloading ${sizeText(loaded)}…`;
    });
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      messagePage(root, 'No such recording', 'This recording does not exist or was deleted.');
      addListLink(root);
    } else {
      messagePage(root, 'Cannot reach the server', `${(err as Error).message}. Reload the page to try again.`);
    }
    return;
  }

  let replay: Replay;
  try {
    replay = Replay.fromBytes(bytes);
  } catch (err) {
    if (err instanceof TapeFormatError || err instanceof ReplayError || (err as Error).name === 'SchemaError' || (err as Error).name === 'ProtocolError') {
      messagePage(root, 'This recording cannot be played', `${(err as Error).message.replace(/^tape: /, '')}. Nothing in it can be shown.`);
      addListLink(root);
      return;
    }
    throw err;
  }
  showReplay(root, id, info, replay);
}

function addListLink(root: HTMLElement): void {
  root.querySelector('#message')?.appendChild(h('a', { href: '/replays', id: 'recordings-link' }, 'All recordings'));
}

function showReplay(root: HTMLElement, id: string, info: RecordingInfo, replay: Replay): void {
  const header = replay.tape.header;
  document.title = `${header.type} replay · tickroom`;
  const scene = new Scene(replay.mirror, replay.tickRate);
  const opts = header.options;
  const world = TYPE_WORLDS[header.type] ?? DEFAULT_WORLD;
  scene.setWorld(typeof opts.width === 'number' ? opts.width : world.width, typeof opts.height === 'number' ? opts.height : world.height);
  // A jump rebuilds the state from a keyframe: positions from before it must not be blended in.
  replay.onRebuild = () => scene.buffer.clear();

  const members = new ReplayMembers(replay.history);
  const chat = new ReplayChat(replay.history, (t) => replay.secondsAt(t));
  const notice = h('div', { id: 'notice', role: 'status', hidden: true });
  const rendererText = h('div', { id: 'renderer', title: 'renderer' }, '');
  let noticeTimer: ReturnType<typeof setTimeout> | null = null;
  const showNotice = (text: string): void => {
    notice.textContent = text;
    notice.hidden = false;
    if (noticeTimer !== null) clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => (notice.hidden = true), 4000);
  };

  // Controls.
  const play = h('button', { type: 'button', id: 'play', 'aria-label': 'play', title: 'play / pause (space)' }, 'Play');
  const back = h('button', { type: 'button', id: 'step-back', title: 'one tick back (←)', 'aria-label': 'one tick back' }, '◀');
  const fwd = h('button', { type: 'button', id: 'step-forward', title: 'one tick forward (→)', 'aria-label': 'one tick forward' }, '▶');
  const scrubber = h('input', { type: 'range', id: 'scrubber', min: replay.firstTick, max: replay.lastTick, step: 1, value: replay.firstTick, 'aria-label': 'position' });
  const time = h('span', { id: 'time' }, '');
  const tickText = h('span', { id: 'tick' }, '');
  const speed = h(
    'select',
    { id: 'speed', 'aria-label': 'speed', title: 'speed' },
    ...SPEEDS.map((s) => h('option', { value: s, selected: s === 1 }, `${s}x`)),
  );
  const share = h('button', { type: 'button', id: 'share' }, 'Share link');
  // A views room's tape keeps every member's view: the page can follow one.
  const timeline = ViewTimeline.fromTape(replay.tape);
  const follow = timeline === null ? null : new Follow(timeline, replay.mirror);
  const followSelect =
    timeline === null
      ? null
      : h(
          'select',
          { id: 'follow', 'aria-label': 'follow', title: "whose view to show: a member's, or the whole world" },
          h('option', { value: '', selected: true }, 'whole world'),
          ...timeline.members.map((m) => h('option', { value: m }, `${replay.history.nameOf(m)}'s view`)),
        );
  const setFollow = (member: number | null): void => {
    if (follow === null) return;
    follow.set(member ?? -1);
    scene.only = member === null ? null : follow;
    scene.followId = -1; // set each frame from the view in effect (aimAtFollowed)
    scene.camera.reset();
    scene.fades.reset(); // another view: what it holds shows at once, nothing fades out
    if (followSelect !== null) followSelect.value = member === null ? '' : String(member);
    aimAtFollowed();
  };
  // The camera follows the followed member's entity, when it has one.
  const aimAtFollowed = (): void => {
    if (follow === null || follow.member < 0) return;
    const v = follow.at(replay.tick);
    scene.followId = v !== null ? v.entity : -1;
  };
  if (followSelect !== null) followSelect.addEventListener('change', () => setFollow(followSelect.value === '' ? null : Number(followSelect.value)));
  const total = clockText(replay.secondsAt(replay.lastTick));

  let dragging = false;
  let shownTick = -1;
  let shownPlaying: boolean | null = null;

  const refresh = (): void => {
    const t = replay.tick;
    if (replay.playing !== shownPlaying) {
      shownPlaying = replay.playing;
      play.textContent = shownPlaying ? 'Pause' : 'Play';
      play.setAttribute('aria-label', shownPlaying ? 'pause' : 'play');
      if (!shownPlaying) rememberTick(t);
    }
    if (t === shownTick) return;
    shownTick = t;
    time.textContent = `${clockText(replay.secondsAt(t))} / ${total}`;
    tickText.textContent = `tick ${t}`;
    if (!dragging) scrubber.value = String(t);
    members.show(t);
    chat.show(t);
    if (replay.error !== null) showNotice(`Cannot show every tick: ${replay.error}`);
  };
  const seek = (t: number): number => {
    const reached = replay.seek(t);
    refresh();
    if (!replay.playing) rememberTick(reached);
    return reached;
  };

  play.addEventListener('click', () => {
    replay.toggle();
    refresh();
  });
  back.addEventListener('click', () => {
    replay.step(-1);
    refresh();
  });
  fwd.addEventListener('click', () => {
    replay.step(1);
    refresh();
  });
  scrubber.addEventListener('pointerdown', () => (dragging = true));
  scrubber.addEventListener('pointerup', () => (dragging = false));
  scrubber.addEventListener('change', () => (dragging = false));
  scrubber.addEventListener('input', () => seek(Number(scrubber.value)));
  speed.addEventListener('change', () => {
    replay.setSpeed(Number(speed.value));
    scene.setTickRate(replay.tickRate * replay.clock.speed);
  });
  share.addEventListener('click', () => {
    const url = `${location.origin}/replay/${encodeURIComponent(id)}?t=${replay.tick}`;
    void copyText(url).then((ok) => showNotice(ok ? `Link copied: it opens at ${clockText(replay.secondsAt(replay.tick))}.` : `Copy this link: ${url}`));
  });
  addEventListener('keydown', (ev) => {
    if (ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const t = ev.target;
    if (t instanceof HTMLSelectElement || (t instanceof HTMLInputElement && t.type !== 'range')) return;
    if (ev.code === 'Space') {
      if (t instanceof HTMLButtonElement) return; // the button's own click toggles
      ev.preventDefault();
      replay.toggle();
      refresh();
    } else if ((ev.code === 'ArrowLeft' || ev.code === 'ArrowRight') && !(t instanceof HTMLInputElement)) {
      // The scrubber handles its own arrows (and seeks through its input event).
      ev.preventDefault();
      const n = ev.shiftKey ? replay.tickRate : 1;
      replay.step(ev.code === 'ArrowLeft' ? -n : n);
      refresh();
    } else if (ev.code === 'Home' || ev.code === 'End') {
      ev.preventDefault();
      seek(ev.code === 'Home' ? replay.firstTick : replay.lastTick);
    }
  });

  const bar = h(
    'header',
    { class: 'room-bar' },
    h('a', { href: '/', class: 'brand' }, 'tickroom'),
    h('a', { href: '/replays', class: 'room-type', id: 'recordings-link' }, 'recordings'),
    h('span', { class: 'room-type' }, `${header.type} replay`),
    h('span', { class: 'note', id: 'started' }, `${dateText(header.startedAt || info.startedAt)} · ${sizeText(replay.tape.bytes.length)}`),
    share,
  );
  const controls = h(
    'div',
    { class: 'replay-controls', id: 'controls' },
    play,
    back,
    fwd,
    scrubber,
    h('span', { class: 'readout' }, time, tickText),
    speed,
    followSelect,
  );
  const side = h('aside', { class: 'side' }, members.element, chat.element);
  replace(root, h('div', { class: 'room replay' }, scene.canvas, bar, controls, side, damageBanner(replay, info), notice, rendererText));

  let fallbackRaf = 0;
  const onFrame = (dt: number): void => {
    replay.update(Math.min(dt, MAX_FRAME_MS));
    aimAtFollowed();
    refresh();
  };
  scene.onFrame = onFrame;
  void scene.startShowing(rendererText, (message) => showNotice(message)).then((drawing) => {
    if (!drawing) {
      // The controls, people and chat still play without a picture.
      let last = performance.now();
      const loop = (now: number): void => {
        fallbackRaf = requestAnimationFrame(loop);
        onFrame(now - last);
        last = now;
      };
      fallbackRaf = requestAnimationFrame(loop);
    }
  });
  addEventListener('pagehide', () => {
    cancelAnimationFrame(fallbackRaf);
    scene.destroy();
  });

  const start = Number(new URLSearchParams(location.search).get('t'));
  seek(Number.isFinite(start) && start > 0 ? start : replay.firstTick);

  (window as unknown as { tickroom: ReplayDebug }).tickroom = {
    replay: {
      tick: () => replay.tick,
      seek,
      mirror: replay.mirror,
      playing: () => replay.playing,
      play: () => {
        replay.play();
        refresh();
      },
      pause: () => {
        replay.pause();
        refresh();
      },
      firstTick: replay.firstTick,
      lastTick: replay.lastTick,
      follow: setFollow,
      followed: () => (follow !== null && follow.member >= 0 ? follow.member : null),
      viewMembers: () => timeline?.members.slice() ?? [],
      shownIds: () => {
        const ids: number[] = [];
        for (const id of replay.mirror.entities.keys()) if (scene.only === null || scene.only.shows(id)) ids.push(id);
        return ids.sort((a, b) => a - b);
      },
      cameraEntity: () => scene.followId,
    },
    rendererName: () => scene.renderer?.name ?? null,
    project: (x, y) => {
      const r = scene.canvas.getBoundingClientRect();
      const p = scene.project(x, y);
      return { x: r.left + p.x, y: r.top + p.y };
    },
  };
}

let rememberTimer: ReturnType<typeof setTimeout> | null = null;

/**
 * Keeps `?t=` on the address so a reload (or a copied address) opens at the
 * tick shown. Debounced: scrubbing seeks many times a second, and browsers
 * throttle (and complain about) rapid history updates.
 */
function rememberTick(tick: number): void {
  if (rememberTimer !== null) clearTimeout(rememberTimer);
  rememberTimer = setTimeout(() => {
    const url = new URL(location.href);
    url.searchParams.set('t', String(tick));
    history.replaceState(null, '', url);
  }, 300);
}

/** Says where a damaged or unfinished tape stops, or nothing for a clean one. */
function damageBanner(replay: Replay, info: RecordingInfo): HTMLElement | null {
  const tape = replay.tape;
  const end = `${clockText(replay.secondsAt(replay.lastTick))} (tick ${replay.lastTick})`;
  if (tape.damage !== null && !(tape.damage.truncated && info.inProgress)) {
    const d = tape.damage;
    return h(
      'div',
      { class: 'banner', id: 'damage', role: 'alert' },
      h('b', {}, 'This recording is damaged. '),
      `It stops being readable at byte ${d.offset} of ${tape.bytes.length}, after ${d.records} good records (${d.reason}). Everything before that plays: up to ${end}.`,
    );
  }
  if (info.damaged === true) {
    // The server serves a damaged tape up to its last good frame: the damage starts where the bytes end.
    return h(
      'div',
      { class: 'banner', id: 'damage', role: 'alert' },
      h('b', {}, 'This recording is damaged. '),
      `The server found an unreadable frame at byte ${tape.validSize}. Everything before it plays: up to ${end}.`,
    );
  }
  if (info.inProgress || tape.footer === null) {
    const reload = h('a', { href: location.pathname, id: 'reload' }, 'reload for more');
    reload.addEventListener('click', (ev) => {
      ev.preventDefault();
      location.reload();
    });
    return h(
      'div',
      { class: 'banner info', id: 'in-progress', role: 'status' },
      info.inProgress ? `The room is still being recorded: this replay goes up to ${end}; ` : `The recording ended without its end record (the server may have stopped): it plays up to ${end}; `,
      info.inProgress ? reload : 'nothing after that was saved.',
    );
  }
  return null;
}
