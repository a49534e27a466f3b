// The bench's PASS/FAIL rows (issue 13's targets): each section records its measured ratio with
// target(); targetLines() prints them all at the end of the run.

export interface TargetRow {
  readonly target: string;
  readonly measured: number;
  readonly limit: number;
  /** "max": measured must be <= limit; "min": >= limit. */
  readonly kind: "max" | "min";
  /** undefined (SKIP) when nothing could be measured (NaN). */
  readonly pass: boolean | undefined;
  readonly note: string;
}

export const targetRows: TargetRow[] = [];

export function target(name: string, measured: number, limit: number, kind: "max" | "min", note: string): void {
  const pass = Number.isFinite(measured) ? (kind === "max" ? measured <= limit : measured >= limit) : undefined;
  targetRows.push({ target: name, measured, limit, kind, pass, note });
}

/** One line per target: verdict, name, measured value, limit and note. */
export function targetLines(): string[] {
  return targetRows.map((t) => {
    const verdict = t.pass === undefined ? "SKIP" : t.pass ? "PASS" : "FAIL";
    const value = Number.isFinite(t.measured) ? t.measured.toFixed(2).padStart(7) : "      -";
    return `  ${verdict}  ${t.target.padEnd(52)} ${value} ${t.kind === "max" ? "<=" : ">="} ${String(t.limit).padEnd(4)}  ${t.note}`;
  });
}
