/**
 * getFleet's answer (FleetDto) from the fleet as presence.ts read it: every relay up or gone
 * with its last heartbeat, load, version and config version; the streams across the fleet
 * with the viewers each relay serves of them, through which node; totals over the live
 * relays. Pure, so unit tests feed it plain views.
 */
import type { FleetDto, FleetRelayDto, FleetStreamDto } from '../../../shared/dto.js';
import type { Fleet } from './fleet.js';
import type { FleetPresence, FleetView, PresenceRecord } from './presence.js';

/** Most streams getFleet lists (those with the most viewers across the fleet). */
export const MAX_FLEET_STREAMS_LISTED = 1_000;

export interface DescribeInput {
  name: string;
  relayId: string;
  redis: FleetDto['redis'];
  configVersion: number;
  configSource: FleetDto['configSource'];
  /** The fleet as last read; undefined when Redis was never read. */
  view: FleetView | undefined;
  /** This relay's record now (it is shown up and current whatever Redis holds). */
  self: PresenceRecord;
}

function relayOf(record: PresenceRecord, self: boolean, lastSeenAt: number): FleetRelayDto {
  return {
    id: record.id,
    url: record.url,
    self,
    state: 'up',
    lastSeenAt,
    startedAt: record.startedAt,
    version: record.version,
    configVersion: record.configVersion,
    viewers: record.viewers,
    streams: record.streams,
    mbpsIn: record.mbpsIn,
    mbpsOut: record.mbpsOut,
    cpuPercent: record.cpuPercent,
  };
}

export function describeFleet(input: DescribeInput): FleetDto {
  const { self } = input;
  const relays: FleetRelayDto[] = [relayOf(self, true, self.at)];
  const live: PresenceRecord[] = [self];
  for (const sighting of input.view?.relays ?? []) {
    if (sighting.id === input.relayId) continue;
    if (sighting.record) {
      relays.push(relayOf(sighting.record, false, sighting.lastSeenAt));
      live.push(sighting.record);
      continue;
    }
    const card = sighting.card;
    relays.push({
      id: sighting.id,
      url: card?.url ?? '',
      self: false,
      state: 'gone',
      lastSeenAt: sighting.lastSeenAt,
      startedAt: card?.startedAt ?? 0,
      version: card?.version ?? '',
      configVersion: card?.configVersion ?? 0,
      viewers: 0,
      streams: 0,
      mbpsIn: 0,
      mbpsOut: 0,
      cpuPercent: 0,
    });
  }
  // Up first, then by id; gone ones after, most recently seen first.
  relays.sort((a, b) => (a.state === b.state ? (a.state === 'up' ? a.id.localeCompare(b.id) : b.lastSeenAt - a.lastSeenAt) : a.state === 'up' ? -1 : 1));

  const streams = new Map<string, FleetStreamDto>();
  const totals = { relays: live.length, viewers: 0, streams: 0, mbpsIn: 0, mbpsOut: 0 };
  for (const record of live) {
    totals.viewers += record.viewers;
    totals.mbpsIn += record.mbpsIn;
    totals.mbpsOut += record.mbpsOut;
    for (const [routeId, streamKey, nodeId, viewers] of record.perStream) {
      const id = `${routeId}\n${streamKey}`;
      let stream = streams.get(id);
      if (!stream) {
        stream = { routeId, streamKey, viewers: 0, relays: [] };
        streams.set(id, stream);
      }
      stream.viewers += viewers;
      stream.relays.push({ relayId: record.id, viewers, nodeId });
    }
  }
  const listed = [...streams.values()].sort((a, b) => b.viewers - a.viewers || a.routeId.localeCompare(b.routeId) || a.streamKey.localeCompare(b.streamKey));
  totals.streams = listed.length;
  if (listed.length > MAX_FLEET_STREAMS_LISTED) listed.length = MAX_FLEET_STREAMS_LISTED;
  for (const stream of listed) stream.relays.sort((a, b) => b.viewers - a.viewers || a.relayId.localeCompare(b.relayId));
  totals.mbpsIn = Math.round(totals.mbpsIn * 1000) / 1000;
  totals.mbpsOut = Math.round(totals.mbpsOut * 1000) / 1000;

  return {
    enabled: true,
    name: input.name,
    relayId: input.relayId,
    redis: input.redis,
    configVersion: input.configVersion,
    configSource: input.configSource,
    relays,
    streams: listed,
    totals,
  };
}

/**
 * getFleet in fleet mode: the fleet read now. When Redis cannot answer, the last read stands
 * while it is younger than fleet.expiryMs; past that the other relays cannot be heard and are
 * shown gone (their last heartbeat as last seen).
 */
export async function describeLiveFleet(fleet: Fleet, presence: FleetPresence): Promise<FleetDto> {
  const view = await presence.read().catch(() => staleView(presence.view, presence.expiryMs, Date.now()));
  const shared = fleet.sharedConfig.status();
  return describeFleet({
    name: fleet.settings.name,
    relayId: fleet.relayId,
    redis: { state: fleet.link.state, lastError: fleet.link.up ? '' : fleet.link.lastError },
    configVersion: shared.version,
    configSource: shared.source,
    view,
    self: presence.record(),
  });
}

/** The last read when Redis cannot answer: as it was while younger than `expiryMs`, else with every relay gone. */
export function staleView(view: FleetView | undefined, expiryMs: number, now: number): FleetView | undefined {
  if (!view || now - view.readAt <= expiryMs) return view;
  return { readAt: view.readAt, relays: view.relays.map(({ id, lastSeenAt, card, record }) => ({ id, lastSeenAt, card: card ?? record })) };
}
