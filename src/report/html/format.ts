/** Text for the page: HTML escaping, JSON for a script element, and numbers through the lab's one formatter. */
import { formatNumber, type Unit } from '../../common/format.js';

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
export const esc = escapeHtml;

/** JSON for a <script> element: `<` escaped so no string can close the element. */
export function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** A measured value on the page: seconds as ms or s, big plain numbers shortened (15.3k). */
export function formatValue(v: number | null, unit: Unit = 'plain'): string {
  return formatNumber(v, { unit, compact: true });
}

/** An x-axis tick: seconds on short runs, m:ss on long ones. */
export function formatTick(s: number, span: number): string {
  // Up to 150 s at 0.1 s: four significant digits keep the tenth.
  if (span <= 150) return `${formatNumber(Math.round(s * 10) / 10, { digits: 4 })}s`;
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.round(s - m * 60)).padStart(2, '0')}`;
}
