// A whole-page message (no such room, server unreachable, ...), with a way home.
import { h, replace } from './dom';

export function messagePage(root: HTMLElement, title: string, detail: string): void {
  document.title = `${title} · tickroom`;
  replace(
    root,
    h('main', { class: 'center' }, h('div', { class: 'card message', id: 'message' }, h('h1', {}, title), h('p', {}, detail), h('a', { href: '/', class: 'button' }, 'Back to the lobby'))),
  );
}
