// @ts-check
/**
 * The live overview: one GET /v1/events stream per tab, read with fetch (EventSource cannot send
 * the token). A lost stream is shown and opened again after a pause that grows to RETRY_MAX_MS.
 * While the tab is hidden the stream is closed, as an open one keeps the Scheduler awake (and
 * billed, deployed); it opens again when the tab is shown.
 */
import { ApiError, readEvents, request } from './api.js';

/** @typedef {import('../../protocol/overview.ts').Overview} Overview */
/** @typedef {'connecting' | 'on' | 'off' | 'paused'} LiveState */

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 15_000;

/** @type {Overview | null} */
let latest = null;
/** @type {LiveState} */
let state = 'connecting';
/** @type {Set<(overview: Overview) => void>} */
const listeners = new Set();
/** @type {Set<(state: LiveState, why: string) => void>} */
const watchers = new Set();
/** @type {AbortController | null} */
let running = null;
/** Whether a stream is wanted (logged in): hiding the tab closes it, showing it opens it again. */
let wanted = false;

/** @param {LiveState} next @param {string} why */
function setState(next, why) {
  state = next;
  for (const watch of watchers) watch(next, why);
}

/** Opens the stream, and again whenever it is lost, until stopLive. */
export async function startLive() {
  stopLive();
  wanted = true;
  if (document.visibilityState === 'hidden') return pause();
  const control = new AbortController();
  running = control;
  let retry = RETRY_MIN_MS;
  while (!control.signal.aborted) {
    try {
      setState('connecting', '');
      const response = await request('/v1/events', { signal: control.signal });
      await readEvents(response, (event, data) => {
        if (event !== 'overview') return;
        latest = JSON.parse(data);
        retry = RETRY_MIN_MS;
        setState('on', '');
        for (const listen of listeners) if (latest) listen(latest);
      });
      if (!control.signal.aborted) setState('off', 'the live stream ended');
    } catch (error) {
      if (control.signal.aborted) return;
      if (error instanceof ApiError && error.status === 401) return;
      setState('off', error instanceof Error ? error.message : String(error));
    }
    await new Promise((resolve) => setTimeout(resolve, retry));
    retry = Math.min(RETRY_MAX_MS, retry * 2);
  }
}

export function stopLive() {
  wanted = false;
  running?.abort();
  running = null;
  latest = null;
}

function pause() {
  running?.abort();
  running = null;
  setState('paused', 'the tab is hidden');
}

document.addEventListener('visibilitychange', () => {
  if (!wanted) return;
  if (document.visibilityState === 'hidden') pause();
  else void startLive();
});

/** Calls `listen` with the latest overview now (if any) and with each new one; returns how to stop. @param {(overview: Overview) => void} listen */
export function onOverview(listen) {
  listeners.add(listen);
  if (latest) listen(latest);
  return () => listeners.delete(listen);
}

/** Calls `watch` with the stream's state now and on each change. @param {(state: LiveState, why: string) => void} watch */
export function onLiveState(watch) {
  watchers.add(watch);
  watch(state, '');
  return () => watchers.delete(watch);
}
