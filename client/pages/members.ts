// Who is in the room, online or not, kept from the welcome's member list and
// the join/leave/offline/online events. Clicking a member picks them as the
// chat's direct-message target.
import type { Member, RoomEvent } from '@tickroom/client';
import { h, replace } from './dom';

export class MemberList {
  readonly element: HTMLElement;
  private readonly list: HTMLElement;
  private members = new Map<number, Member>();
  private self = -1;

  constructor(private readonly onPick: (m: Member) => void) {
    this.list = h('ul', { id: 'members' });
    this.element = h('section', { class: 'panel members-panel' }, h('h2', {}, 'People'), this.list);
  }

  /** Replaces the list (each welcome carries everyone seated now). */
  reset(members: readonly Member[], self: number): void {
    this.self = self;
    this.members = new Map(members.map((m) => [m.member, { ...m }]));
    this.render();
  }

  get(member: number): Member | undefined {
    return this.members.get(member);
  }

  onEvent(ev: RoomEvent): void {
    switch (ev.type) {
      case 'join':
        this.members.set(ev.member, { member: ev.member, name: ev.name, entity: ev.entity, online: true });
        break;
      case 'leave':
        this.members.delete(ev.member);
        break;
      case 'offline':
      case 'online': {
        const m = this.members.get(ev.member);
        if (m) m.online = ev.type === 'online';
        break;
      }
      default:
        return;
    }
    this.render();
  }

  private render(): void {
    const items = [...this.members.values()]
      .sort((a, b) => a.member - b.member)
      .map((m) => {
        const me = m.member === this.self;
        const li = h(
          'li',
          { class: m.online ? 'online' : 'offline', 'data-member': m.member, title: me ? 'you' : `message ${m.name} privately` },
          h('span', { class: 'dot', 'aria-hidden': 'true' }),
          `${m.name}${me ? ' (you)' : ''}`,
          h('span', { class: 'presence' }, m.online ? 'online' : 'offline'),
        );
        if (!me) li.addEventListener('click', () => this.onPick(m));
        return li;
      });
    replace(this.list, ...items);
  }
}
