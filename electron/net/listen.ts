/** Listening on an address, with a listen error (EADDRINUSE, EACCES) turned into a rejection. */
import type { Server } from 'node:net';
import type { AddressInfo } from 'node:net';

export async function listenOn(server: Server, host: string, port: number): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}
