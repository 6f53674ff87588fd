import cliProgress from 'cli-progress';
import pc from 'picocolors';
import type { RunEvent, RunListener } from '../runner/events.js';
import { formatMs, formatValue } from '../report/terminal-table.js';
import { paint } from './output.js';

function line(s: string): void {
  process.stderr.write(s + '\n');
}

function describe(e: Extract<RunEvent, { type: 'sample' }>): string {
  const v = formatValue(e.value, e.unit);
  return `${e.metric} ${e.platform}: ${v}${e.warmup ? ' (warmup, not counted)' : ''}`;
}

/**
 * Progress on stderr: a live bar on an interactive terminal, plain timestamped
 * lines in CI, in pipes and with NO_COLOR (k6/hyperfine style). stdout stays
 * for results.
 */
export function progressListener(interactive = Boolean(process.stderr.isTTY) && !process.env.CI && !process.env.NO_COLOR): {
  listener: RunListener;
  stop: () => void;
} {
  if (!interactive) {
    const t0 = performance.now();
    const stamp = () => `[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)}s]`;
    return {
      listener: (e) => {
        switch (e.type) {
          case 'phase': return line(`${stamp()} ${e.message}`);
          case 'build':
            if (e.status !== 'start') line(`${stamp()} build ${e.step}: ${e.status}${e.ms !== undefined ? ` in ${formatMs(e.ms)}` : ''}${e.detail ? ` (${e.detail})` : ''}`);
            else line(`${stamp()} build ${e.step}…${e.detail ? ` (${e.detail})` : ''}`);
            return;
          case 'step': return line(`${stamp()} [${e.index + 1}/${e.total}] ${e.metric} on ${e.platform}, rep ${e.rep}${e.warmup ? ' (warmup)' : ''}`);
          case 'sample': return line(`${stamp()}   ${describe(e)}`);
          case 'warning': return line(`${stamp()} warning: ${e.message}`);
          case 'info': return line(`${stamp()} ${e.message}`);
        }
      },
      stop: () => undefined,
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: ' {bar} {value}/{total} steps | {task}', hideCursor: true, clearOnComplete: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    listener: (e) => {
      const say = (s: string) => (started ? bar.update({ task: s }) : line(s));
      switch (e.type) {
        case 'phase': return say(e.message);
        case 'build': return say(`build ${e.step}: ${e.status === 'start' ? '…' : e.status}`);
        case 'step':
          if (!started) {
            bar.start(e.total, 0, { task: '' });
            started = true;
          }
          bar.update(e.index, { task: `${e.metric} on ${e.platform} rep ${e.rep}${e.warmup ? ' (warmup)' : ''}` });
          return;
        case 'sample':
          if (started) bar.increment(1, { task: describe(e) });
          return;
        case 'warning':
          if (started) bar.stop();
          line(paint(pc.yellow, `warning: ${e.message}`));
          if (started) bar.start(bar.getTotal(), (bar as unknown as { value: number }).value ?? 0, { task: '' });
          return;
        case 'info': return say(e.message);
      }
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}
