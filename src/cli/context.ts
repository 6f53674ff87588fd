/** Configuration every subcommand receives explicitly from main (no module globals). */
export interface CliContext {
  projectDir: string;
  cacheDir: string;
  version: string;
}
