// Room `/r/{id}`: checks the room exists, asks for a name, joins over the
// WebSocket and shows the scene with the people, chat and share panels.
//
// For tests and debugging the page exposes `window.tickroom` (see TickroomDebug).
import { Connection, type ArenaPredictor, type Entity, type Welcome } from '@tickroom/client';
import { ApiError, getRoom, type RoomInfo } from './api';
import { ArenaControls } from './arena-controls';
import { BoardControls } from './board-controls';
import { ChatPanel } from './chat';
import { copyText, h, replace } from './dom';
import { MemberList } from './members';
import { messagePage } from './message-page';
import { promptName, rememberedName } from './name-prompt';
import { RoundPanel, roundTiming, type RoundOver } from './round';
import { Scene } from './scene';
import { Scoreboard, hasScores } from './scoreboard';

/**
 * `window.tickroom`, set once the room page has a connection:
 * - mirror, connection: the live core objects (read them; do not mutate)
 * - status(): the connection status text ("connected", "reconnecting in 3 s", ...)
 * - rendererName(): 'WebGPU' | 'WebGL2' | '2D', or null until the renderer is up
 * - selfEntity(): the own entity (arena avatar), or null
 * - project(x, y): a world position in CSS pixels of the page viewport
 * - scene: the live scene (its interpolation buffer, clock, renderTick, afterFrame hook)
 * - predictor(): the own avatar's ArenaPredictor in arena rooms, else null
 */
export interface TickroomDebug {
  mirror: Connection['mirror'];
  connection: Connection;
  status(): string;
  rendererName(): string | null;
  selfEntity(): Entity | null;
  project(x: number, y: number): { x: number; y: number };
  scene: Scene;
  predictor(): ArenaPredictor | null;
}

declare global {
  interface Window {
    tickroom?: TickroomDebug;
  }
}

const DEFAULT_WORLD = { width: 1000, height: 600 };
/** Close codes that end the visit: shown as a whole-page message. */
const FINAL_PAGES: Record<number, [string, string]> = {
  4004: ['No such room', 'This room does not exist or has closed. Ask for a new link, or start a room yourself.'],
  4009: ['Room full', 'Every seat in this room is taken. Try again later.'],
  4011: ['Room closed', 'This room has closed.'],
  4015: ['Room stopped on an error', 'This room stopped because of a bug on the server. It is kept as it was just before, and the server tries it again when it restarts.'],
  4014: ['Room unavailable', 'This room is kept, but this server cannot open rooms of its type. Try again after the server is updated.'],
};

function tokenKey(id: string): string {
  return `tickroom.token.${id}`;
}

function sessionGet(key: string): string | null {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null;
  }
}

function sessionSet(key: string, value: string | null): void {
  try {
    if (value === null) sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, value);
  } catch {
    // Without storage a reload joins as a new member: acceptable.
  }
}

export async function roomPage(root: HTMLElement, id: string): Promise<void> {
  document.title = 'tickroom';
  let info: RoomInfo | null;
  try {
    info = await getRoom(id);
  } catch (err) {
    if (err instanceof ApiError && err.status === 410) {
      messagePage(root, 'Room unavailable', `${err.message}.`);
      return;
    }
    messagePage(root, 'Cannot reach the server', `${(err as Error).message}. Reload the page to try again.`);
    return;
  }
  if (info === null) {
    messagePage(root, 'No such room', 'This room does not exist or has closed. Ask for a new link, or start a room yourself.');
    return;
  }
  document.title = `${info.type} · tickroom`;

  // A reload inside a room (token kept for this tab) rejoins without asking again.
  const token = sessionGet(tokenKey(id));
  const name = token !== null && rememberedName() !== '' ? rememberedName() : await promptName(root, `this ${info.type} room`);
  joinRoom(root, id, info, name, token);
}

/** A room's recording id: GET /api/rooms/{id} has it while the room is open and recorded. */
function recordingOf(info: RoomInfo | null): string | null {
  const rec = (info as (RoomInfo & { recordingId?: unknown }) | null)?.recordingId;
  return typeof rec === 'string' && rec !== '' ? rec : null;
}

function recordingLink(recording: string): HTMLElement {
  return h('a', { href: `/replay/${encodeURIComponent(recording)}`, id: 'recording-link', class: 'button' }, 'Watch the recording');
}

