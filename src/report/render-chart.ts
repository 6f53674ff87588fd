import { BenchError } from '../errors.js';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/**
 * Renders a Vega-Lite spec to SVG in Node, with no browser and no network: the
 * spec must carry its data inline (`data.values`). Vega's default loader would
 * fetch URLs; a loader that refuses every load keeps a renderer from ever
 * reaching the network.
 */
export async function renderVegaLiteSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = compile(spec).spec;
  const offline = vega.loader();
  offline.load = async (uri: string) => {
    throw new BenchError('internal', `chart data must be inline; refusing to load ${uri}`);
  };
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', loader: offline, logLevel: vega.Warn });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** SVG → PNG with resvg (prebuilt binary from the npm registry; no system fonts required beyond what is there). */
export function svgToPng(svg: string, scale = 2): Buffer {
  const r = new Resvg(svg, { fitTo: { mode: 'zoom', value: scale }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } });
  return r.render().asPng();
}
