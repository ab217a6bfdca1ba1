// @ts-check
/**
 * The dashboard (docs/dashboard.md): log in with a token, then hash routes over the /v1 API.
 * Plain ES modules served as static assets by the Worker: no framework, no build step.
 */
import { get, setToken, token, whenUnauthorized } from './api.js';
import { h } from './dom.js';
import { onLiveState, startLive, stopLive } from './live.js';
import { loginView } from './views/login.js';
import { overviewView } from './views/overview.js';
import { jobsView } from './views/jobs.js';
import { jobView } from './views/job.js';
import { pipelinesView } from './views/pipelines.js';
import { tenantsView } from './views/tenants.js';

/** @typedef {import('../../protocol/tenants.ts').WhoAmI} WhoAmI */
/** @typedef {{ who: WhoAmI; params: URLSearchParams }} Context */
/** @typedef {(main: HTMLElement, context: Context) => (() => void) | void} View */

const main = /** @type {HTMLElement} */ (document.getElementById('main'));
const nav = /** @type {HTMLElement} */ (document.getElementById('nav'));
const whoLabel = /** @type {HTMLElement} */ (document.getElementById('who'));
const live = /** @type {HTMLElement} */ (document.getElementById('live'));
const logout = /** @type {HTMLButtonElement} */ (document.getElementById('logout'));
const tenantsLink = /** @type {HTMLElement} */ (document.getElementById('nav-tenants'));

/** @type {WhoAmI | null} */
let who = null;
/** @type {(() => void) | void} */
let leave;

/** The view for a hash route. @param {string} path @returns {View} */
function route(path) {
  const job = /^\/jobs\/([^/]+)$/.exec(path)?.[1];
  if (job) return (m) => jobView(m, decodeURIComponent(job));
  if (path === '/jobs') return jobsView;
  if (path === '/pipelines') return pipelinesView;
  if (path === '/tenants') return tenantsView;
  return overviewView;
}

function render() {
  if (typeof leave === 'function') leave();
  leave = undefined;
  if (!who) return;
  const [path = '/', query = ''] = location.hash.replace(/^#/, '').split('?');
  for (const a of nav.querySelectorAll('a'))
    a.classList.toggle(
      'active',
      a.getAttribute('href') === `#${path === '' ? '/' : path.split('/').slice(0, 2).join('/')}`,
    );
  const view = route(path || '/');
  main.replaceChildren();
  leave = view(main, { who, params: new URLSearchParams(query) });
}

/** @param {string} message */
function showLogin(message) {
  if (typeof leave === 'function') leave();
  leave = undefined;
  who = null;
  stopLive();
  setToken(null);
  nav.hidden = true;
  live.hidden = true;
  logout.hidden = true;
  whoLabel.textContent = '';
  main.replaceChildren();
  loginView(main, message, tryToken);
}

/** Checks a token with GET /v1/whoami and opens the dashboard with it. @param {string} value */
async function tryToken(value) {
  setToken(value);
  try {
    who = await get('/v1/whoami');
  } catch (error) {
    const status = /** @type {{ status?: number }} */ (error).status;
    showLogin(
      status === 401
        ? 'That token was refused (401 Unauthorized). Check it and try again.'
        : `Could not reach the control plane: ${error instanceof Error ? error.message : error}`,
    );
    return;
  }
  if (!who) return;
  nav.hidden = false;
  logout.hidden = false;
  live.hidden = false;
  tenantsLink.hidden = who.kind !== 'admin';
  whoLabel.textContent = who.kind === 'admin' ? 'admin' : `tenant ${who.tenantName}`;
  void startLive();
  render();
}

whenUnauthorized(() => {
  if (who) showLogin('The control plane no longer accepts this token (401). Log in again.');
});
onLiveState((state, why) => {
  live.className = `live ${state}`;
  live.textContent =
    state === 'on'
      ? 'live'
      : state === 'off'
        ? `connection lost, reconnecting… ${why}`
        : state === 'paused'
          ? 'paused while the tab is hidden'
          : 'connecting…';
  live.title = why;
});
logout.addEventListener('click', () => showLogin(''));
addEventListener('hashchange', render);

const saved = token();
if (saved) void tryToken(saved);
else showLogin('');
