/**
 * Where the bytes of dist/konpro-widget-guard.min.js come from: each byte of the minified file is
 * traced back to its source module through the source map `npm run build` writes beside it, and each
 * module is shown with its minified bytes and what it adds to the gzip (-9) and brotli (-q 11) sizes:
 * the file's compressed size less that of the file without the module's bytes. Those marginal sizes
 * add up to less than the whole (what the modules share compresses once), but they rank the modules
 * by what leaving one out would save. Not a figure of the bench; a tool for working on the size:
 *
 *     npm run build && node --import tsx test/bench/size-by-module.ts
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const FILE = fileURLToPath(new URL('../../dist/konpro-widget-guard.min.js', import.meta.url));
/** Sizes as the build's size report measures them (compressedSizes in rollup.config.mjs). */
function compressedSizes(text: string): { raw: number; gzip: number; brotli: number } {
  const bytes = Buffer.from(text);
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
    }).length,
  };
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** The source index of each character of `code`, from a version 3 source map (-1: unmapped). */
function sourceOfEachCharacter(code: string, mappings: string): Int32Array {
  const owner = new Int32Array(code.length).fill(-1);
  const lines = code.split('\n');
  let source = 0;
  let offset = 0;
  mappings.split(';').forEach((line, index) => {
    const length = lines[index]?.length ?? 0;
    let column = 0;
    let previous: { column: number; source: number } | undefined;
    const fill = (end: number) => {
      if (previous) owner.fill(previous.source, offset + previous.column, offset + end);
    };
    for (const segment of line.split(',').filter(Boolean)) {
      const fields: number[] = [];
      let value = 0;
      let shift = 0;
      for (const char of segment) {
        const digit = BASE64.indexOf(char);
        value += (digit & 31) << shift;
        if (digit & 32) {
          shift += 5;
        } else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = shift = 0;
        }
      }
      column += fields[0] ?? 0;
      fill(column);
      if (fields.length > 1) source += fields[1] ?? 0;
      previous = fields.length > 1 ? { column, source } : undefined;
    }
    fill(length);
    offset += length + 1;
  });
  return owner;
}

const code = await readFile(FILE, 'utf8');
const map = JSON.parse(await readFile(`${FILE}.map`, 'utf8')) as { sources: string[]; mappings: string };
const owner = sourceOfEachCharacter(code, map.mappings);
const whole = compressedSizes(code);
const rows = [...new Set(owner)].map((source) => {
  let rest = '';
  let raw = 0;
  for (let i = 0; i < code.length; i++) {
    if (owner[i] === source) raw += 1;
    else rest += code[i];
  }
  const without = compressedSizes(rest);
  const name = source < 0 ? '(unmapped)' : (map.sources[source] ?? '?').replace(/^(\.\.\/)+/, '');
  return { name, raw, gzip: whole.gzip - without.gzip, brotli: whole.brotli - without.brotli };
});
rows.sort((a, b) => b.gzip - a.gzip);
const column = (value: number | string) => String(value).padStart(8);
console.log(`${column('min')}${column('gzip')}${column('brotli')}  module (bytes each adds)`);
for (const row of rows) console.log(`${column(row.raw)}${column(row.gzip)}${column(row.brotli)}  ${row.name}`);
console.log(`${column(whole.raw)}${column(whole.gzip)}${column(whole.brotli)}  the whole file`);
