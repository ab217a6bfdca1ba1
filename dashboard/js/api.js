// @ts-check
/**
 * The dashboard's only way to the control plane: the /v1 and /api routes with the token in the
 * Authorization header (never in a URL), so the API decides what this token may see.
 */

const TOKEN_KEY = 'tm-token';

/** The token of this browser tab, or null before login. */
export const token = () => sessionStorage.getItem(TOKEN_KEY);
/** @param {string | null} value */
export function setToken(value) {
  if (value === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, value);
}

/** An API error with its status and the error body's message. */
export class ApiError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** @type {(error: ApiError) => void} */
let onUnauthorized = () => {};
/** Who hears of a 401: the token is wrong or was revoked. @param {(error: ApiError) => void} f */
export const whenUnauthorized = (f) => (onUnauthorized = f);

/** @param {RequestInit} [init] @returns {RequestInit} */
function withAuth(init = {}) {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token() ?? ''}`);
  return { ...init, headers };
}

/** Throws the API's error for a reply that is not 2xx. @param {Response} response */
async function check(response) {
  if (response.ok) return response;
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (body?.error?.message) message = body.error.message;
  } catch {
    // Not JSON: the status line says it.
  }
  const error = new ApiError(response.status, message);
  if (response.status === 401) onUnauthorized(error);
  throw error;
}

/** A raw reply (for streams and bytes), checked. @param {string} path @param {RequestInit} [init] */
export async function request(path, init) {
  return check(await fetch(path, withAuth(init)));
}

/**
 * A JSON reply.
 * @template T
 * @param {string} path
 * @param {RequestInit} [init]
 * @returns {Promise<T>}
 */
export async function get(path, init) {
  return (await request(path, init)).json();
}

/** @template T @param {string} path @returns {Promise<T>} */
export const post = (path) => get(path, { method: 'POST' });

/**
 * Reads a streamed body line by line until it ends or `signal` aborts.
 * @param {Response} response
 * @param {(line: string) => void} onLine
 */
export async function readLines(response, onLine) {
  const body = response.body;
  if (!body) return;
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let rest = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    rest += value;
    const lines = rest.split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  }
  if (rest) onLine(rest);
}

/**
 * Reads a server-sent-event stream (fetch, since EventSource cannot send the token): each event's
 * name and data.
 * @param {Response} response
 * @param {(event: string, data: string) => void} onEvent
 */
export async function readEvents(response, onEvent) {
  let event = 'message';
  /** @type {string[]} */
  let data = [];
  await readLines(response, (line) => {
    if (line === '') {
      if (data.length > 0) onEvent(event, data.join('\n'));
      event = 'message';
      data = [];
    } else if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  });
}
