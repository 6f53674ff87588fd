/**
 * A minimal HTTP/1.x response parser for one response at a time (no
 * pipelining): status line, the few headers that frame the body
 * (Content-Length, Transfer-Encoding: chunked, Connection), and the body
 * skipped without copying. 1xx responses are skipped; 204/304 and HEAD have no
 * body; a response without framing is read until the server closes.
 */
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const MAX_HEAD_BYTES = 64 * 1024;
const MAX_LINE_BYTES = 4 * 1024;

const enum State {
  Head,
  Length,
  Chunked,
  UntilClose,
  Done,
}

const enum Chunk {
  Size,
  Data,
  DataEnd,
  Trailer,
}

export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

function headerValue(lowerHead: string, name: string): string | null {
  const at = lowerHead.indexOf(`\r\n${name}:`);
  if (at < 0) return null;
  const from = at + name.length + 3;
  const end = lowerHead.indexOf('\r\n', from);
  return lowerHead.slice(from, end < 0 ? undefined : end).trim();
}

export class ResponseParser {
  status = 0;
  keepAlive = true;
  private state = State.Head;
  private pending: Buffer | null = null;
  private remaining = 0;
  private chunk = Chunk.Size;
  private line = '';

  constructor(private readonly headRequest: boolean) {}

  reset(): void {
    this.status = 0;
    this.keepAlive = true;
    this.state = State.Head;
    this.pending = null;
    this.remaining = 0;
    this.chunk = Chunk.Size;
    this.line = '';
  }

  /** True while the body runs until the server closes the connection. */
  get endsAtClose(): boolean {
    return this.state === State.UntilClose;
  }

  /**
   * Feeds bytes of the response; true once it is complete. Throws
   * ProtocolError on a malformed response or on bytes past its end.
   */
  feed(data: Buffer): boolean {
    let buf = data;
    let pos = 0;
    if (this.state === State.Head) {
      if (this.pending !== null) {
        buf = Buffer.concat([this.pending, data]);
        this.pending = null;
      }
      for (;;) {
        const end = buf.indexOf(CRLFCRLF, pos);
        if (end < 0) {
          if (buf.length - pos > MAX_HEAD_BYTES) throw new ProtocolError('response head too large');
          this.pending = buf.subarray(pos);
          return false;
        }
        this.parseHead(buf.toString('latin1', pos, end));
        pos = end + 4;
        if (this.state !== State.Head) break; // a 1xx leaves us in Head: parse the next head
      }
    }
    switch (this.state) {
      case State.Length: {
        const n = Math.min(this.remaining, buf.length - pos);
        this.remaining -= n;
        pos += n;
        if (this.remaining > 0) return false;
        this.state = State.Done;
        break;
      }
      case State.Chunked:
        if (!this.feedChunked(buf, pos)) return false;
        return true;
      case State.UntilClose:
        return false;
      default:
        break;
    }
    if (pos < buf.length) throw new ProtocolError('bytes after the end of the response');
    return true;
  }

  private parseHead(head: string): void {
    if (!head.startsWith('HTTP/1.')) throw new ProtocolError('not an HTTP/1.x response');
    const status = Number(head.slice(9, 12));
    if (!Number.isInteger(status) || status < 100 || status > 599) throw new ProtocolError('bad status line');
    this.status = status;
    const lower = head.toLowerCase();
    const connection = headerValue(lower, 'connection');
    const http10 = head.charCodeAt(7) === 48; // '0'
    this.keepAlive = http10 ? connection !== null && connection.includes('keep-alive') : !(connection?.includes('close') ?? false);
    if (status < 200) return; // 1xx: another head follows
    if (this.headRequest || status === 204 || status === 304) {
      this.state = State.Done;
      return;
    }
    const te = headerValue(lower, 'transfer-encoding');
    if (te !== null && te.includes('chunked')) {
      this.state = State.Chunked;
      this.chunk = Chunk.Size;
      this.line = '';
      return;
    }
    const cl = headerValue(lower, 'content-length');
    if (cl !== null) {
      if (!/^\d+$/.test(cl)) throw new ProtocolError('bad content-length');
      this.remaining = Number(cl);
      this.state = this.remaining === 0 ? State.Done : State.Length;
      return;
    }
    this.state = State.UntilClose;
    this.keepAlive = false;
  }

  /** Consumes chunked body bytes; true when the last chunk and trailers ended. */
  private feedChunked(buf: Buffer, start: number): boolean {
    let pos = start;
    while (pos < buf.length) {
      switch (this.chunk) {
        case Chunk.Size:
        case Chunk.Trailer: {
          const nl = buf.indexOf(10, pos);
          if (nl < 0) {
            this.line += buf.toString('latin1', pos);
            if (this.line.length > MAX_LINE_BYTES) throw new ProtocolError('chunk line too long');
            return false;
          }
          const line = (this.line + buf.toString('latin1', pos, nl)).replace(/\r$/, '');
          this.line = '';
          pos = nl + 1;
          if (this.chunk === Chunk.Trailer) {
            if (line === '') {
              this.state = State.Done;
              if (pos < buf.length) throw new ProtocolError('bytes after the end of the response');
              return true;
            }
            break;
          }
          const sizeText = line.split(';', 1)[0]?.trim() ?? '';
          if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new ProtocolError('bad chunk size');
          const size = parseInt(sizeText, 16);
          if (size === 0) this.chunk = Chunk.Trailer;
          else {
            this.remaining = size;
            this.chunk = Chunk.Data;
          }
          break;
        }
        case Chunk.Data: {
          const n = Math.min(this.remaining, buf.length - pos);
          this.remaining -= n;
          pos += n;
          if (this.remaining === 0) {
            this.chunk = Chunk.DataEnd;
            this.remaining = 2; // CRLF after the data
          }
          break;
        }
        case Chunk.DataEnd: {
          const n = Math.min(this.remaining, buf.length - pos);
          this.remaining -= n;
          pos += n;
          if (this.remaining === 0) this.chunk = Chunk.Size;
          break;
        }
      }
    }
    return false;
  }
}
