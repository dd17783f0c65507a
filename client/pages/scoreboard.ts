// The scoreboard: every entity whose kind has both a `score` and a `name`
// field (the arena's avatars), highest score first, kept up to date from
// the mirror. Any room type whose schema has such a kind gets one.
import type { Entity, Mirror, Schema } from '@tickroom/client';
import { h, replace } from './dom';

/** Whether a schema has a kind the scoreboard shows. */
export function hasScores(schema: Schema): boolean {
  for (const k of schema.kinds.values()) if (k.byName.has('score') && k.byName.has('name')) return true;
  return false;
}

export class Scoreboard {
  readonly element: HTMLElement;
  private readonly list: HTMLElement;
  private readonly unsubscribe: () => void;
  /** What the list shows now, so that a tick that changed no score touches no DOM. */
  private shown = '';
  private self = -1;

  constructor(private readonly mirror: Mirror) {
    this.list = h('ol', { id: 'scores' });
    this.element = h('section', { class: 'panel scores-panel', id: 'scoreboard' }, h('h2', {}, 'Scores'), this.list);
    this.unsubscribe = mirror.subscribe(() => this.render());
  }

  /** Marks the own entity (-1: none, as for a spectator). */
  setSelf(entity: number): void {
    this.self = entity;
    this.shown = '';
    this.render();
  }

  destroy(): void {
    this.unsubscribe();
  }

  private render(): void {
    const rows: { id: number; name: string; score: number }[] = [];
    for (const e of this.mirror.entities.values()) {
      if (scored(e)) rows.push({ id: e.id, name: e.str('name', `#${e.id}`), score: e.num('score', 0) });
    }
    // Ties keep a stable order by id, so equal scores do not swap places.
    rows.sort((a, b) => b.score - a.score || a.id - b.id);
    const key = rows.map((r) => `${r.id}:${r.score}:${r.name}`).join('|');
    if (key === this.shown) return;
    this.shown = key;
    if (rows.length === 0) {
      replace(this.list, h('li', { class: 'empty' }, 'nobody yet'));
      return;
    }
    replace(
      this.list,
      ...rows.map((r) =>
        h(
          'li',
          { 'data-entity': r.id, class: r.id === this.self ? 'self' : undefined },
          h('span', { class: 'name' }, r.id === this.self ? `${r.name} (you)` : r.name),
          h('span', { class: 'score' }, String(r.score)),
        ),
      ),
    );
  }
}

function scored(e: Entity): boolean {
  return e.kind.byName.has('score') && e.kind.byName.has('name');
}
