/**
 * What every figure module returns, and how the table is printed. A figure is
 * always reported next to its baseline measured in the same run, because on a
 * noisy machine only the ratio means something from one run to the next.
 */

export interface BenchOptions {
  /** Fewer iterations, for development: the figures are indicative only. */
  quick: boolean;
}

export interface Row {
  figure: string;
  value: string;
  baseline: string;
  /** value / baseline (or as the goal defines it); undefined where a ratio means nothing. */
  ratio?: number;
  goal: string;
  /** null: informational, no goal applies. */
  met: boolean | null;
  /** The figure could not be measured (its error's first line is the value). */
  failed?: true;
}

export interface FigureResult {
  /** Key in bench-results.json. */
  name: string;
  rows: Row[];
  /** Raw numbers for bench-results.json. */
  raw: unknown;
}

/** The one row of a figure that threw: its key and its error's first line, in place of its rows. */
export function failedRow(key: string, error: unknown): Row {
  return { figure: key, value: `failed: ${firstLine(error)}`, baseline: '—', goal: '—', met: false, failed: true };
}

export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n', 1)[0].trim() || (error instanceof Error ? error.name : 'unknown error');
}

export function formatRatio(ratio: number | undefined): string {
  if (ratio === undefined || !Number.isFinite(ratio)) return '—';
  // Two significant digits below 0.01×, where two decimals would print 0.00×.
  return ratio > 0 && ratio < 0.01 ? `${ratio.toPrecision(2)}×` : `${ratio.toFixed(2)}×`;
}

export function ms(value: number): string {
  return value < 1 ? `${(value * 1000).toFixed(0)} µs` : `${value.toFixed(2)} ms`;
}

/** KB of 1,024 bytes, as the build's size report prints them. */
export function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(2)} KB`;
}

export function percent(part: number, whole: number): string {
  return whole === 0 ? '—' : `${((100 * part) / whole).toFixed(1)}%`;
}

/** The table, as plain text with aligned columns. */
export function formatTable(rows: readonly Row[]): string {
  const header = ['figure', 'value', 'baseline', 'ratio', 'goal', 'met?'];
  const cells = rows.map((row) => [
    row.figure,
    row.value,
    row.baseline,
    formatRatio(row.ratio),
    row.goal,
    row.failed ? 'FAILED' : row.met === null ? '—' : row.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((line) => line[column].length)));
  const line = (values: readonly string[]) =>
    values
      .map((value, column) => value.padEnd(widths[column]))
      .join(' | ')
      .trimEnd();
  return [line(header), widths.map((width) => '-'.repeat(width)).join('-|-'), ...cells.map(line)].join('\n');
}

/** The same table as Markdown, for the README. */
export function formatMarkdown(rows: readonly Row[]): string {
  const escape = (text: string) => text.replaceAll('|', '\\|');
  const lines = ['| figure | value | baseline (same run) | ratio | goal | met? |', '|---|---|---|---|---|---|'];
  for (const row of rows) {
    const met = row.failed ? '**failed**' : row.met === null ? '—' : row.met ? 'yes' : '**no**';
    // A row that details the one above (indented in the text table) starts with ↳.
    const figure = row.figure.startsWith('  ') ? `↳ ${row.figure.trimStart()}` : row.figure;
    lines.push(
      `| ${[figure, row.value, row.baseline, formatRatio(row.ratio), row.goal].map(escape).join(' | ')} | ${met} |`,
    );
  }
  return lines.join('\n');
}
