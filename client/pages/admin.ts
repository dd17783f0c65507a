// Monitor `/admin`: asks for the admin token (kept for this tab in
// sessionStorage), then shows every room live (polled each second): type,
// people, tick p99, delta bytes/s, age. A room's detail has its members with
// kick buttons, a close button, a chart of the last minute and a spectator
// view of its scene (a signed spectator link: the admin is not a member).
//
// For tests the page exposes `window.tickroom.admin` (see AdminDebug).
import { Connection, type Mirror } from '@tickroom/client';
import { ApiError, ageText } from './api';
import { AdminApi, type AdminRoom, type AdminRoomDetail } from './admin-api';
import { Chart, trimSamples, type Sample } from './admin-chart';
import { h, replace } from './dom';
import { messagePage } from './message-page';
import { sizeText } from './recordings-api';
import { Scene } from './scene';

/**
 * `window.tickroom.admin` on the monitor page:
 * - selected(): the room whose detail is open, or null
 * - spectator(): the spectator view's mirror, status and renderer, or null
 * - project(x, y): a world position of the spectator view in page CSS pixels
 */
export interface AdminDebug {
  admin: {
    selected(): string | null;
    spectator(): { mirror: Mirror; status: string; renderer: string | null } | null;
    project(x: number, y: number): { x: number; y: number } | null;
  };
}

const TOKEN_KEY = 'tickroom.adminToken';
const POLL_MS = 1000;

function stored(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function store(token: string | null): void {
  try {
    if (token === null) sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Without storage the token is asked again after a reload: acceptable.
  }
}

export function adminPage(root: HTMLElement): void {
  document.title = 'monitor · tickroom';
  const token = stored();
  if (token === null) tokenPrompt(root, '');
  else void signIn(root, token);
}

function tokenPrompt(root: HTMLElement, error: string): void {
  const input = h('input', { type: 'password', id: 'admin-token', autocomplete: 'current-password', required: true, 'aria-label': 'admin token' });
  const message = h('p', { class: 'note error', id: 'admin-error', role: 'alert' }, error);
  const form = h(
    'form',
    { class: 'card name-prompt', id: 'admin-login' },
    h('h1', {}, 'tickroom monitor'),
    h('label', {}, 'Admin token ', input),
    h('button', { type: 'submit', id: 'admin-sign-in' }, 'Sign in'),
    message,
    h('p', { class: 'note' }, 'The token is the server’s TICKROOM_ADMIN_TOKEN. It is kept for this tab only.'),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const token = input.value.trim();
    if (token !== '') void signIn(root, token);
  });
  replace(root, h('main', { class: 'center' }, form));
  input.focus();
}

/** Tries the token once; on success it is kept and the monitor starts. */
async function signIn(root: HTMLElement, token: string): Promise<void> {
  const api = new AdminApi(token);
  let rooms: AdminRoom[];
  try {
    rooms = await api.rooms();
  } catch (err) {
    handleAuthError(root, err);
    return;
  }
  store(token);
  new Monitor(root, api).start(rooms);
}

/** 401: back to the prompt; 404: the admin API is off; anything else: say so. */
function handleAuthError(root: HTMLElement, err: unknown): void {
  if (err instanceof ApiError && err.status === 401) {
    store(null);
    tokenPrompt(root, 'unauthorized: that admin token is wrong');
  } else if (err instanceof ApiError && err.status === 404) {
    store(null);
    messagePage(root, 'The admin API is off', 'This server was started without an admin token. Start it with TICKROOM_ADMIN_TOKEN (or -admin-token) to use the monitor.');
  } else {
    messagePage(root, 'Cannot reach the server', `${(err as Error).message}. Reload the page to try again.`);
  }
}

interface RoomTrack {
  samples: Sample[];
  lastBytes: number;
  lastTime: number;
  rate: number;
}

class Monitor {
  private readonly body = h('tbody');
  private readonly status = h('span', { id: 'admin-status', role: 'status' }, '');
  private readonly notice = h('p', { class: 'note', id: 'admin-notice', role: 'status' });
  private readonly detail = h('section', { class: 'card', id: 'room-detail', hidden: true });
  private readonly tracks = new Map<string, RoomTrack>();
  private selected: string | null = null;
  private detailView: Detail | null = null;
  private stopped = false;

