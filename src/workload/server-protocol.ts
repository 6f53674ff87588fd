import { DEFAULT_MODEL_NAME, ENDPOINTS } from './contract.js';

/**
 * What the harness sends a workload's server, whatever server it is: where it
 * says it is ready, a request that does no inference (the network path), and
 * the run's one inference request. The built-in server is one case
 * (builtinProtocol); an image workload gets its paths from the scenario and
 * its request from a body file or from the v2 model metadata. Measurements
 * only ever use these, so nothing in them depends on which server runs.
 */
export interface HttpRequestSpec {
  method: 'GET' | 'POST';
  /** Path and query, starting with '/'. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface ServerProtocol {
  /** 'v2' when the server was checked against the Open Inference Protocol's REST surface, else 'none'. */
  protocol: 'v2' | 'none';
  /** The v2 model name, when there is one. */
  modelName: string | null;
  /** GET → 200 once the server can answer inferences. */
  readyPath: string;
  /** GET that does no inference, for the network round trip. */
  livePath: string;
  /** The run's fixed inference request: cold start, the identity proof, snapshots. */
  infer: HttpRequestSpec;
  /** The same inference as the load generator sends it (it may ask for a raw answer). */
  load: HttpRequestSpec;
}

/**
 * The built-in server: the run's fixed input as a raw float32 body (a JSON
 * answer for the identity proof; a raw one under load, as before).
 */
export function builtinProtocol(input: Buffer, modelName = DEFAULT_MODEL_NAME): ServerProtocol {
  const infer: HttpRequestSpec = {
    method: 'POST',
    path: ENDPOINTS.infer(modelName),
    headers: { 'content-type': 'application/octet-stream' },
    body: input,
  };
  return {
    protocol: 'v2',
    modelName,
    readyPath: ENDPOINTS.ready,
    livePath: ENDPOINTS.live,
    infer,
    load: { ...infer, headers: { ...infer.headers, accept: 'application/octet-stream' } },
  };
}

/** The v2 paths of a model (KServe Open Inference Protocol, REST). */
export const V2_PATHS = {
  live: ENDPOINTS.live,
  ready: ENDPOINTS.ready,
  server: '/v2',
  model: ENDPOINTS.model,
  modelReady: (name: string) => `${ENDPOINTS.model(name)}/ready`,
  infer: ENDPOINTS.infer,
} as const;
