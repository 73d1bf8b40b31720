/** Peer addresses as the relay reports them: IPv4-mapped IPv6 ("::ffff:10.0.0.1") shown as IPv4. */
import type { Socket } from 'node:net';

export function peerAddress(socket: Socket): string {
  const address = socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
