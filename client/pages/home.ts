// Home `/`: the public lobby (refreshed every 2 s) and the create-room form,
// which ends with a share link to copy and a link into the new room.
import { ApiError, ageText, createRoom, listRooms, listTypes, type RoomInfo, type RoomType } from './api';
import { copyText, h, replace } from './dom';

const REFRESH_MS = 2000;

export function homePage(root: HTMLElement): void {
  document.title = 'tickroom';
  const lobbyBody = h('tbody');
  const lobbyNote = h('p', { class: 'note', id: 'lobby-note' }, 'loading rooms…');
  const form = createForm();
  replace(
    root,
    h(
      'main',
      { class: 'home' },
      h('h1', {}, 'tickroom'),
      h('p', { class: 'lede' }, 'Shared rooms in the browser: start one, send the link, play or draw together.'),
      h('p', { class: 'lede' }, 'Every room is recorded: ', h('a', { href: '/replays', id: 'recordings-link' }, 'watch the recordings'), '.'),
      form,
      h(
        'section',
        { class: 'card' },
        h('h2', {}, 'Public rooms'),
        h('table', { id: 'lobby' }, h('thead', {}, h('tr', {}, h('th', {}, 'type'), h('th', {}, 'players'), h('th', {}, 'age'), h('th', {}))), lobbyBody),
        lobbyNote,
      ),
    ),
  );

  const refresh = async (): Promise<void> => {
    try {
      const rooms = await listRooms();
      renderLobby(lobbyBody, rooms);
      lobbyNote.textContent = rooms.length === 0 ? 'No public rooms right now. Create one above.' : '';
    } catch (err) {
      lobbyNote.textContent = `Could not load rooms: ${(err as Error).message}`;
    }
  };
  void refresh();
  // setTimeout chain rather than setInterval so a slow request never overlaps the next.
  const loop = (): void => {
    setTimeout(() => void refresh().finally(loop), REFRESH_MS);
  };
  loop();
}

/** Live rooms first (fullest first), then sleeping ones (most recently active first, as the server sends them). */
function renderLobby(body: HTMLElement, rooms: RoomInfo[]): void {
  const asleep = (r: RoomInfo): boolean => r.state === 'dormant';
  const live = rooms.filter((r) => !asleep(r)).sort((a, b) => b.players - a.players || a.id.localeCompare(b.id));
  const rows = [...live, ...rooms.filter(asleep)].map((r) =>
    h(
      'tr',
      { 'data-room': r.id, 'data-state': asleep(r) ? 'dormant' : 'live', class: asleep(r) ? 'asleep' : '' },
      h('td', {}, r.type),
      h('td', {}, asleep(r) ? h('span', { class: 'sleeping', title: 'Nobody is in it: opening it wakes it as it was' }, 'asleep') : `${r.players}/${r.maxPlayers}`),
      h('td', {}, ageText(r.createdAt)),
      h('td', {}, !asleep(r) && r.players >= r.maxPlayers ? 'full' : h('a', { href: `/r/${encodeURIComponent(r.id)}` }, asleep(r) ? 'open' : 'join')),
    ),
  );
  replace(body, ...rows);
}

