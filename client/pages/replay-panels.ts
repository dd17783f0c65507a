// The replay page's side panels: who was in the room and what had been said,
// as of the tick being shown. Both redraw only when their content changed.
import type { Member } from '@tickroom/client';
import type { LogEntry, ReplayHistory } from '@tickroom/client';
import { h, replace } from './dom';
import { clockText } from './recordings-api';

const MAX_LINES = 200;

export class ReplayMembers {
  readonly element: HTMLElement;
  private readonly list = h('ul', { id: 'members' });
  private version = -1;

  constructor(private readonly history: ReplayHistory) {
    this.element = h('section', { class: 'panel members-panel' }, h('h2', {}, 'People'), this.list);
  }

  show(tick: number): void {
    const { version, members } = this.history.membersAt(tick);
    if (version === this.version) return;
    this.version = version;
    replace(this.list, ...members.map(memberItem));
    if (members.length === 0) this.list.appendChild(h('li', { class: 'empty' }, 'nobody yet'));
  }
}

function memberItem(m: Member): HTMLElement {
  return h(
    'li',
    { class: m.online ? 'online' : 'offline', 'data-member': m.member },
    h('span', { class: 'dot', 'aria-hidden': 'true' }),
    m.name,
    h('span', { class: 'presence' }, m.online ? 'online' : 'offline'),
  );
}

export class ReplayChat {
  readonly element: HTMLElement;
  private readonly log = h('ol', { id: 'chat-log', 'aria-live': 'off' });
  private count = -1;

  constructor(
    private readonly history: ReplayHistory,
    private readonly secondsAt: (tick: number) => number,
  ) {
    this.element = h('section', { class: 'panel chat-panel' }, h('h2', {}, 'Chat'), this.log);
  }

  show(tick: number): void {
    const n = this.history.logCount(tick);
    if (n === this.count) return;
    const from = Math.max(0, n - MAX_LINES);
    if (n > this.count && this.count >= 0 && n - this.count < MAX_LINES) {
      // Played forward: append the new lines only.
      for (let i = this.count; i < n; i++) this.log.appendChild(this.line(this.history.log[i]!));
      while (this.log.childElementCount > MAX_LINES) this.log.firstElementChild!.remove();
    } else {
      replace(this.log, ...this.history.log.slice(from, n).map((e) => this.line(e)));
    }
    this.count = n;
    this.log.scrollTop = this.log.scrollHeight;
  }

  private line(e: LogEntry): HTMLElement {
    const at = h('span', { class: 'at' }, clockText(this.secondsAt(e.tick)));
    if (e.kind === 'chat') {
      const c = e.chat;
      const direct = c.to !== undefined;
      const who = direct ? `${c.name} → ${this.history.nameOf(c.to!)}` : c.name;
      return h('li', { class: direct ? 'dm' : '', 'data-tick': e.tick }, at, ' ', h('b', {}, who), ' ', c.text);
    }
    const what = e.kind === 'join' ? 'joined' : e.reason && e.reason !== 'left' ? `left (${e.reason})` : 'left';
    return h('li', { class: 'notice', 'data-tick': e.tick }, at, ` ${e.name} ${what}`);
  }
}
