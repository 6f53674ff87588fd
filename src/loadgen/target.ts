/**
 * A load target, validated up front: only http://127.0.0.1:PORT/... is ever
 * sent traffic. The request is serialised once into the exact bytes written
 * for every request (HTTP/1.1, keep-alive).
 */
import { BenchError } from '../errors.js';

export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof METHODS)[number];

export interface TargetSpec {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

export interface Target {
  url: string;
  host: '127.0.0.1';
  port: number;
  /** Path + query, as sent on the request line. */
  path: string;
  method: HttpMethod;
  headers: Record<string, string>;
  body: Buffer;
  /** The serialised request, written as-is for every request. */
  request: Buffer;
}

/** Headers the generator writes itself. */
const RESERVED = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'expect', 'upgrade']);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function bad(option: string, value: unknown, why: string): BenchError {
  return new BenchError('input', `${option}: ${JSON.stringify(value)} ${why}`);
}

export function resolveTarget(spec: TargetSpec, option = 'target'): Target {
  if (spec === null || typeof spec !== 'object') throw bad(option, spec, 'is not a target object {url, method, headers, body}');
  const urlOpt = `${option}.url`;
  if (typeof spec.url !== 'string') throw bad(urlOpt, spec.url, 'is not a string');
  let url: URL;
  try {
    url = new URL(spec.url);
  } catch {
    throw bad(urlOpt, spec.url, 'is not a valid URL (expected http://127.0.0.1:PORT/path)');
  }
  if (url.protocol !== 'http:') throw bad(urlOpt, spec.url, `uses ${url.protocol.replace(/:$/, '')}: only plain http:// to 127.0.0.1 is supported`);
  if (url.hostname !== '127.0.0.1') {
    throw bad(urlOpt, spec.url, `is not allowed: load is only ever sent to 127.0.0.1 (host was ${url.hostname})`);
  }
  if (url.username !== '' || url.password !== '') throw bad(urlOpt, spec.url, 'must not carry credentials');
  const port = url.port === '' ? 80 : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad(urlOpt, spec.url, 'has no valid port');

  const methodOpt = `${option}.method`;
  const method = spec.method ?? 'GET';
  if (!(METHODS as readonly string[]).includes(method)) throw bad(methodOpt, method, `is not one of ${METHODS.join(', ')}`);

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(spec.headers ?? {})) {
    const hOpt = `${option}.headers[${JSON.stringify(name)}]`;
    if (!TOKEN.test(name)) throw bad(`${option}.headers`, name, 'is not a valid header name');
    if (RESERVED.has(name.toLowerCase())) throw bad(`${option}.headers`, name, 'is set by the load generator itself');
    if (typeof value !== 'string' || /[\r\n\0]/.test(value)) throw bad(hOpt, value, 'is not a valid header value');
    headers[name] = value;
  }

  let body: Buffer;
  if (spec.body === undefined) body = Buffer.alloc(0);
  else if (typeof spec.body === 'string') body = Buffer.from(spec.body, 'utf8');
  else if (spec.body instanceof Uint8Array) body = Buffer.from(spec.body.buffer, spec.body.byteOffset, spec.body.byteLength);
  else throw bad(`${option}.body`, typeof spec.body, 'is not a string or bytes');
  if (body.length > 0 && (method === 'GET' || method === 'HEAD')) throw bad(methodOpt, method, 'cannot carry a body; use POST or PUT');

  const path = (url.pathname || '/') + url.search;
  let head = `${method} ${path} HTTP/1.1\r\nHost: ${url.host}\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  if (body.length > 0 || method === 'POST' || method === 'PUT' || method === 'PATCH') head += `Content-Length: ${body.length}\r\n`;
  head += '\r\n';
  const request = Buffer.concat([Buffer.from(head, 'latin1'), body]);
  return { url: url.href, host: '127.0.0.1', port, path, method: method as HttpMethod, headers, body, request };
}
