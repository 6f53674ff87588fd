import type { Series } from '../series.js';

/** A Vega-Lite spec as plain JSON (data inline), ready to save as .vl.json. */
export type VlSpec = Record<string, unknown>;

/** One chart of a report. */
export interface Chart {
  /** File stem: charts/<id>.vl.json / .svg / .png. */
  id: string;
  title: string;
  /** One or two sentences: what is drawn and how to read it (used in the HTML report). */
  caption: string;
  spec: VlSpec;
}

export const VL_SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** The shared frame of every chart: schema, title with subtitle lines, fonts that exist offline. */
export function frame(title: string, subtitle: string[]): VlSpec {
  return {
    $schema: VL_SCHEMA,
    title: { text: title, subtitle, anchor: 'start', fontSize: 15, subtitleFontSize: 11, subtitleColor: '#444' },
    background: 'white',
    padding: 12,
    config: {
      font: 'DejaVu Sans',
      axis: { labelFontSize: 11, titleFontSize: 12, labelLimit: 1000 },
      legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 1000, orient: 'bottom', direction: 'vertical' },
      header: { labelFontSize: 11 },
    },
  };
}

/** The y encoding of a chart with one labelled row per substrate, rows in the given order. */
export function rowAxis(order: readonly string[]): VlSpec {
  return { field: 'row', type: 'nominal', title: null, sort: order, axis: { labelFontWeight: 'bold' } };
}

/** A layer of text labels right of each row's bar or range, each at its `xField` value. */
export function rowLabelLayer(values: ReadonlyArray<Record<string, string | number>>, y: VlSpec, xField: string, dx: number): VlSpec {
  return {
    data: { values },
    mark: { type: 'text', align: 'left', dx, fontSize: 11 },
    encoding: { x: { field: xField, type: 'quantitative' }, y, text: { field: 'label' } },
  };
}

/** Colour encoding by series (consistent colours across every chart of a report). */
export function seriesColor(series: readonly Series[], title = 'substrate'): VlSpec {
  return {
    field: 'series',
    type: 'nominal',
    title,
    scale: { domain: series.map((s) => s.label), range: series.map((s) => s.color) },
    sort: series.map((s) => s.label),
  };
}

