// The chat panel: recent history from the welcome, live chat events, a text
// box that sends to everyone or, once a member was picked, to that member.
import type { ChatEvent, Connection, Member } from '@tickroom/client';
import { h, replace } from './dom';

const MAX_LINES = 200;
/** Server-side limit is enforced there (`too_long`); this only stops obvious mistakes early. */
const MAX_TEXT = 500;

export class ChatPanel {
  readonly element: HTMLElement;
  private readonly log: HTMLElement;
  private readonly input: HTMLInputElement;
  private readonly target: HTMLElement;
  private to: Member | null = null;

  constructor(
    private readonly conn: Connection,
    private readonly nameOf: (member: number) => string,
  ) {
    this.log = h('ol', { id: 'chat-log', 'aria-live': 'polite' });
    this.input = h('input', { type: 'text', id: 'chat-input', maxlength: MAX_TEXT, placeholder: 'say something…', autocomplete: 'off' });
    this.target = h('div', { class: 'chat-target', id: 'chat-target' });
    const form = h('form', { id: 'chat-form' }, this.input, h('button', { type: 'submit' }, 'Send'));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.send();
    });
    this.element = h('section', { class: 'panel chat-panel' }, h('h2', {}, 'Chat'), this.log, this.target, form);
    this.setTarget(null);
  }

  /** Direct messages go to `m` until cleared; null sends to everyone. */
  setTarget(m: Member | null): void {
    this.to = m;
    if (m === null) {
      replace(this.target, 'to everyone');
      return;
    }
    const clear = h('button', { type: 'button', class: 'link', title: 'send to everyone again' }, '×');
    clear.addEventListener('click', () => this.setTarget(null));
    replace(this.target, `to ${m.name} only `, clear);
    this.input.focus();
  }

  /** Spectators read the chat but cannot write to it. */
  setReadOnly(readOnly: boolean): void {
    this.input.disabled = readOnly;
    this.input.placeholder = readOnly ? 'spectators cannot chat' : 'say something…';
  }

  reset(history: readonly ChatEvent[]): void {
    replace(this.log);
    for (const ev of history) this.add(ev);
  }

  add(ev: ChatEvent): void {
    const direct = ev.to !== undefined;
    const who = direct ? `${ev.name} → ${this.nameOf(ev.to!)}` : ev.name;
    this.log.appendChild(h('li', { class: direct ? 'dm' : '' }, h('b', {}, who), ' ', ev.text));
    while (this.log.childElementCount > MAX_LINES) this.log.firstElementChild!.remove();
    this.log.scrollTop = this.log.scrollHeight;
  }

  /** A line from the client itself (errors such as rate limiting). */
  notice(text: string): void {
    this.log.appendChild(h('li', { class: 'notice' }, text));
    this.log.scrollTop = this.log.scrollHeight;
  }

  private send(): void {
    const text = this.input.value.trim();
    if (text === '') return;
    if (!this.conn.sendChat(text, this.to?.member)) {
      this.notice('not connected: message not sent');
      return;
    }
    this.input.value = '';
  }
}