  constructor(
    private readonly root: HTMLElement,
    private readonly api: AdminApi,
  ) {}

  start(first: AdminRoom[]): void {
    const signOut = h('button', { type: 'button', id: 'admin-sign-out' }, 'Sign out');
    signOut.addEventListener('click', () => {
      this.stop();
      store(null);
      tokenPrompt(this.root, '');
    });
    replace(
      this.root,
      h(
        'main',
        { class: 'admin' },
        h('header', { class: 'admin-bar' }, h('a', { href: '/', class: 'brand' }, 'tickroom'), h('span', { class: 'room-type' }, 'monitor'), this.status, signOut),
        h(
          'section',
          { class: 'card' },
          h('h2', {}, 'Rooms'),
          h(
            'table',
            { id: 'admin-rooms' },
            h('thead', {}, h('tr', {}, ...['room', 'type', 'players', 'spectators', 'tick p99', 'delta/s', 'age', 'rec'].map((t) => h('th', {}, t)))),
            this.body,
          ),
          this.notice,
        ),
        this.detail,
      ),
    );
    (window as unknown as { tickroom: AdminDebug }).tickroom = {
      admin: {
        selected: () => this.selected,
        spectator: () => this.detailView?.spectatorState() ?? null,
        project: (x, y) => this.detailView?.project(x, y) ?? null,
      },
    };
    this.show(first);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.detailView?.destroy();
    this.detailView = null;
  }

  private schedule(): void {
    setTimeout(() => void this.poll().finally(() => this.stopped || this.schedule()), POLL_MS);
  }

  private async poll(): Promise<void> {
    if (this.stopped) return;
    let rooms: AdminRoom[];
    try {
      rooms = await this.api.rooms();
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 404)) {
        this.stop();
        handleAuthError(this.root, err);
      } else this.status.textContent = `not updating: ${(err as Error).message}`;
      return;
    }
    if (!this.stopped) this.show(rooms);
  }

  private show(rooms: AdminRoom[]): void {
    for (const r of rooms) this.track(r);
    for (const id of this.tracks.keys()) if (!rooms.some((r) => r.id === id)) this.tracks.delete(id);
    rooms.sort((a, b) => b.players - a.players || a.ageSeconds - b.ageSeconds || a.id.localeCompare(b.id));
    replace(this.body, ...rooms.map((r) => this.row(r)));
    this.notice.textContent = rooms.length === 0 ? 'No rooms open.' : '';
    this.status.textContent = `${rooms.length} room${rooms.length === 1 ? '' : 's'} · updated ${new Date().toLocaleTimeString()}`;
    if (this.selected !== null) {
      const r = rooms.find((x) => x.id === this.selected);
      if (r === undefined) this.detailView?.closed();
      else void this.refreshDetail(r);
    }
  }

  private track(r: AdminRoom): void {
    let t = this.tracks.get(r.id);
    if (t === undefined) {
      t = { samples: [], lastBytes: r.deltaBytes, lastTime: r.serverTimeMs, rate: NaN };
      this.tracks.set(r.id, t);
    } else if (r.serverTimeMs > t.lastTime) {
      t.rate = ((r.deltaBytes - t.lastBytes) * 1000) / (r.serverTimeMs - t.lastTime);
      t.lastBytes = r.deltaBytes;
      t.lastTime = r.serverTimeMs;
    }
    t.samples.push({ t: r.serverTimeMs, lastTickMs: r.lastTickMs, tickP99Ms: r.tickP99Ms, bytesPerSec: t.rate });
    trimSamples(t.samples, r.serverTimeMs);
  }

  private row(r: AdminRoom): HTMLElement {
    const rate = this.tracks.get(r.id)?.rate ?? NaN;
    const tr = h(
      'tr',
      { 'data-room': r.id, class: r.id === this.selected ? 'selected' : '', tabindex: 0, title: 'show this room' },
      h('td', { class: 'mono' }, r.id.slice(0, 8)),
      h('td', {}, r.type),
      h('td', { class: 'players' }, `${r.players}/${r.maxPlayers}`),
      h('td', { class: 'spectators' }, String(r.spectators)),
      h('td', {}, `${r.tickP99Ms.toFixed(2)} ms`),
      h('td', { class: 'rate' }, Number.isFinite(rate) ? `${sizeText(Math.round(rate))}/s` : '…'),
      h('td', {}, ageText(Date.now() - r.ageSeconds * 1000)),
      h('td', {}, r.recording ? '●' : '—'),
    );
    const open = (): void => this.select(r);
    tr.addEventListener('click', open);
    tr.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') open();
    });
    return tr;
  }

  private select(r: AdminRoom): void {
    if (this.selected === r.id) return;
    this.detailView?.destroy();
    this.selected = r.id;
    for (const tr of this.body.querySelectorAll('tr')) tr.classList.toggle('selected', tr.dataset.room === r.id);
    this.detailView = new Detail(this.api, r, (text) => (this.notice.textContent = text), () => this.deselect());
    replace(this.detail, this.detailView.element);
    this.detail.hidden = false;
    void this.refreshDetail(r);
  }

  private deselect(): void {
    this.detailView?.destroy();
    this.detailView = null;
    this.selected = null;
    this.detail.hidden = true;
    for (const tr of this.body.querySelectorAll('tr')) tr.classList.remove('selected');
  }

  private async refreshDetail(r: AdminRoom): Promise<void> {
    const view = this.detailView;
    if (view === null) return;
    view.chart(this.tracks.get(r.id)?.samples ?? []);
    try {
      const d = await this.api.room(r.id);
      if (this.detailView === view) view.update(d);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) view.closed();
      else view.message(`Cannot load the room: ${(err as Error).message}`);
    }
  }
}

