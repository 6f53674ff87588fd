/**
 * What the controller and the host helper (agent.ts) say to each other: one
 * JSON object per line, over the stdin/stdout of one SSH channel. Requests
 * carry an id; each gets exactly one reply with that id. Bodies travel as
 * base64. Times the helper reports are on ITS monotonic clock
 * (performance.now() there); the controller maps them with the offset it
 * measured (client.ts).
 */

export const AGENT_PROTOCOL = 1;

export interface HttpRequestSpec {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  bodyB64?: string;
  timeoutMs: number;
  connectTimeoutMs?: number;
}

export interface HttpReply {
  status: number;
  bodyB64: string;
  headers: Record<string, string | string[] | undefined>;
}

/** A load target as loadgen's TargetSpec, with the body in base64. */
export interface WireTarget {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  bodyB64?: string;
}

export type AgentRequest =
  | { id: number; op: 'hello' }
  | { id: number; op: 'time' }
  | { id: number; op: 'facts' }
  | { id: number; op: 'readFile'; path: string }
  | { id: number; op: 'readdir'; path: string }
  | { id: number; op: 'freePort'; avoid: number[] }
  | { id: number; op: 'probe'; request: HttpRequestSpec }
  | { id: number; op: 'poll'; request: HttpRequestSpec; intervalMs: number; durationMs: number }
  | { id: number; op: 'closedLoop'; target: WireTarget; options: Record<string, number> }
  | { id: number; op: 'openLoop'; target: WireTarget; options: Record<string, number> }
  | { id: number; op: 'maxRate'; target: WireTarget; options: Record<string, number> }
  | { id: number; op: 'pin'; cpus: string }
  | { id: number; op: 'cancel'; target: number };

export type AgentReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string; kind?: string };

export interface AgentHello {
  protocol: number;
  pid: number;
  node: string;
  /** The helper's performance.now() and Date.now() when it answered. */
  mono: number;
  epoch: number;
}

export type AgentFacts = {
  hostname: string;
  kernel: string;
  os: string;
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  bootId: string | null;
  node: string;
  user: string;
  home: string;
};

export interface PollReply {
  /** The helper's performance.now() when the accepted answer arrived. */
  at: number;
  attempts: number;
  response: HttpReply;
}
