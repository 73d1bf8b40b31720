/**
 * The UI's Content-Security-Policy, sent with every page of the UI (admin port and the
 * desktop's app:// scheme). Scripts, styles and the API are same-origin only. The stream
 * preview is a real viewer: it fetches the stream (connect-src) and plays it through Media
 * Source Extensions (media-src blob:), so connect-src must list where streams come from:
 *   - loopback, any port (the desktop window, a browser on the relay's own machine);
 *   - the relay as the page reaches it: a relay bound to every interface (0.0.0.0, ::) is
 *     reached at the page's own host, so a browser elsewhere on the LAN gets that host with
 *     the relay's port; a relay bound to one address gets that address;
 *   - the origins of the nodes that redirect routes send viewers to (a redirect route's
 *     preview plays the node URL the 302 names). Those addresses are public to viewers
 *     anyway; nodes behind proxy routes only are never named (the page is served before
 *     the token is asked, so its headers must not map the hidden nodes).
 * The page host comes from the request's Host header: untrusted, so it (like every host put
 * into the policy) is used only when it is a plain host name or IP literal (nothing that could
 * add a directive).
 */
import type { RelayDeckConfig } from '../../../shared/config.js';

/** The fixed directives before connect-src, and after it. */
const DIRECTIVES_BEFORE_CONNECT = ["default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:"];
const DIRECTIVES_AFTER_CONNECT = [
  "media-src 'self' blob:",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
];

/** Sources every page may connect to: its own origin and loopback on any port. */
const LOOPBACK_SOURCES = ["'self'", 'http://127.0.0.1:*', 'http://localhost:*'];

/**
 * A host name or IPv4 literal: nothing else goes into the policy. (CSP sources cannot name
 * an IPv6 literal, so a page loaded at one gets loopback and the named hosts only.)
 */
const SAFE_HOST = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** What the policy's connect-src is built from. */
export interface PreviewSources {
  /** The relay's listening URL (engine.relayUrl), e.g. http://0.0.0.0:8090. */
  relayUrl: string;
  /** The host name the page was loaded from (Host header, port stripped); absent in the desktop window. */
  pageHost?: string;
  /** Base URLs of the nodes redirect routes send viewers to (previewNodeUrls). */
  nodeUrls: readonly string[];
}

/** Base URLs of the nodes some redirect route may send a viewer to (a route without a node list may use every node). */
export function previewNodeUrls(config: Pick<RelayDeckConfig, 'nodes' | 'routes'>): string[] {
  const ids = new Set<string>();
  for (const route of config.routes) {
    if (route.mode !== 'redirect') continue;
    for (const id of route.nodes ?? config.nodes.map((node) => node.id)) ids.add(id);
  }
  return config.nodes.filter((node) => ids.has(node.id)).map((node) => node.url);
}

/** The policy for a page whose preview may fetch from `sources`. */
export function uiContentSecurityPolicy(sources?: PreviewSources): string {
  const connect = new Set(LOOPBACK_SOURCES);
  if (sources) for (const origin of previewOrigins(sources)) connect.add(origin);
  return [...DIRECTIVES_BEFORE_CONNECT, `connect-src ${[...connect].join(' ')}`, ...DIRECTIVES_AFTER_CONNECT].join('; ');
}

/** Origins (beyond loopback) the preview may fetch streams from. */
export function previewOrigins({ relayUrl, pageHost, nodeUrls }: PreviewSources): string[] {
  const out: string[] = [];
  const relay = parseHttpUrl(relayUrl);
  if (relay) {
    const wildcard = relay.hostname === '0.0.0.0' || relay.hostname === '[::]';
    const host = wildcard ? safeHost(pageHost) : relay.hostname;
    if (host) out.push(`${relay.protocol}//${host}:${relay.port || (relay.protocol === 'https:' ? 443 : 80)}`);
  }
  for (const url of nodeUrls) {
    const node = parseHttpUrl(url);
    if (node && safeHost(node.hostname)) out.push(node.origin);
  }
  return out;
}

/** The host name of a Host header value, when it is safe to put into the policy. */
export function hostOfHeader(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const url = parseHttpUrl(`http://${header}`);
  return url && url.username === '' && url.pathname === '/' ? safeHost(url.hostname) : undefined;
}

function safeHost(host: string | undefined): string | undefined {
  return host && host.length <= 253 && SAFE_HOST.test(host) ? host : undefined;
}

function parseHttpUrl(text: string): URL | undefined {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}
