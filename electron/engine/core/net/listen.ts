/** Listening on an address, with a listen error (EADDRINUSE, EACCES) turned into a rejection. */
import type { Server } from 'node:net';
import type { AddressInfo } from 'node:net';

/** `backlog`: pending connections the kernel queues (capped by net.core.somaxconn); Node's default is 511. */
export async function listenOn(server: Server, host: string, port: number, backlog = 511): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, backlog, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}
