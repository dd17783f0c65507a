// Asks for a display name before joining; remembers it in localStorage so the
// next room starts with it filled in.
import { h, replace } from './dom';

const KEY = 'tickroom.name';
const MAX_NAME = 32;

export function rememberedName(): string {
  try {
    return localStorage.getItem(KEY) ?? '';
  } catch {
    return ''; // storage disabled (privacy mode): just ask every time
  }
}

export function promptName(root: HTMLElement, roomLabel: string): Promise<string> {
  return new Promise((resolve) => {
    const input = h('input', { type: 'text', id: 'name-input', maxlength: MAX_NAME, required: true, autocomplete: 'nickname', value: rememberedName() });
    const form = h(
      'form',
      { class: 'card name-prompt', id: 'name-form' },
      h('h1', {}, `Join ${roomLabel}`),
      h('label', {}, 'Your name ', input),
      h('button', { type: 'submit', id: 'join-button' }, 'Join'),
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const name = input.value.trim().slice(0, MAX_NAME);
      if (name === '') return;
      try {
        localStorage.setItem(KEY, name);
      } catch {
        // Not remembered; joining still works.
      }
      resolve(name);
    });
    replace(root, h('main', { class: 'center' }, form));
    input.focus();
    input.select();
  });
}
