// Finding the host unit: type building-entrance-room on a keypad, tap one of the matching units.
import { useEffect, useState } from 'preact/hooks';
import type { UnitView } from '../contracts.ts';
import { useLang } from '../i18n.ts';
import { useGate } from './context.ts';
import { FieldError, Keypad } from './widgets.tsx';

export interface PickedUnit {
  id: string;
  code: string;
}

export function UnitPicker({ value, onPick, error, testid = 'unit', compact, label }: { value: PickedUnit | null; onPick(u: PickedUnit | null): void; error?: string | null; testid?: string; compact?: boolean; label?: string }) {
  const { t } = useLang();
  const { api } = useGate();
  const [q, setQ] = useState('');
  const [units, setUnits] = useState<UnitView[] | null>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    if (!q) {
      setUnits(null);
      return;
    }
    let alive = true;
    // A short pause so a burst of key taps asks once.
    const timer = window.setTimeout(() => {
      api.units(q).then(
        (r) => alive && (setUnits(r.units), setFailed(false)),
        () => alive && setFailed(true),
      );
    }, 150);
    return () => {
      alive = false;
      window.clearTimeout(timer);
    };
  }, [q, api]);

  return (
    <div class={compact ? 'unit-picker compact' : 'unit-picker'} data-testid={`${testid}-picker`}>
      <div class="unit-left">
        <div class="field">
          <span class="field-label">{label ?? t('hostUnit')}</span>
          <div class={error ? 'keyfield active invalid' : 'keyfield active'} data-testid={`${testid}-query`}>
            {q ? <span class="keyfield-value">{q}</span> : <span class="keyfield-ph">{t('unitPh')}</span>}
            <span class="caret" aria-hidden="true" />
          </div>
          <FieldError text={error} testid={`${testid}-error`} />
        </div>
        {value && (
          <p class="picked" data-testid={`${testid}-picked`}>
            ✓ {t('unitPicked')} <strong>{value.code}</strong>
            <button type="button" class="btn" onClick={() => onPick(null)}>
              {t('change')}
            </button>
          </p>
        )}
        <div class="unit-results" data-testid={`${testid}-results`}>
          {failed && <p class="error">{t('loadFailed')}</p>}
          {units?.length === 0 && <p class="muted">{t('unitNone')}</p>}
          {units?.map((u) => (
            <button
              key={u.id}
              type="button"
              class={value?.id === u.id ? 'unit-btn on' : 'unit-btn'}
              data-testid={`${testid}-result-${u.code}`}
              onClick={() => onPick({ id: u.id, code: u.code })}
            >
              <strong>{u.code}</strong>
              <span class="muted">{t('unitParts', { b: u.building, e: u.entrance, r: u.room })}</span>
            </button>
          ))}
          {!q && !value && <p class="muted">{t('unitHint')}</p>}
        </div>
      </div>
      <Keypad kind="unit" prefix={testid} onKey={(k) => setQ((s) => (s.length < 20 ? s + k : s))} onDelete={() => setQ((s) => s.slice(0, -1))} onClear={() => setQ('')} />
    </div>
  );
}
