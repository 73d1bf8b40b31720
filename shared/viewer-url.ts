/**
 * The relay's address as viewers use it: relay.publicUrl when set, else the listening
 * address with a wildcard bind address (0.0.0.0, ::) replaced by one the caller can reach
 * (the host the UI was loaded from, or 127.0.0.1). Never hands out 0.0.0.0. Shared by the
 * signUrl call, `relaydeck sign` and the UI (copy buttons, preview).
 */

/** Hosts a server binds to for "every interface": no client can connect to them. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '[::]', '::', '']);

/** Host used in place of a wildcard bind address when the caller knows no better. */
export const LOOPBACK_VIEWER_HOST = '127.0.0.1';

/**
 * The base URL viewers use, without a trailing "/": `publicUrl` when non-empty, else
 * `listeningUrl` (e.g. "http://0.0.0.0:8090") with a wildcard host replaced by `reachHost`.
 */
export function viewerBaseUrl(publicUrl: string | null | undefined, listeningUrl: string, reachHost = LOOPBACK_VIEWER_HOST): string {
  if (publicUrl) return publicUrl.replace(/\/+$/, '');
  if (!listeningUrl) return '';
  const url = new URL(listeningUrl);
  if (WILDCARD_HOSTS.has(url.hostname)) {
    const host = WILDCARD_HOSTS.has(reachHost) ? LOOPBACK_VIEWER_HOST : reachHost;
    url.hostname = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  }
  return url.origin;
}

/** The listening URL of a host and port as configured ("::" → "http://[::]:8090"). */
export function listeningUrlOf(host: string, port: number): string {
  return `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
}
