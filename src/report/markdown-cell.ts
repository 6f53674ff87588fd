/**
 * Text made safe for one cell of a Markdown table: a "|" would end the cell
 * and a line break the row. Pure; shared by the decision report, the exports,
 * and the gate's and history's Markdown summaries.
 */
export function markdownCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
