// Replay `/replay/{id}`: not built yet. The viewer will reuse core's Mirror
// and the Scene with a recording as the message source.
import { messagePage } from './message-page';

export function replayPage(root: HTMLElement, id: string): void {
  messagePage(root, 'Replays are coming soon', `Recording ${id} cannot be played in the browser yet.`);
}
