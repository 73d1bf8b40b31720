/**
 * Which `Host` headers the admin port answers (DNS rebinding defence). A page on a foreign
 * name that the attacker's DNS later points at 127.0.0.1 reaches the admin port with its own
 * name in Host, so only the names the port is really reached by are answered:
 *   - its bound address, and the address the connection arrived at, with its port;
 *   - localhost and loopback literals (127.x.x.x, [::1]) with its port, when bound to
 *     loopback or to every interface;
 *   - the machine's interface addresses with its port, when bound to every interface;
 *   - the names in admin.allowedHosts, with any port.
 * Everything else (no Host at all too) gets 421. Pure functions: the server asks per request.
 */
import os from 'node:os';

export interface HostRule {
  /** The address the admin server was asked to listen on (admin.host). */
  listenHost: string;
  /** admin.allowedHosts. */
  allowedHosts: readonly string[];
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);
const IPV4_LOOPBACK = /^127(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** Lowercase, brackets and the IPv4-mapped prefix removed: "[::FFFF:127.0.0.1]" → "127.0.0.1". */
function normalize(host: string): string {
  const bare = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return bare.startsWith('::ffff:') && bare.includes('.') ? bare.slice(7) : bare;
}

/** A loopback name: "localhost", 127.0.0.0/8 literals, ::1 (never a DNS name such as 127.evil.example). */
function isLoopbackName(host: string): boolean {
  return host === 'localhost' || host === '::1' || IPV4_LOOPBACK.test(host);
}

/** Split a Host header into a normalized name and a port (80 when absent); undefined when malformed. */
export function parseHostHeader(header: string | undefined): { name: string; port: number } | undefined {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(header ?? '');
  if (!match) return undefined;
  return { name: normalize(match[1]), port: match[2] === undefined ? 80 : Number(match[2]) };
}

function isInterfaceAddress(name: string): boolean {
  return Object.values(os.networkInterfaces()).some((list) => list?.some((i) => normalize(i.address) === name));
}

/**
 * True when the admin port, listening per `rule` and reached on `localAddress:localPort`,
 * answers a request with this Host header.
 */
export function hostAllowed(header: string | undefined, rule: HostRule, localAddress: string | undefined, localPort: number | undefined): boolean {
  const host = parseHostHeader(header);
  if (!host) return false;
  if (rule.allowedHosts.some((name) => normalize(name) === host.name)) return true;
  if (host.port !== localPort) return false;
  const bound = normalize(rule.listenHost);
  const wildcard = WILDCARD_HOSTS.has(bound);
  if (host.name === bound || (localAddress !== undefined && host.name === normalize(localAddress))) return true;
  if ((wildcard || isLoopbackName(bound)) && isLoopbackName(host.name)) return true;
  return wildcard && isInterfaceAddress(host.name);
}
