// Touch building blocks of the gate screens: chips, stepper, keypads, the plate box and keyboard, sheets.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { useLang } from '../i18n.ts';
import { addDays, plateDisplay, plateLetters, plateLooksValid, plateSpecialFirst, plateSpecialLast, plateStyle, provinces } from './rules.ts';

export interface Chip<V extends string> {
  value: V;
  label: string;
}

/** One choice out of a few, as big toggles; the chosen one is marked by a tick as well as its colour. */
export function Chips<V extends string>({ options, value, onChange, testid, wide }: { options: Chip<V>[]; value: V | null; onChange(v: V): void; testid: string; wide?: boolean }) {
  return (
    <div class={wide ? 'chips chips-wide' : 'chips'} role="radiogroup" data-testid={testid}>
      {options.map((o) => (
        <button key={o.value} type="button" role="radio" aria-checked={o.value === value} class={o.value === value ? 'chip on' : 'chip'} data-testid={`${testid}-${o.value}`} onClick={() => onChange(o.value)}>
          {o.value === value && <span aria-hidden="true">✓ </span>}
          {o.label}
        </button>
      ))}
    </div>
  );
}

export function Stepper({ value, min, max, onChange, testid, label }: { value: number; min: number; max: number; onChange(v: number): void; testid: string; label: string }) {
  return (
    <div class="stepper" data-testid={testid} role="group" aria-label={label}>
      <button type="button" class="step-btn" aria-label="−" data-testid={`${testid}-minus`} disabled={value <= min} onClick={() => onChange(Math.max(min, value - 1))}>
        −
      </button>
      <output class="step-value" data-testid={`${testid}-value`}>
        {value}
      </output>
      <button type="button" class="step-btn" aria-label="+" data-testid={`${testid}-plus`} disabled={value >= max} onClick={() => onChange(Math.min(max, value + 1))}>
        +
      </button>
    </div>
  );
}

export type KeypadKind = 'digits' | 'id' | 'unit' | 'alnum';