/** One room's detail: stats, members with kick buttons, close, chart, spectator view. */
class Detail {
  readonly element: HTMLElement;
  private readonly members = h('tbody');
  private readonly stats = h('p', { class: 'note', id: 'room-stats' });
  private readonly info = h('p', { class: 'note', id: 'room-message', role: 'status' });
  private readonly graph = new Chart();
  private readonly view = h('div', { class: 'spectator-view', id: 'spectator' });
  private readonly viewStatus = h('p', { class: 'note', id: 'spectator-status' }, 'connecting the spectator view…');
  private readonly closeButton = h('button', { type: 'button', id: 'close-room', class: 'danger' }, 'Close room');
  private conn: Connection | null = null;
  private scene: Scene | null = null;
  private gone = false;

  constructor(
    private readonly api: AdminApi,
    private readonly room: AdminRoom,
    private readonly say: (text: string) => void,
    onClose: () => void,
  ) {
    this.closeButton.addEventListener('click', () => void this.closeRoom());
    const hide = h('button', { type: 'button', id: 'hide-detail', class: 'link', title: 'close this panel' }, '×');
    hide.addEventListener('click', onClose);
    this.element = h(
      'div',
      { class: 'detail', 'data-room': room.id },
      h('div', { class: 'row' }, h('h2', {}, `${room.type} · ${room.id}`), this.closeButton, hide),
      this.stats,
      this.info,
      h(
        'div',
        { class: 'detail-grid' },
        h('div', {}, this.view, this.viewStatus),
        h(
          'div',
          {},
          this.graph.canvas,
          h('table', { id: 'admin-members' }, h('thead', {}, h('tr', {}, ...['#', 'name', 'entity', '', ''].map((t) => h('th', {}, t)))), this.members),
        ),
      ),
    );
    void this.spectate();
  }