function joinRoom(root: HTMLElement, id: string, info: RoomInfo, name: string, token: string | null): void {
  // Remembered now: once the room has closed the server no longer knows it by its id.
  let recording = recordingOf(info);
  const showRecordingLink = (where: HTMLElement | null): void => {
    if (recording === null || where === null || where.querySelector('#recording-link') !== null) return;
    // On the closed-room page it is the first thing to offer, before the way back to the lobby.
    const back = where.id === 'message' ? where.querySelector('a.button') : null;
    where.insertBefore(recordingLink(recording), back);
  };
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const statusText = h('span', { id: 'status', role: 'status' }, 'connecting…');
  const rendererText = h('div', { id: 'renderer', title: 'renderer' }, '');
  const notice = h('div', { id: 'notice', role: 'alert', hidden: true });
  let controls: ArenaControls | BoardControls | null = null;
  let scoreboard: Scoreboard | null = null;
  let noticeTimer: ReturnType<typeof setTimeout> | null = null;

  const showNotice = (text: string): void => {
    notice.textContent = text;
    notice.hidden = false;
    if (noticeTimer !== null) clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => (notice.hidden = true), 4000);
  };

  // A signed link (e.g. a spectator link) carries role, sig and exp: the join needs them.
  const params = new URLSearchParams(location.search);
  const query: Record<string, string> = {};
  for (const k of ['role', 'sig', 'exp']) {
    const v = params.get(k);
    if (v !== null) query[k] = v;
  }
  const conn: Connection = new Connection({
    url: `${scheme}://${location.host}/ws/${encodeURIComponent(id)}`,
    name,
    token,
    query,
    onStatus: (s) => {
      statusText.textContent = s.text;
      statusText.dataset.state = s.state;
      if (s.state === 'stopped') {
        sessionSet(tokenKey(id), null);
        const page = s.code === 4013 ? (['Cannot join this room', `${s.text}.`] as const) : s.code !== undefined ? FINAL_PAGES[s.code] : undefined;
        if (page) {
          scene.destroy();
          controls?.destroy();
          scoreboard?.destroy();
          rounds.destroy();
          messagePage(root, page[0], page[1]);
          if (s.code === 4011) showRecordingLink(root.querySelector('#message'));
        }
      }
    },
    onWelcome: (w) => onWelcome(w),
    onEvent: (ev) => {
      members.onEvent(ev);
      if (ev.type === 'chat') chat.add(ev);
      else if (ev.type === 'custom' && isRoundOver(ev.data)) rounds.roundOver(ev.data);
      else if (ev.type === 'closing') {
        showNotice(`The room is closing (${ev.reason}).`);
        if (recording === null) {
          void getRoom(id)
            .then((r) => {
              recording = recordingOf(r);
              showRecordingLink(bar);
            })
            .catch(() => {});
        }
        showRecordingLink(bar);
      }
    },
    onError: (code, message) => {
      const text = code === 'rate_limited' ? 'Slow down: too many messages.' : `${code}: ${message}`;
      showNotice(text);
      if (code === 'too_long' || code === 'no_such_member') chat.notice(text);
    },
  });
  const scene = new Scene(conn.mirror, 20, true);
  const rounds = new RoundPanel(conn.mirror);
  const members = new MemberList((m) => chat.setTarget(m));
  const chat = new ChatPanel(conn, (member) => members.get(member)?.name ?? `#${member}`);

  const share = h('button', { type: 'button', id: 'share' }, 'Share link');
  share.addEventListener('click', () => {
    const url = `${location.origin}/r/${encodeURIComponent(id)}`;
    void copyText(url).then((ok) => showNotice(ok ? 'Link copied: send it to the others.' : `Copy this link: ${url}`));
  });

  const bar = h('header', { class: 'room-bar' }, h('a', { href: '/', class: 'brand' }, 'tickroom'), h('span', { class: 'room-type' }, info.type), statusText, share);
  const side = h('aside', { class: 'side' }, members.element, chat.element);
  const tools = h('div', { class: 'tools' });
  replace(root, h('div', { class: 'room' }, scene.canvas, bar, rounds.element, rounds.banner, tools, side, notice, rendererText));

  void scene.startShowing(rendererText, (message) => showNotice(message));

  function onWelcome(w: Welcome): void {
    sessionSet(tokenKey(id), w.token || null);
    members.reset(w.members, w.member);
    chat.reset(w.chat);
    scene.setTickRate(w.tickRate);
    const width = typeof w.options.width === 'number' ? w.options.width : DEFAULT_WORLD.width;
    const height = typeof w.options.height === 'number' ? w.options.height : DEFAULT_WORLD.height;
    scene.setWorld(width, height);
    scene.hiddenMember = w.spectator ? -1 : w.member;
    // A world larger than the screen: the camera follows the own avatar
    // (spectators and other room types see the whole world).
    scene.followId = w.type === 'arena' && !w.spectator ? w.entity : -1;
    rounds.setTiming(w.type === 'arena' ? roundTiming(w.options, w.tickRate) : null, w.tickRate);
    chat.setReadOnly(w.spectator);
    // Spectators see the scores too.
    if (scoreboard === null && hasScores(w.schema)) {
      scoreboard = new Scoreboard(conn.mirror);
      side.insertBefore(scoreboard.element, side.firstChild);
    }
    scoreboard?.setSelf(w.spectator ? -1 : w.entity);
    if (w.spectator) {
      statusText.textContent = 'watching';
      return;
    }
    if (w.type === 'arena') {
      if (controls instanceof ArenaControls) controls.rejoined(w.entity, w.tickRate);
      else {
        controls = new ArenaControls(conn, scene, w.entity);
        controls.startTicking(w.tickRate);
      }
    } else if (w.type === 'board') {
      if (!(controls instanceof BoardControls)) {
        controls = new BoardControls(conn, scene);
        replace(tools, controls.toolbar);
      }
      // The own cursor entity (if any) is drawn by the real pointer already.
      scene.hiddenId = w.entity;
      controls.startTicking(w.tickRate);
    }
  }

  window.tickroom = {
    mirror: conn.mirror,
    connection: conn,
    status: () => conn.status.text,
    rendererName: () => scene.renderer?.name ?? null,
    selfEntity: () => (conn.welcome && conn.welcome.entity >= 0 ? conn.mirror.entities.get(conn.welcome.entity) ?? null : null),
    project: (x, y) => {
      const r = scene.canvas.getBoundingClientRect();
      const p = scene.project(x, y);
      return { x: r.left + p.x, y: r.top + p.y };
    },
    scene,
    predictor: () => (controls instanceof ArenaControls ? controls.predictor : null),
  };
  addEventListener('online', () => conn.retryNow());
  conn.start();
}

function isRoundOver(data: unknown): data is RoundOver {
  const d = data as Partial<Record<string, unknown>> | null;
  return typeof d === 'object' && d !== null && d.kind === 'round_over' && typeof d.round === 'number' && typeof d.winner === 'number';
}
