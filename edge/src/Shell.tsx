// The signed-in frame: top bar, role navigation, the current section, and the live strip beside it.
import { useState } from 'preact/hooks';
import type { EventView, HealthResponse, PersonView } from './contracts.ts';
import type { LinkState } from './api.ts';
import { DeviceLights, DeviceTable } from './Devices.tsx';
import { LiveStrip } from './LiveStrip.tsx';
import { TopBar } from './TopBar.tsx';
import { useLang } from './i18n.ts';
import { GateSection } from './gate/GateSection.tsx';
import { ControlRoom } from './patrol/ControlRoom.tsx';
import { Review } from './patrol/Review.tsx';
import { SyncChip } from './sync/SyncChip.tsx';
import { SyncScreen } from './sync/SyncScreen.tsx';
import { syncNeedsEye } from './sync/syncApi.ts';
import { Approvals, usePendingCount } from './video/Approvals.tsx';
import { Playback } from './video/Playback.tsx';
import { Seals } from './video/Seals.tsx';
import { Storage } from './video/Storage.tsx';
import { Wall } from './video/Wall.tsx';

type Section = 'gate' | 'control' | 'review' | 'admin' | 'devices' | 'wall' | 'playback' | 'approvals' | 'seals' | 'storage' | 'sync';

// Supervisors also get the gate: they are the ones who may let a visitor in without the resident.
// The video screens follow the gateway's roles: operators watch and ask; supervisors also decide, seal and plan storage.
// HQ sync is the admin's to repair; the supervisor sees it too (read-only) since a backlog is theirs to report.
const roleSections: Record<PersonView['role'], Section[]> = {
  guard: ['gate', 'devices'],
  operator: ['control', 'wall', 'playback', 'devices'],
  supervisor: ['review', 'gate', 'wall', 'playback', 'approvals', 'seals', 'storage', 'sync', 'devices'],
  admin: ['admin', 'storage', 'sync', 'devices'],
};
// Screens read at a desk or made of pictures take the live strip's width too.
const wide = new Set<Section>(['review', 'wall', 'playback', 'sync']);

export interface ShellProps {
  person: PersonView;
  token: string;
  health: HealthResponse | null;
  events: EventView[];
  link: LinkState;
  onLogout(): void;
}

export function Shell({ person, token, health, events, link, onLogout }: ShellProps) {
  const { t } = useLang();
  const sections = roleSections[person.role];
  // A request waiting for a supervisor shows on the button wherever the supervisor is.
  const waiting = usePendingCount(token, person.role === 'supervisor');
  const [section, setSection] = useState<Section>(sections[0] ?? 'devices');
  const devices = health?.devices ?? [];
  const tz = health?.site.timezone;
  // Only for those who may open the screen, and not on the screen itself, which already says it all.
  const sync = health?.sync;
  const syncChip = sections.includes('sync') && section !== 'sync' && syncNeedsEye(sync) ? <SyncChip s={sync} onOpen={() => setSection('sync')} /> : null;

  return (
    <div class="shell">
      <TopBar siteName={health?.site.name ?? ''} timeZone={tz} person={person} onLogout={onLogout} status={syncChip} />
      {link === 'lost' && (
        <div class="banner" role="alert" data-testid="conn-banner">
          {t('connLost')}
        </div>
      )}
      <div class={wide.has(section) ? 'body body-wide' : 'body'}>
        <nav class={sections.length > 5 ? 'nav nav-many' : 'nav'}>
          {sections.map((s) => (
            <button
              key={s}
              type="button"
              class={s === section ? 'nav-btn active' : 'nav-btn'}
              aria-current={s === section ? 'page' : undefined}
              data-testid={`nav-${s}`}
              onClick={() => setSection(s)}
            >
              {t(`section.${s}`)}
              {s === 'approvals' && waiting > 0 && (
                <span class="badge" data-testid="nav-badge-approvals">
                  {waiting}
                </span>
              )}
            </button>
          ))}
        </nav>
        <main class="content" data-testid={`section-${section}`}>
          {/* The gate and the wall put their own controls beside the title. */}
          {section !== 'gate' && section !== 'wall' && <h1 class="section-title">{t(`section.${section}`)}</h1>}
          {section === 'gate' ? (
            <GateSection token={token} person={person} timeZone={tz} siteName={health?.site.name ?? ''} devices={devices} />
          ) : section === 'review' ? (
            <Review token={token} person={person} timeZone={tz} siteName={health?.site.name ?? ''} />
          ) : section === 'control' ? (
            <ControlRoom token={token} person={person} timeZone={tz} siteName={health?.site.name ?? ''} devices={devices} />
          ) : section === 'wall' ? (
            <Wall token={token} />
          ) : section === 'playback' ? (
            <Playback token={token} person={person} timeZone={tz} />
          ) : section === 'approvals' ? (
            <Approvals token={token} timeZone={tz} />
          ) : section === 'seals' ? (
            <Seals token={token} timeZone={tz} />
          ) : section === 'storage' ? (
            <Storage token={token} timeZone={tz} />
          ) : section === 'sync' ? (
            <SyncScreen token={token} timeZone={tz} canRetry={person.role === 'admin'} />
          ) : section === 'devices' ? (
            <DeviceTable devices={devices} timeZone={tz} />
          ) : (
            <>
              <p class="muted">{t('sectionNote')}</p>
              <DeviceLights devices={devices} />
            </>
          )}
        </main>
        {!wide.has(section) && <LiveStrip events={events} timeZone={tz} />}
      </div>
    </div>
  );
}
