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

type Section = 'gate' | 'control' | 'review' | 'admin' | 'devices';

const homeSection: Record<PersonView['role'], Section> = { guard: 'gate', operator: 'control', supervisor: 'review', admin: 'admin' };

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
  // Supervisors also get the gate: they are the ones who may let a visitor in without the resident.
  const sections: Section[] = person.role === 'supervisor' ? ['review', 'gate', 'devices'] : [homeSection[person.role], 'devices'];
  const [section, setSection] = useState<Section>(sections[0] ?? 'devices');
  const devices = health?.devices ?? [];
  const tz = health?.site.timezone;

  return (
    <div class="shell">
      <TopBar siteName={health?.site.name ?? ''} timeZone={tz} person={person} onLogout={onLogout} />
      {link === 'lost' && (
        <div class="banner" role="alert" data-testid="conn-banner">
          {t('connLost')}
        </div>
      )}
      {/* The review is read at a desk, a day at a time: it takes the live strip's width for the timeline. */}
      <div class={section === 'review' ? 'body body-wide' : 'body'}>
        <nav class="nav">
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
            </button>
          ))}
        </nav>
        <main class="content" data-testid={`section-${section}`}>
          {section !== 'gate' && <h1 class="section-title">{t(`section.${section}`)}</h1>}
          {section === 'gate' ? (
            <GateSection token={token} person={person} timeZone={tz} siteName={health?.site.name ?? ''} devices={devices} />
          ) : section === 'review' ? (
            <Review token={token} person={person} timeZone={tz} siteName={health?.site.name ?? ''} />
          ) : section === 'control' ? (
            <ControlRoom token={token} person={person} timeZone={tz} siteName={health?.site.name ?? ''} devices={devices} />
          ) : section === 'devices' ? (
            <DeviceTable devices={devices} timeZone={tz} />
          ) : (
            <>
              <p class="muted">{t('sectionNote')}</p>
              <DeviceLights devices={devices} />
            </>
          )}
        </main>
        {section !== 'review' && <LiveStrip events={events} timeZone={tz} />}
      </div>
    </div>
  );
}
