// Entry point of the browser client: routes on location.pathname.
//   /             lobby and create-room form
//   /r/{id}       a live room
//   /replay/{id}  a recording (placeholder for now)
//   /replays, /admin  placeholders until their pages exist
import './style.css';
import { homePage } from './home';
import { messagePage } from './message-page';
import { replayPage } from './replay';
import { roomPage } from './room';

function route(root: HTMLElement): void {
  const path = location.pathname;
  const room = /^\/r\/([^/]+)\/?$/.exec(path);
  const replay = /^\/replay\/([^/]+)\/?$/.exec(path);
  if (path === '/' || path === '/index.html') homePage(root);
  else if (room) void roomPage(root, decodeURIComponent(room[1]!));
  else if (replay) replayPage(root, decodeURIComponent(replay[1]!));
  else if (path === '/replays') messagePage(root, 'Replays are coming soon', 'The list of recordings is not built into this client yet.');
  else if (path === '/admin') messagePage(root, 'Admin is coming soon', 'The admin page is not built into this client yet; the admin API works.');
  else messagePage(root, 'Page not found', `Nothing lives at ${path}.`);
}

route(document.getElementById('app') ?? document.body);
