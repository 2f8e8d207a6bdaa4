// The login screen: people as big tiles, then an on-screen PIN keypad (no OS keyboard on the gate PC).
import { useEffect, useState } from 'preact/hooks';
import type { PersonView, SessionResponse } from './contracts.ts';
import { api, ApiError } from './api.ts';
import { useLang, type MsgKey } from './i18n.ts';

const maxPin = 12;
const minPin = 4;

export function Login({ onLogin }: { onLogin(s: SessionResponse): void }) {
  const { t } = useLang();
  const [people, setPeople] = useState<PersonView[] | null>(null);
  const [loadError, setLoadError] = useState(false);
  const [chosen, setChosen] = useState<PersonView | null>(null);

  useEffect(() => {
    let alive = true;
    let retry: number | undefined;
    // The gateway may still be starting when the screen boots: keep asking until it answers.
    const load = () =>
      api.people().then(
        (r) => alive && (setPeople(r.people), setLoadError(false)),
        () => {
          if (!alive) return;
          setLoadError(true);
          retry = window.setTimeout(load, 3000);
        },
      );
    void load();
    return () => {
      alive = false;
      window.clearTimeout(retry);
    };
  }, []);

  if (chosen) return <PinPad person={chosen} onBack={() => setChosen(null)} onLogin={onLogin} />;

  return (
    <main class="login" data-testid="login">
      <h1 class="login-title">{t('loginTitle')}</h1>
      {loadError && <p class="error" role="alert">{t('gatewayUnreachable')}</p>}
      {!people && !loadError && <p class="muted">{t('loadingPeople')}</p>}
      <div class="people">
        {people?.map((p) => (
          <button key={p.id} type="button" class={`person role-${p.role}`} data-testid={`person-${p.id}`} onClick={() => setChosen(p)}>
            <span class="person-name">{p.name}</span>
            <span class="person-role">{t(`role.${p.role}`)}</span>
          </button>
        ))}
      </div>
    </main>
  );
}

function PinPad({ person, onBack, onLogin }: { person: PersonView; onBack(): void; onLogin(s: SessionResponse): void }) {
  const { t } = useLang();
  const [pin, setPin] = useState('');
  const [error, setError] = useState<MsgKey | null>(null);
  const [busy, setBusy] = useState(false);

  const press = (d: string) => {
    if (busy) return;
    setError(null);
    setPin((p) => (p.length < maxPin ? p + d : p));
  };
  const backspace = () => setPin((p) => p.slice(0, -1));
  const clear = () => setPin('');

  const submit = async () => {
    if (busy || pin.length < minPin) return;
    setBusy(true);
    try {
      onLogin(await api.login(person.id, pin));
    } catch (err) {
      const status = err instanceof ApiError ? err.status : 0;
      setError(status === 401 ? 'wrongPin' : status === 429 ? 'lockedOut' : status === 400 ? 'badPin' : 'gatewayUnreachable');
      setPin('');
      setBusy(false);
    }
  };

  // Control-room PCs have keyboards: accept digits, Backspace, Escape and Enter as well.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (/^[0-9]$/.test(e.key)) press(e.key);
      else if (e.key === 'Backspace') backspace();
      else if (e.key === 'Escape') onBack();
      else if (e.key === 'Enter') void submit();
      else return;
      // Otherwise Enter would also "click" whichever key button last had focus.
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const key = (label: string, testid: string, onClick: () => void, cls = '') => (
    <button type="button" class={`key ${cls}`} data-testid={testid} onClick={onClick} disabled={busy}>
      {label}
    </button>
  );

  return (
    <main class="pin" data-testid="pin-pad">
      <div class="pin-head">
        <button type="button" class="btn back" data-testid="pin-cancel" onClick={onBack}>
          ← {t('back')}
        </button>
        <div>
          <h1 class="pin-title">{t('pinFor', { name: person.name })}</h1>
          <p class="muted">{t('pinTitle')}</p>
        </div>
      </div>
      <div class="pin-dots" data-testid="pin-dots" aria-label={`${pin.length}`}>
        {Array.from({ length: Math.max(minPin, pin.length) }, (_, i) => (
          <span key={i} class={i < pin.length ? 'dot on' : 'dot'} />
        ))}
      </div>
      <p class="pin-status" role="alert">
        {busy ? (
          <span class="muted">{t('loggingIn')}</span>
        ) : (
          error && (
            <span class="error" data-testid="login-error">
              {t(error)}
            </span>
          )
        )}
      </p>
      <div class="keys">
        {['1', '2', '3', '4', '5', '6', '7', '8', '9'].map((d) => key(d, `pin-key-${d}`, () => press(d)))}
        {key(t('pinClear'), 'pin-clear', clear, 'key-fn')}
        {key('0', 'pin-key-0', () => press('0'))}
        {key(`⌫ ${t('pinBackspace')}`, 'pin-backspace', backspace, 'key-fn')}
        <button type="button" class="key key-ok" data-testid="pin-ok" onClick={() => void submit()} disabled={busy || pin.length < minPin}>
          {t('pinOk')}
        </button>
      </div>
    </main>
  );
}