function createForm(): HTMLElement {
  const typeSelect = h('select', { id: 'room-type', name: 'type', required: true }, h('option', { value: '' }, 'loading…'));
  const publicRadio = h('input', { type: 'radio', name: 'visibility', id: 'visibility-public', value: 'public', checked: true });
  const unlistedRadio = h('input', { type: 'radio', name: 'visibility', id: 'visibility-unlisted', value: 'unlisted' });
  const maxPlayers = h('input', { type: 'number', id: 'max-players', name: 'maxPlayers', min: 1, max: 256, value: 16, required: true });
  const button = h('button', { type: 'submit', id: 'create-button', disabled: true }, 'Create room');
  const message = h('p', { class: 'note', id: 'create-message', role: 'status' });
  const result = h('div', { id: 'create-result' });

  let types: RoomType[] = [];
  listTypes()
    .then((list) => {
      types = list;
      replace(
        typeSelect,
        ...list.map((t) => h('option', { value: t.name }, `${t.name} (${t.tickRate} Hz)`)),
      );
      button.disabled = list.length === 0;
      fitMaxPlayers();
      if (list.length === 0) message.textContent = 'This server offers no room types.';
    })
    .catch((err: Error) => {
      replace(typeSelect, h('option', { value: '' }, 'unavailable'));
      message.textContent = `Could not load room types: ${err.message}`;
    });

  // The server refuses more players than the type allows: bound the input by it.
  const fitMaxPlayers = (): void => {
    const limit = types.find((t) => t.name === typeSelect.value)?.maxPlayers;
    if (limit === undefined) return;
    maxPlayers.max = String(limit);
    if (Number(maxPlayers.value) > limit) maxPlayers.value = String(limit);
  };
  typeSelect.addEventListener('change', fitMaxPlayers);

  const form = h(
    'form',
    { class: 'card', id: 'create-form' },
    h('h2', {}, 'Create a room'),
    h('label', {}, 'Type ', typeSelect),
    h('fieldset', {}, h('legend', {}, 'Visibility'), h('label', {}, publicRadio, ' public (listed below)'), h('label', {}, unlistedRadio, ' unlisted (link only)')),
    h('label', {}, 'Max players ', maxPlayers),
    button,
    message,
    result,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const type = typeSelect.value;
    if (!types.some((t) => t.name === type)) return;
    button.disabled = true;
    message.textContent = 'creating…';
    createRoom({
      type,
      options: {},
      visibility: unlistedRadio.checked ? 'unlisted' : 'public',
      maxPlayers: Math.max(1, Math.floor(Number(maxPlayers.value) || 16)),
    })
      .then((room) => {
        message.textContent = '';
        replace(result, shareBox(new URL(room.shareUrl, location.origin).href, room.shareUrl));
      })
      .catch((err: Error) => {
        message.textContent = err instanceof ApiError ? `Could not create the room: ${err.message}` : String(err);
      })
      .finally(() => {
        button.disabled = false;
      });
  });
  return form;
}

/** How long the copy button says it copied. */
const COPIED_MS = 2500;

/**
 * The share link of a new room with a copy button and a way in. The link is
 * a read-only textarea that wraps and grows to fit, so that the whole
 * address is always readable, however narrow the window.
 */
export function shareBox(absolute: string, path: string): HTMLElement {
  const link = h('textarea', { id: 'share-link', readonly: true, rows: 1, spellcheck: 'false', 'aria-label': 'share link' });
  link.value = absolute;
  link.addEventListener('focus', () => link.select());
  const copied = h('span', { class: 'note', role: 'status', id: 'copy-status' });
  const copy = h('button', { type: 'button', id: 'copy-link' }, 'Copy link');
  let reset: ReturnType<typeof setTimeout> | null = null;
  copy.addEventListener('click', () => {
    void copyText(absolute, link).then((ok) => {
      copy.textContent = ok ? 'Copied ✓' : 'Copy link';
      copied.textContent = ok ? 'The link is on your clipboard.' : 'Press Ctrl+C to copy the selected link.';
      if (reset !== null) clearTimeout(reset);
      reset = setTimeout(() => {
        copy.textContent = 'Copy link';
        copied.textContent = '';
      }, COPIED_MS);
    });
  });
  const box = h(
    'div',
    { class: 'share' },
    h('p', {}, 'Room created. Send this link to the others:'),
    link,
    h('div', { class: 'row' }, copy, copied),
    h('a', { href: path, id: 'open-room', class: 'button' }, 'Open the room'),
  );
  fitHeight(link);
  return box;
}

/**
 * Keeps a textarea as tall as its wrapped text, from when it is in the page
 * and whenever the window's width changes; it stops once the textarea has
 * left the page.
 */
function fitHeight(area: HTMLTextAreaElement): void {
  const fit = (): void => {
    if (!area.isConnected) {
      removeEventListener('resize', fit);
      return;
    }
    const borders = area.offsetHeight - area.clientHeight;
    area.style.height = 'auto';
    area.style.height = `${area.scrollHeight + borders}px`;
  };
  requestAnimationFrame(fit);
  addEventListener('resize', fit);
}
