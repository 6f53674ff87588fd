/** What a run reports while it goes; the CLI renders these (TTY bar or plain lines). */
export type RunEvent =
  | { type: 'phase'; message: string }
  | { type: 'build'; step: string; status: 'start' | 'done' | 'cached'; detail?: string; ms?: number }
  | { type: 'step'; index: number; total: number; metric: string; platform: string; rep: number; warmup: boolean }
  | { type: 'sample'; metric: string; platform: string; value: number; unit: string; warmup: boolean }
  | { type: 'warning'; message: string }
  | { type: 'info'; message: string };

export type RunListener = (event: RunEvent) => void;
