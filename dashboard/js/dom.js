// @ts-check
/** Small DOM helpers: elements from data (text only, never HTML strings), and formatting. */

/**
 * An element with attributes and children; strings become text nodes.
 * @param {string} tag
 * @param {Record<string, string | number | boolean | undefined | ((event: Event) => void)>} [attrs]
 * @param {(Node | string | number | null | undefined | false)[]} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'object' ? child : String(child));
  }
  return element;
}

/**
 * A select named `name` of `options` with `value` chosen; an option shows its label, '' shows
 * "any".
 * @param {string} name @param {string[]} options @param {string} value @param {Map<string, string>} [labels]
 */
export const select = (name, options, value, labels) =>
  h(
    'select',
    { name },
    ...options.map((option) =>
      h(
        'option',
        { value: option, selected: option === value },
        option === '' ? 'any' : (labels?.get(option) ?? option),
      ),
    ),
  );

/** A state as a coloured pill. @param {string} state */
export const pill = (state) =>
  h('span', { class: `state state-${state}`, 'data-state': state }, state);

/**
 * A table of rows, or `empty` when there are none.
 * @param {string[]} head
 * @param {(Node | string | number | null)[][]} rows
 * @param {string} empty
 */
export function table(head, rows, empty) {
  if (rows.length === 0) return h('p', { class: 'muted empty' }, empty);
  return h(
    'table',
    {},
    h('thead', {}, h('tr', {}, ...head.map((name) => h('th', {}, name)))),
    h('tbody', {}, ...rows.map((cells) => h('tr', {}, ...cells.map((cell) => h('td', {}, cell))))),
  );
}

/** A section with a heading. @param {string} title @param {(Node | string | null | false)[]} children */
export const section = (title, ...children) => h('section', {}, h('h2', {}, title), ...children);

/** A time as local date and time, or '–'. @param {string | null | undefined} iso */
export const time = (iso) => (iso ? new Date(iso).toLocaleString() : '–');

/** Milliseconds between two times, as seconds. @param {string | null} from @param {string | null} to */
export function took(from, to) {
  if (!from) return '–';
  const end = to ? Date.parse(to) : Date.now();
  return `${((end - Date.parse(from)) / 1000).toFixed(1)} s`;
}

/** Bytes in binary units. @param {number} bytes */
export function bytes(bytes) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** A progress bar of `done` out of `total`. @param {number} done @param {number} total */
export function bar(done, total) {
  const share = total > 0 ? Math.min(1, done / total) : 0;
  const fill = h('span');
  // Through the CSSOM: the Content-Security-Policy (dashboard/_headers) refuses style attributes.
  fill.style.width = `${(share * 100).toFixed(1)}%`;
  return h('span', { class: 'bar', title: `${done} / ${total}` }, fill);
}

/** A link inside the dashboard. @param {string} route @param {string} text */
export const link = (route, text) => h('a', { href: `#${route}` }, text);

/** An error where a user looks for the data. @param {unknown} error */
export const errorBox = (error) =>
  h('p', { class: 'error', role: 'alert' }, error instanceof Error ? error.message : String(error));
