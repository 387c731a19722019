/**
 * Every error a user can meet has a stable code, a one-line message, and a hint saying what to do.
 * Input errors exit 2 and start nothing; failures of a real part (Toxiproxy, Prometheus, a node) exit 3.
 */
export type ErrorKind = 'input' | 'part' | 'internal';

export interface ErrorData {
  /** `CHAOSLAB_…`, permanent. */
  code: string;
  kind: ErrorKind;
  /** One line: what went wrong, in general. */
  title: string;
  /** What to do, when the throw site gives no better hint. */
  hint?: string;
}

export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
  /** Dotted path of the field, e.g. `timeline[1].fault.latency`. */
  field?: string;
}

export class LabError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly title: string;
  readonly hint: string | undefined;
  readonly location: SourceLocation | undefined;
  /** For validation, several problems are reported at once. */
  readonly details: readonly LabError[];

  constructor(
    data: ErrorData,
    message: string,
    opts: { hint?: string; location?: SourceLocation; cause?: unknown; details?: readonly LabError[] } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'LabError';
    this.code = data.code;
    this.kind = data.kind;
    this.title = data.title;
    this.hint = opts.hint ?? data.hint;
    this.location = opts.location;
    this.details = opts.details ?? [];
  }

  get exitCode(): number {
    // 70 (sysexits' EX_SOFTWARE): a bug, distinct from 1 (a variant missed its expectation); see src/cli/exit-codes.ts.
    return this.kind === 'input' ? 2 : this.kind === 'part' ? 3 : 70;
  }

  /** `file:line:col field: message` — the form editors and terminals link. */
  format(): string {
    const lines: string[] = [];
    const items = this.details.length > 0 ? this.details : [this];
    if (this.details.length > 0) lines.push(this.message);
    for (const e of items) {
      const loc = e.location;
      const where = loc
        ? `${loc.file}${loc.line !== undefined ? `:${loc.line}` : ''}${loc.column !== undefined ? `:${loc.column}` : ''}${loc.field ? ` ${loc.field}` : ''}: `
        : '';
      lines.push(`${this.details.length > 0 ? '  ' : ''}${where}${e.message} [${e.code}]`);
      if (e.hint) lines.push(`${this.details.length > 0 ? '    ' : '  '}hint: ${e.hint}`);
    }
    return lines.join('\n');
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      kind: this.kind,
      message: this.message,
      hint: this.hint,
      location: this.location,
      details: this.details.map((d) => d.toJSON()),
    };
  }
}

export function isLabError(e: unknown): e is LabError {
  return e instanceof LabError;
}

/** Tells errors apart by identity, never by message text: `hasCode(e, Errors.PortTaken)`. */
export function hasCode(e: unknown, data: ErrorData): e is LabError {
  return e instanceof LabError && e.code === data.code;
}
