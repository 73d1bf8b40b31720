/**
 * Pages by URL hash (#/streams): works the same on app://relaydeck/ and on the admin port,
 * needs no server routes, and a hash change is not a navigation the desktop app refuses.
 */
import { useEffect, useState } from 'react';

export const PAGES = ['dashboard', 'streams', 'nodes', 'routes', 'traffic', 'fleet', 'settings'] as const;
export type PageId = (typeof PAGES)[number];

export const PAGE_TITLES: Record<PageId, string> = {
  dashboard: 'Dashboard',
  streams: 'Streams',
  nodes: 'Nodes',
  routes: 'Routes',
  traffic: 'Traffic',
  fleet: 'Fleet',
  settings: 'Settings',
};

export function pageOf(hash: string): PageId {
  const name = hash.replace(/^#\/?/, '').split(/[/?]/)[0];
  return (PAGES as readonly string[]).includes(name) ? (name as PageId) : 'dashboard';
}

export function useHashPage(): PageId {
  const [page, setPage] = useState(() => pageOf(window.location.hash));
  useEffect(() => {
    const update = () => setPage(pageOf(window.location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return page;
}
