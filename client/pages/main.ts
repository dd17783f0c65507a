// Entry point of the browser client: routes on location.pathname.
//   /             lobby and create-room form
//   /r/{id}       a live room
//   /replay/{id}  a recording (placeholder for now)
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
  else messagePage(root, 'Page not found', `Nothing lives at ${path}.`);
}

route(document.getElementById('app') ?? document.body);
