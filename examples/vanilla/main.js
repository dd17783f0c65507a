// Joins the room of a share link and draws every entity that has x and y
// as a dot on a 2D canvas; arrow keys send arena inputs ({dx, dy}).
import { Connection, roomSocketUrl } from '@tickroom/client';

const $ = (id) => document.getElementById(id);
const canvas = $('view');
const ctx = canvas.getContext('2d');
let conn = null;

function join(link) {
  const u = new URL(link);
  const id = u.pathname.split('/').pop();
  conn?.stop();
  conn = new Connection({
    url: roomSocketUrl(u.origin, id),
    name: 'vanilla',
    onStatus: (s) => ($('status').textContent = s.text),
  });
  conn.mirror.subscribe(draw);
  conn.start();
}

function draw(mirror) {
  const w = Number(conn.welcome?.options.width ?? 1000);
  const h = Number(conn.welcome?.options.height ?? 600);
  const scale = Math.min(canvas.width / w, canvas.height / h);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  for (const e of mirror.entities.values()) {
    const x = e.get('x');
    const y = e.get('y');
    if (typeof x !== 'number' || typeof y !== 'number') continue;
    const mine = e.id === conn.welcome?.entity;
    ctx.fillStyle = `#${e.num('color', 0x888888).toString(16).padStart(6, '0')}`;
    ctx.beginPath();
    ctx.arc(x * scale, y * scale, mine ? 9 : 6, 0, Math.PI * 2);
    ctx.fill();
    if (mine) $('me').textContent = `${x.toFixed(0)},${y.toFixed(0)}`;
  }
  $('tick').textContent = String(mirror.tick);
}

const DIRS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
const keys = new Set();
function steer(ev) {
  if (!DIRS[ev.key] || !conn) return;
  ev.preventDefault();
  if (ev.type === 'keydown') keys.add(ev.key);
  else keys.delete(ev.key);
  let dx = 0;
  let dy = 0;
  for (const k of keys) {
    dx += DIRS[k][0];
    dy += DIRS[k][1];
  }
  conn.sendInput({ dx, dy });
}
addEventListener('keydown', steer);
addEventListener('keyup', steer);

$('join').addEventListener('submit', (ev) => {
  ev.preventDefault();
  join($('link').value);
});
const given = new URLSearchParams(location.search).get('join');
if (given) {
  $('link').value = given;
  join(given);
}
