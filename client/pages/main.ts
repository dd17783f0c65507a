// Entry point of the browser client: routes on location.pathname.
//   /             lobby and create-room form
//   /r/{id}       a live room
//   /replay/{id}  a recording's replay
//   /replays      the recordings list
//   /admin        the monitor (admin token)
import './style.css';
import { homePage } from './home';
import { messagePage } from './message-page';
import { adminPage } from './admin';
import { replayPage } from './replay';
import { replaysPage } from './replays';
import { roomPage } from './room';

function route(root: HTMLElement): void {
  const path = location.pathname;
  const room = /^\/r\/([^/]+)\/?$/.exec(path);
  const replay = /^\/replay\/([^/]+)\/?$/.exec(path);
  if (path === '/' || path === '/index.html') homePage(root);
  else if (room) void roomPage(root, decodeURIComponent(room[1]!));
  else if (replay) void replayPage(root, decodeURIComponent(replay[1]!));
  else if (path === '/replays' || path === '/replays/') replaysPage(root);
  else if (path === '/admin' || path === '/admin/') adminPage(root);
  else messagePage(root, 'Page not found', `Nothing lives at ${path}.`);
}

route(document.getElementById('app') ?? document.body);