const keyRows: Record<KeypadKind, string[]> = {
  digits: ['1', '2', '3', '4', '5', '6', '7', '8', '9', '', '0', ''],
  id: ['1', '2', '3', '4', '5', '6', '7', '8', '9', 'X', '0', ''],
  unit: ['1', '2', '3', '4', '5', '6', '7', '8', '9', '-', '0', ''],
  alnum: [...'1234567890', ...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'],
};

/** An on-screen keypad (the gate PC has no keyboard); `prefix` makes every key's test id unique per field. */
export function Keypad({ kind, prefix, onKey, onDelete, onClear, disabled }: { kind: KeypadKind; prefix: string; onKey(k: string): void; onDelete(): void; onClear(): void; disabled?: boolean }) {
  const { t } = useLang();
  return (
    <div class={`keypad keypad-${kind}`} data-testid={`${prefix}-keypad`}>
      {keyRows[kind].map((k, i) =>
        k ? (
          <button key={k} type="button" class="kp-key" data-testid={`${prefix}-key-${k}`} disabled={disabled} onClick={() => onKey(k)}>
            {k}
          </button>
        ) : (
          <span key={`gap-${i}`} class="kp-gap" />
        ),
      )}
      <button type="button" class="kp-key kp-fn" data-testid={`${prefix}-clear`} disabled={disabled} onClick={onClear}>
        {t('pinClear')}
      </button>
      <button type="button" class="kp-key kp-fn" data-testid={`${prefix}-del`} disabled={disabled} onClick={onDelete}>
        ⌫ {t('pinBackspace')}
      </button>
    </div>
  );
}

/** A value typed on a keypad: a large box that shows what was typed; tapping it makes it the keypad's target. */
export function KeyField({ label, value, placeholder, active, onActivate, testid, error, hint }: { label: string; value: string; placeholder?: string; active: boolean; onActivate(): void; testid: string; error?: string | null; hint?: ComponentChildren }) {
  return (
    <div class="field">
      <span class="field-label">{label}</span>
      <button type="button" class={`keyfield${active ? ' active' : ''}${error ? ' invalid' : ''}`} aria-pressed={active} data-testid={testid} onClick={onActivate}>
        {value ? <span class="keyfield-value">{value}</span> : <span class="keyfield-ph">{placeholder ?? ''}</span>}
        {active && <span class="caret" aria-hidden="true" />}
      </button>
      {hint}
      <FieldError text={error} testid={`${testid}-error`} />
    </div>
  );
}

export function FieldError({ text, testid }: { text: string | null | undefined; testid: string }) {
  if (!text) return null;
  return (
    <p class="field-error" role="alert" data-testid={testid}>
      ⚠ {text}
    </p>
  );
}

/** A normal text input (the kiosk's IME handles Chinese); big, with its label above. */
export function TextField({ label, value, onInput, testid, placeholder, error, multiline, maxLength }: { label: string; value: string; onInput(v: string): void; testid: string; placeholder?: string; error?: string | null; multiline?: boolean; maxLength?: number }) {
  return (
    <label class="field">
      <span class="field-label">{label}</span>
      {multiline ? (
        <textarea class={error ? 'text-input invalid' : 'text-input'} data-testid={testid} value={value} placeholder={placeholder} maxLength={maxLength} rows={3} onInput={(e) => onInput(e.currentTarget.value)} />
      ) : (
        <input class={error ? 'text-input invalid' : 'text-input'} data-testid={testid} value={value} placeholder={placeholder} maxLength={maxLength} onInput={(e) => onInput(e.currentTarget.value)} />
      )}
      <FieldError text={error} testid={`${testid}-error`} />
    </label>
  );
}

/** The plate as it looks on the car: blue, or green for new energy (8 characters), with the kind also in words. */
export function PlateBox({ plate, testid, size = 'md' }: { plate: string; testid?: string; size?: 'md' | 'card' | 'lg' }) {
  const { t } = useLang();
  const style = plateStyle(plate);
  return (
    <span class={`platebox plate-${style} plate-${size}`} data-testid={testid} data-plate={plate}>
      <span class="platebox-text">{plate ? plateDisplay(plate) : '—'}</span>
      {style === 'green' && <span class="platebox-kind">{t('plateNewEnergy')}</span>}
    </span>
  );
}

const maxPlate = 8;

/** The plate keyboard: province characters first, then letters (no I, O) and digits, with a delete key. */
export function PlateKeyboard({ value, onChange, extra }: { value: string; onChange(v: string): void; extra?: ComponentChildren }) {
  const { t } = useLang();
  // The stage follows the plate (empty: the province comes next) unless the guard switched it by hand.
  const [manual, setManual] = useState<'province' | 'alnum' | null>(null);
  const stage = manual ?? (value ? 'alnum' : 'province');
  const change = (v: string) => {
    setManual(null);
    onChange(v);
  };
  const add = (k: string) => value.length < maxPlate && change(value + k);
  const key = (k: string, cls = '', disabled = false) => (
    <button key={k} type="button" class={`pk-key ${cls}`} data-testid={`plate-key-${k}`} disabled={disabled || value.length >= maxPlate} onClick={() => add(k)}>
      {k}
    </button>
  );
  const lastPosition = value.length >= 6;

  return (
    <div class="platekb" data-testid="plate-keyboard" data-stage={stage}>
      <div class="platekb-head">
        <PlateBox plate={value} testid="plate-value" size="lg" />
        <span class="platekb-hint muted" aria-live="polite">
          {value && !plateLooksValid(value) ? t('plateIncomplete') : value ? t('plateOk') : t('platePickProvince')}
        </span>
        {extra}
      </div>
      {stage === 'province' ? (
        <div class="pk-grid pk-provinces">
          {provinces.map((p) => key(p, 'pk-cn'))}
          {plateSpecialFirst.map((p) => key(p, 'pk-cn pk-special'))}
          {plateSpecialLast.map((p) => key(p, 'pk-cn pk-special', !lastPosition))}
        </div>
      ) : (
        <div class="pk-alnum">
          <div class="pk-row">{[...'1234567890'].map((d) => key(d))}</div>
          <div class="pk-row">{[...'QWERTYUP'].filter((c) => plateLetters.includes(c)).map((c) => key(c))}</div>
          <div class="pk-row">{[...'ASDFGHJKL'].map((c) => key(c))}</div>
          <div class="pk-row">
            {[...'ZXCVBNM'].map((c) => key(c))}
            {plateSpecialLast.slice(0, 3).map((c) => key(c, 'pk-cn pk-special', !lastPosition))}
          </div>
          <div class="pk-row">{plateSpecialLast.slice(3).map((c) => key(c, 'pk-cn pk-special', !lastPosition))}</div>
        </div>
      )}
      <div class="pk-fns">
        <button type="button" class="pk-key pk-fn" data-testid="plate-stage" onClick={() => setManual(stage === 'province' ? 'alnum' : 'province')}>
          {stage === 'province' ? t('plateStageAlnum') : t('plateStageProvince')}
        </button>
        <button type="button" class="pk-key pk-fn" data-testid="plate-clear" onClick={() => change('')}>
          {t('pinClear')}
        </button>
        <button type="button" class="pk-key pk-fn" data-testid="plate-del" onClick={() => change(value.slice(0, -1))}>
          ⌫ {t('pinBackspace')}
        </button>
      </div>
    </div>
  );
}

/** A modal panel over the screen; the backdrop does not close it (a glove brushing it must not lose a choice). */
export function Sheet({ title, onClose, children, testid }: { title: string; onClose(): void; children: ComponentChildren; testid: string }) {
  const { t } = useLang();
  return (
    <div class="sheet-backdrop">
      <div class="sheet" role="dialog" aria-modal="true" aria-label={title} data-testid={testid}>
        <div class="sheet-head">
          <h2 class="sheet-title">{title}</h2>
          <button type="button" class="btn sheet-close" data-testid={`${testid}-close`} onClick={onClose}>
            ✕ {t('cancel')}
          </button>
        </div>
        <div class="sheet-body">{children}</div>
      </div>
    </div>
  );
}

/** Pick one reason with one tap; `busy` blocks a second tap while the first is on its way. */
export function ReasonSheet({ title, reasons, onPick, onClose, busy, error, testid, tone }: { title: string; reasons: string[]; onPick(r: string, i: number): void; onClose(): void; busy: boolean; error?: string | null; testid: string; tone: 'go' | 'stop' }) {
  return (
    <Sheet title={title} onClose={onClose} testid={testid}>
      <div class="reason-grid">
        {reasons.map((r, i) => (
          <button key={r} type="button" class={`reason-btn tone-${tone}`} data-testid={`${testid}-reason-${i}`} disabled={busy} onClick={() => onPick(r, i)}>
            {r}
          </button>
        ))}
      </div>
      <FieldError text={error} testid={`${testid}-error`} />
    </Sheet>
  );
}

/** A screen over the whole display (registration, pass forms): a clear title and a way back. */
export function FullScreen({ title, onClose, children, footer, testid, closeLabel }: { title: string; onClose(): void; children: ComponentChildren; footer?: ComponentChildren; testid: string; closeLabel?: string }) {
  const { t } = useLang();
  return (
    <div class="fullscreen" role="dialog" aria-modal="true" aria-label={title} data-testid={testid}>
      <header class="fs-head">
        <h1 class="fs-title">{title}</h1>
        <button type="button" class="btn fs-close" data-testid={`${testid}-close`} onClick={onClose}>
          ✕ {closeLabel ?? t('cancel')}
        </button>
      </header>
      <div class="fs-body">{children}</div>
      {footer && <footer class="fs-foot">{footer}</footer>}
    </div>
  );
}

/** A local date moved a day at a time (no calendar popup to hunt in with gloves). */
export function DateStepper({ value, onChange, min, testid, label, today }: { value: string; onChange(v: string): void; min?: string; testid: string; label: string; today: string }) {
  const { t } = useLang();
  return (
    <div class="field">
      <span class="field-label">{label}</span>
      <div class="stepper date-stepper" data-testid={testid}>
        <button type="button" class="step-btn" data-testid={`${testid}-minus`} disabled={!!min && value <= min} onClick={() => onChange(addDays(value, -1))}>
          −
        </button>
        <output class="step-value date-value" data-testid={`${testid}-value`}>
          {value}
          {value === today && <span class="muted"> {t('today')}</span>}
        </output>
        <button type="button" class="step-btn" data-testid={`${testid}-plus`} onClick={() => onChange(addDays(value, 1))}>
          +
        </button>
      </div>
    </div>
  );
}

export function Empty({ text, testid }: { text: string; testid?: string }) {
  return (
    <p class="empty muted" data-testid={testid}>
      {text}
    </p>
  );
}
