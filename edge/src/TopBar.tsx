// The bar over every screen: site, clock, language switch and, once signed in, who is on duty and logout.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { PersonView } from './contracts.ts';
import { timeOfDay } from './format.ts';
import { langNames, useLang, type Lang } from './i18n.ts';

function Clock({ timeZone }: { timeZone: string | undefined }) {
  const { lang } = useLang();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(id);
  }, []);
  return (
    <span class="clock" data-testid="clock">
      {timeOfDay(now, lang, timeZone)}
    </span>
  );
}

export function LangSwitch() {
  const { lang, setLang, t } = useLang();
  return (
    <div class="lang" role="group" aria-label={t('language')}>
      {(Object.entries(langNames) as [Lang, string][]).map(([l, label]) => (
        <button key={l} type="button" class={l === lang ? 'lang-btn active' : 'lang-btn'} aria-pressed={l === lang} data-testid={`lang-${l}`} onClick={() => setLang(l)}>
          {label}
        </button>
      ))}
    </div>
  );
}

export interface TopBarProps {
  siteName: string;
  timeZone: string | undefined;
  person?: PersonView;
  onLogout?(): void;
  /** Something that needs attention site-wide (the HQ sync chip), beside the clock; absent when all is well. */
  status?: ComponentChildren;
}

export function TopBar({ siteName, timeZone, person, onLogout, status }: TopBarProps) {
  const { t } = useLang();
  return (
    <header class="topbar" data-testid="topbar">
      <span class="site" data-testid="site-name">
        {siteName || t('appName')}
      </span>
      {person && (
        <span class="who" data-testid="who">
          <span class="who-name">{person.name}</span>
          <span class="who-role" data-testid="who-role">
            {t(`role.${person.role}`)}
          </span>
        </span>
      )}
      <span class="spacer" />
      {status}
      <Clock timeZone={timeZone} />
      <LangSwitch />
      {onLogout && (
        <button type="button" class="btn logout" data-testid="logout" onClick={onLogout}>
          {t('logout')}
        </button>
      )}
    </header>
  );
}
