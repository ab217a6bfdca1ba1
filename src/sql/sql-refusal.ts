/** Why SQL text cannot become an aggregate job: the clause at fault, what is wrong, and where. */

/** 1-based line and column in the SQL text. */
export interface SqlPosition {
  line: number;
  column: number;
}

export class SqlRefusal extends Error {
  constructor(
    readonly clause: string,
    reason: string,
    readonly at?: SqlPosition,
  ) {
    super(`${clause}: ${reason}${at ? ` (line ${at.line}, column ${at.column})` : ''}`);
    this.name = 'SqlRefusal';
  }
}
