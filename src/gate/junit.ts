/**
 * JUnit XML of a comparison: one <testcase> per metric × platform, so CI
 * systems list each gated number. A failing row (regression) is a <failure>;
 * a row that cannot be tested (n = 1 without a noise floor, measured on one
 * side only) is <skipped>; everything else passes. Pure.
 */
import type { Comparison, ComparisonRow } from './compare.js';
import { mdcText, neededText } from './report-table.js';

export function xmlEscape(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    // XML 1.0 forbids most control characters.
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '');
}

function fmt(x: number | null | undefined, unit = ''): string {
  if (x === null || x === undefined) return '—';
  return `${Number(x.toPrecision(5))}${unit ? ` ${unit}` : ''}`;
}

function details(r: ComparisonRow): string {
  return [
    `metric: ${r.metric} (${r.direction} is better)`,
    `platform: ${r.platform}`,
    `baseline: ${fmt(r.baseline?.center, r.unit)} (runs=${r.baseline?.runs ?? 0}, n=${r.baseline?.n ?? 0})`,
    `current: ${fmt(r.current?.center, r.unit)} (runs=${r.current?.runs ?? 0}, n=${r.current?.n ?? 0})`,
    `ratio: ${fmt(r.ratio)}${r.ratioCI ? ` (95% CI ${fmt(r.ratioCI.low)} – ${fmt(r.ratioCI.high)})` : ''}`,
    `test: ${r.test}${r.df !== null ? ` (df ${r.df})` : ''}; p: ${fmt(r.p)} (adjusted ${fmt(r.pAdjusted)})`,
    `threshold: ${(r.effectiveThreshold * 100).toFixed(1)}% (${r.thresholdSource}${r.noiseFloor !== null ? `; noise floor ${(r.noiseFloor * 100).toFixed(1)}%` : ''})`,
    r.sensitivity
      ? `minimal detectable change: ${mdcText(r)} at ${Math.round(r.sensitivity.power * 100)}% power (per-test α ${fmt(r.sensitivity.alpha)}); floor ${(r.sensitivity.floor * 100).toFixed(1)}%; to detect ${Math.round(r.sensitivity.target * 100)}%: ${neededText(r.sensitivity, r.effectiveThreshold)}`
      : 'minimal detectable change: — (not estimable)',
    `verdict: ${r.verdict}${r.note ? ` — ${r.note}` : ''}`,
  ].join('\n');
}

export function renderJUnit(comparison: Comparison, suiteName = 'vmbench compare'): string {
  const rows = comparison.rows;
  const failures = rows.filter((r) => r.fails).length;
  const skipped = rows.filter((r) => !r.fails && (r.verdict === 'not testable (n=1)' || r.verdict === 'missing')).length;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlEscape(suiteName)}" tests="${rows.length}" failures="${failures}" skipped="${skipped}">`,
    `  <testsuite name="${xmlEscape(suiteName)}" tests="${rows.length}" failures="${failures}" skipped="${skipped}" errors="0">`,
  ];
  for (const r of rows) {
    const head = `    <testcase classname="${xmlEscape(`vmbench.${r.platform}`)}" name="${xmlEscape(r.metric)}" time="0">`;
    lines.push(head);
    if (r.fails) {
      lines.push(`      <failure message="${xmlEscape(`${r.metric} on ${r.platform}: ${r.verdict}: ${r.note}`)}" type="regression">${xmlEscape(details(r))}</failure>`);
    } else if (r.verdict === 'not testable (n=1)' || r.verdict === 'missing') {
      lines.push(`      <skipped message="${xmlEscape(`${r.verdict}: ${r.note}`)}"/>`);
    }
    lines.push(`      <system-out>${xmlEscape(details(r))}</system-out>`);
    lines.push('    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}
