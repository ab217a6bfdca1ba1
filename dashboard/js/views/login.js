// @ts-check
/** The login form: the token goes to sessionStorage and the Authorization header, never a URL. */
import { h } from '../dom.js';

/**
 * @param {HTMLElement} main
 * @param {string} message an error to show, or ''
 * @param {(token: string) => void} submit
 */
export function loginView(main, message, submit) {
  const input = /** @type {HTMLInputElement} */ (
    h('input', {
      type: 'password',
      name: 'token',
      id: 'token',
      autocomplete: 'off',
      required: true,
      placeholder: 'admin or tenant token',
    })
  );
  const form = h(
    'form',
    {
      class: 'login',
      onsubmit: (event) => {
        event.preventDefault();
        submit(input.value.trim());
      },
    },
    h(
      'section',
      {},
      h('h2', {}, 'Log in'),
      h(
        'p',
        { class: 'muted' },
        'An API token: the admin token, or a tenant token (tm tenant token NAME).',
      ),
      h('label', { for: 'token' }, 'Token'),
      input,
      message ? h('p', { class: 'error', role: 'alert', id: 'login-error' }, message) : null,
      h('button', { type: 'submit' }, 'Log in'),
    ),
  );
  main.append(form);
  input.focus();
}