  update(d: AdminRoomDetail): void {
    if (this.gone) return;
    this.stats.textContent = `tick ${d.tick} at ${d.tickRate} Hz · last tick ${d.lastTickMs.toFixed(2)} ms · p99 ${d.tickP99Ms.toFixed(2)} ms · late ticks ${d.lateTicks} · inputs ${d.inputs} · snapshots ${d.snapshots} · slow closed ${d.slowClosed} · ${d.spectators} watching`;
    const rows = [...d.members]
      .sort((a, b) => a.member - b.member)
      .map((m) => {
        const kick = h('button', { type: 'button', class: 'kick', 'data-member': m.member }, 'Kick');
        kick.addEventListener('click', () => void this.kick(m.member, m.name, kick));
        return h(
          'tr',
          { 'data-member': m.member, class: m.online ? 'online' : 'offline' },
          h('td', {}, String(m.member)),
          h('td', { class: 'name' }, m.name),
          h('td', {}, m.entity === null ? '—' : String(m.entity)),
          h('td', {}, m.online ? 'online' : 'offline'),
          h('td', {}, kick),
        );
      });
    replace(this.members, ...rows);
    if (rows.length === 0) this.members.appendChild(h('tr', {}, h('td', { colspan: 5, class: 'note' }, 'nobody seated')));
  }

  chart(samples: readonly Sample[]): void {
    if (!this.gone) this.graph.draw(samples, (n) => sizeText(Math.round(n)));
  }

  closed(): void {
    if (this.gone) return;
    this.gone = true;
    this.closeButton.disabled = true;
    this.message('This room has closed.');
    replace(this.members);
    this.stopSpectating('room closed');
  }

  message(text: string): void {
    this.info.textContent = text;
  }

  spectatorState(): { mirror: Mirror; status: string; renderer: string | null } | null {
    if (this.conn === null) return null;
    return { mirror: this.conn.mirror, status: this.conn.status.state, renderer: this.scene?.renderer?.name ?? null };
  }

  project(x: number, y: number): { x: number; y: number } | null {
    if (this.scene === null) return null;
    const r = this.scene.canvas.getBoundingClientRect();
    const p = this.scene.project(x, y);
    return { x: r.left + p.x, y: r.top + p.y };
  }

  destroy(): void {
    this.gone = true;
    this.stopSpectating('');
  }

  private async spectate(): Promise<void> {
    let link: { wsUrl: string };
    try {
      link = await this.api.spectate(this.room.id);
    } catch (err) {
      this.viewStatus.textContent = `No spectator view: ${(err as Error).message}`;
      return;
    }
    if (this.gone) return;
    const url = new URL(link.wsUrl, location.href);
    const query: Record<string, string> = {};
    url.searchParams.forEach((v, k) => (query[k] = v));
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const conn = new Connection({
      url: `${scheme}://${location.host}${url.pathname}`,
      name: 'monitor',
      query,
      onStatus: (s) => {
        this.viewStatus.textContent = s.state === 'connected' ? 'watching (not a member)' : s.text;
      },
      onWelcome: (w) => {
        const width = typeof w.options.width === 'number' ? w.options.width : 1000;
        const height = typeof w.options.height === 'number' ? w.options.height : 600;
        scene.setTickRate(w.tickRate);
        scene.setWorld(width, height);
      },
    });
    const scene = new Scene(conn.mirror, this.room.tickRate || 20);
    scene.canvas.id = 'spectator-scene';
    this.conn = conn;
    this.scene = scene;
    replace(this.view, scene.canvas);
    scene.start((m) => (this.viewStatus.textContent = m)).catch((err: Error) => {
      this.viewStatus.textContent = `Cannot draw the scene: ${err.message}`;
    });
    conn.start();
  }

  private stopSpectating(text: string): void {
    this.conn?.stop(text || 'stopped');
    this.conn = null;
    this.scene?.destroy();
    this.scene = null;
    if (text) this.viewStatus.textContent = `Spectator view stopped: ${text}.`;
  }

  private async kick(member: number, name: string, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    try {
      await this.api.kick(this.room.id, member);
      this.say(`Kicked ${name} (#${member}).`);
      button.closest('tr')?.remove();
    } catch (err) {
      button.disabled = false;
      this.say(`Could not kick ${name}: ${(err as Error).message}`);
    }
  }

  private async closeRoom(): Promise<void> {
    if (!confirm(`Close this ${this.room.type} room? Everyone in it is disconnected.`)) return;
    try {
      await this.api.close(this.room.id);
      this.say(`Closed room ${this.room.id.slice(0, 8)}.`);
      this.closed();
    } catch (err) {
      this.say(`Could not close the room: ${(err as Error).message}`);
    }
  }
}
