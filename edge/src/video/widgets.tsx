// Touch parts of the video screens that the gate's widgets lack: several cameras at once, a time of day, an expiry.
import { addDays, localDate, localInstant } from '../gate/rules.ts';
import { Chips, DateStepper } from '../gate/widgets.tsx';
import { useLang } from '../i18n.ts';

/** Several choices at once as big toggles; each chosen one is ticked as well as coloured. */
export function MultiChips({ options, value, onChange, testid }: { options: { value: string; label: string }[]; value: string[]; onChange(v: string[]): void; testid: string }) {
  return (
    <div class="chips" role="group" data-testid={testid}>
      {options.map((o) => {
        const on = value.includes(o.value);
        return (
          <button
            key={o.value}
            type="button"
            role="checkbox"
            aria-checked={on}
            class={on ? 'chip on' : 'chip'}
            data-testid={`${testid}-${o.value}`}
            onClick={() => onChange(on ? value.filter((v) => v !== o.value) : [...value, o.value])}
          >
            {on ? '✓ ' : '○ '}
            {o.label}
          </button>
        );
      })}
    </div>
  );
}

const pad2 = (n: number) => String(n).padStart(2, '0');
export const hhmm = (minutes: number) => `${pad2(Math.floor(minutes / 60))}:${pad2(minutes % 60)}`;

/** A time of day in minutes since midnight, moved in steps of 1 and 10 minutes (no tiny clock face for gloves). */
export function TimeStepper({ value, onChange, label, testid }: { value: number; onChange(v: number): void; label: string; testid: string }) {
  const set = (v: number) => onChange(Math.max(0, Math.min(24 * 60 - 1, v)));
  return (
    <div class="field">
      <span class="field-label">{label}</span>
      <div class="stepper time-stepper" data-testid={testid}>
        <button type="button" class="step-btn" data-testid={`${testid}-minus10`} onClick={() => set(value - 10)}>
          −10
        </button>
        <button type="button" class="step-btn" data-testid={`${testid}-minus`} onClick={() => set(value - 1)}>
          −1
        </button>
        <output class="step-value time-value" data-testid={`${testid}-value`}>
          {hhmm(value)}
        </output>
        <button type="button" class="step-btn" data-testid={`${testid}-plus`} onClick={() => set(value + 1)}>
          +1
        </button>
        <button type="button" class="step-btn" data-testid={`${testid}-plus10`} onClick={() => set(value + 10)}>
          +10
        </button>
      </div>
    </div>
  );
}

export type ExpiryChoice = 'none' | '30d' | '1y' | 'date';

/** A seal's expiry: kept until released, 30 days, a year, or until the end of a chosen day. */
export function ExpiryPicker({ choice, date, onChoice, onDate, tz, testid }: { choice: ExpiryChoice; date: string; onChoice(c: ExpiryChoice): void; onDate(d: string): void; tz: string | undefined; testid: string }) {
  const { t } = useLang();
  const today = localDate(Date.now(), tz);
  return (
    <div class="field">
      <span class="field-label">{t('sealExpiry')}</span>
      <Chips<ExpiryChoice>
        options={[
          { value: 'none', label: t('expiry.none') },
          { value: '30d', label: t('expiry.30d') },
          { value: '1y', label: t('expiry.1y') },
          { value: 'date', label: t('expiry.date') },
        ]}
        value={choice}
        onChange={onChoice}
        testid={testid}
      />
      {choice === 'date' && <DateStepper value={date} onChange={onDate} min={addDays(today, 1)} testid={`${testid}-date`} label={t('expiryDate')} today={today} />}
    </div>
  );
}

const dayMs = 24 * 3600_000;

export function expiryAt(choice: ExpiryChoice, date: string, tz: string | undefined, now = Date.now()): number | null {
  switch (choice) {
    case 'none':
      return null;
    case '30d':
      return now + 30 * dayMs;
    case '1y':
      return now + 365 * dayMs;
    case 'date':
      return localInstant(date, '23:59', tz);
  }
}
