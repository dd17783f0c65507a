// Recordings `/replays`: every recording the server keeps, newest first, each
// linking to its replay. Refreshed every few seconds, since recordings in
// progress grow and new rooms start new ones.
import { ApiError } from './api';
import { h, replace } from './dom';
import { clockText, dateText, listRecordings, sizeText, type RecordingInfo } from './recordings-api';

const REFRESH_MS = 5000;

export function replaysPage(root: HTMLElement): void {
  document.title = 'recordings · tickroom';
  const body = h('tbody');
  const note = h('p', { class: 'note', id: 'recordings-note' }, 'loading recordings…');
  replace(
    root,
    h(
      'main',
      { class: 'home wide' },
      h('h1', {}, h('a', { href: '/', class: 'brand' }, 'tickroom'), ' recordings'),
      h('p', { class: 'lede' }, 'Every room is recorded. Open one to watch it again, scrub through it, and share the link.'),
      h(
        'section',
        { class: 'card' },
        h(
          'table',
          { id: 'recordings' },
          h('thead', {}, h('tr', {}, ...['type', 'room', 'started', 'length', 'size', 'people', ''].map((t) => h('th', {}, t)))),
          body,
        ),
        note,
      ),
    ),
  );

  const refresh = async (): Promise<void> => {
    try {
      const list = await listRecordings();
      replace(body, ...list.map(row));
      note.textContent = list.length === 0 ? 'No recordings yet: rooms are recorded while people are in them.' : '';
    } catch (err) {
      note.textContent =
        err instanceof ApiError && err.status === 404
          ? 'This server keeps no recordings.'
          : `Could not load the recordings: ${(err as Error).message}`;
    }
  };
  void refresh();
  const loop = (): void => {
    setTimeout(() => void refresh().finally(loop), REFRESH_MS);
  };
  loop();
}

function row(r: RecordingInfo): HTMLElement {
  const people = r.members ?? [];
  return h(
    'tr',
    { 'data-recording': r.id, 'data-room': r.roomId },
    h('td', {}, r.type),
    h('td', { class: 'mono', title: r.roomId }, r.roomId.slice(0, 8)),
    h('td', {}, dateText(r.startedAt)),
    h('td', {}, clockText(r.durationSeconds), r.inProgress ? h('span', { class: 'live' }, ' recording') : null),
    h('td', {}, sizeText(r.sizeBytes)),
    h('td', { class: 'people', title: people.join(', ') }, people.length === 0 ? '—' : people.length <= 3 ? people.join(', ') : `${people.slice(0, 3).join(', ')} +${people.length - 3}`),
    h('td', {}, h('a', { href: `/replay/${encodeURIComponent(r.id)}`, class: 'watch' }, 'watch')),
  );
}
