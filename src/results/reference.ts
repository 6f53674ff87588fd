/**
 * The reference substrate of a run: the one every other substrate's ratio is
 * taken against ("crun ÷ runc", "vm ÷ container"). A user may choose it
 * (scenario `report.reference`, `bench report --reference`); otherwise it is
 * the first Docker platform running the default OCI runtime (runc, or no
 * runtime recorded), else the first Docker platform, else the first platform.
 * Pure.
 */

export interface ReferenceCandidate {
  platform: string;
  kind: string;
  /** The OCI runtime in force, when the run recorded one (runc, crun, runsc …). */
  runtime?: string | null;
}

/** The default OCI runtime of the Docker Engine: a platform without a recorded runtime runs it. */
export const DEFAULT_RUNTIME = 'runc';

export function defaultReference(candidates: readonly ReferenceCandidate[]): string | null {
  const docker = candidates.filter((c) => c.kind === 'docker');
  const plain = docker.find((c) => c.runtime == null || c.runtime === DEFAULT_RUNTIME);
  return plain?.platform ?? docker[0]?.platform ?? candidates[0]?.platform ?? null;
}

/**
 * The chosen reference when it names one of the candidates, else the default.
 * Callers that take the choice from a user check the name first (an unknown
 * name is their input error, with the names there are).
 */
export function chooseReference(candidates: readonly ReferenceCandidate[], chosen?: string | null): string | null {
  if (chosen && candidates.some((c) => c.platform === chosen)) return chosen;
  return defaultReference(candidates);
}
