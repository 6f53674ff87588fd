/**
 * Locale-independent number formatting for reports (toFixed / toPrecision
 * never use the locale), so a re-render is byte-identical anywhere.
 */
import { formatMs, formatP, formatValue } from './terminal-table.js';

export { formatMs, formatValue };

/** A figure with its unit; "—" for none. */
export function fmt(v: number | null | undefined, unit: string): string {
  if (v == null || !Number.isFinite(v)) return '—';
  return unit === 'count' ? String(Number(v.toPrecision(6))) : formatValue(v, unit);
}

/** A ratio like 78.26×. */
export function fmtRatio(r: number | null | undefined): string {
  return r == null || !Number.isFinite(r) ? '—' : `${r >= 100 ? r.toFixed(0) : r.toFixed(2)}×`;
}

/** A p-value as the terminal table writes it; "—" for none. */
export function fmtP(p: number | null | undefined): string {
  return p == null ? '—' : formatP(p);
}

/** Rounds to 6 significant digits, so chart data and exported figures stay small and stable. */
export function round(v: number): number {
  return Number(v.toPrecision(6));
}
