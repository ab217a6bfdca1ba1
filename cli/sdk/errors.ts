/** Errors of the TypeScript SDK: the server's code and message, or a connection failure. */

export class TmApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'TmApiError';
  }
}

export class TmConnectionError extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(`cannot reach the control plane at ${url} (is it running? try \`npm start\`)`, { cause });
    this.name = 'TmConnectionError';
  }
}
