// The live event strip shown beside every section: newest first, fed by the websocket.
import type { EventView } from './contracts.ts';
import { detailText, timeOfDay } from './format.ts';
import { translateOpen, useLang } from './i18n.ts';

export function LiveStrip({ events, timeZone }: { events: EventView[]; timeZone: string | undefined }) {
  const { t, lang } = useLang();
  return (
    <section class="live" data-testid="live-strip" aria-live="polite">
      <h2 class="panel-title">{t('liveTitle')}</h2>
      {events.length === 0 && <p class="muted">{t('liveEmpty')}</p>}
      <ol class="live-list">
        {events.map((ev) => (
          <li key={ev.id} class={`live-entry type-${ev.type}`} data-testid="live-entry" data-event-id={ev.id}>
            <span class="live-time">{timeOfDay(ev.at, lang, timeZone)}</span>
            <span class="live-label">{translateOpen(t, 'event', ev.type)}</span>
            <span class="live-device">{ev.deviceName}</span>
            <span class="live-detail">{detailText(ev, t)}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}
