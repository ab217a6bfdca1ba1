/** The one error the kernels throw for bad queries or data: final, never worth a retry. */

export class KernelError extends Error {
  override readonly name = 'KernelError';
  /** The column the error is about, when there is one. */
  readonly column?: string;

  constructor(message: string, column?: string) {
    super(message);
    if (column !== undefined) this.column = column;
  }
}
