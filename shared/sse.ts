/**
 * Reading a Server-Sent Events stream (the WHATWG event-stream format) from text chunks
 * of any size: `event:`, `data:` (joined with newlines), `retry:` and `:` comments; an
 * empty line ends a message. Used by the browser client, which reads the stream with
 * fetch (so the token travels in a header) instead of EventSource.
 */

/** One message of the stream. */
export interface SseMessage {
  /** The `event:` field, "message" when absent. */
  event: string;
  data: string;
}

/** Longest message accepted, characters; a longer one means a broken stream. */
export const SSE_MAX_MESSAGE_CHARS = 32 * 1_048_576;

export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  /** The last `retry:` value, ms, if the server sent one. */
  retryMs: number | undefined;

  /** Feed decoded text; returns the messages it completed. Throws when a message grows past SSE_MAX_MESSAGE_CHARS. */
  push(text: string): SseMessage[] {
    this.buffer += text;
    const out: SseMessage[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) break;
      // A lone "\r" at the very end may be the first half of "\r\n": wait for more.
      if (match[0] === '\r' && match.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const message = this.line(line);
      if (message) out.push(message);
    }
    if (this.buffer.length > SSE_MAX_MESSAGE_CHARS) throw new Error(`event stream message over ${SSE_MAX_MESSAGE_CHARS} characters`);
    return out;
  }

  private line(line: string): SseMessage | undefined {
    if (line === '') {
      if (this.data.length === 0) {
        this.event = '';
        return undefined;
      }
      const message = { event: this.event || 'message', data: this.data.join('\n') };
      this.event = '';
      this.data = [];
      return message;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    return undefined;
  }
}
