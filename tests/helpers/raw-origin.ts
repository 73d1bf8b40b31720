/** A raw TCP "node" for hostile-upstream tests: it writes whatever the test says. */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export class RawOrigin {
  readonly server: net.Server;
  readonly sockets = new Set<net.Socket>();
  onRequest: (socket: net.Socket) => void = () => {};

  constructor() {
    this.server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => this.sockets.delete(socket));
      socket.once('data', () => this.onRequest(socket));
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
