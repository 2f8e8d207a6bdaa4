// Evidence seals (证据封存): footage kept past retention until released. The list with each seal's state,
// a new seal (prefilled from a chosen span), extending, releasing with a reason, and exporting with checksums.
import { useMemo, useState } from 'preact/hooks';
import type { CameraView, ExportView, SealView } from '../contracts.ts';
import { dateTime } from '../format.ts';
import { useAction } from '../gate/action.ts';
import { useNow } from '../gate/context.ts';
import { addDays, localDate, localInstant } from '../gate/rules.ts';
import { DateStepper, Empty, FieldError, FullScreen, Sheet, TextField } from '../gate/widgets.tsx';
import { translateOpen, useLang } from '../i18n.ts';
import { useQuery } from '../patrol/context.ts';
import { cameraName, sizeText, spanText, upsert, useCameras, videoErrorText } from './common.ts';
import { videoApi, type VideoApi } from './videoApi.ts';
import { expiryAt, ExpiryPicker, hhmm, MultiChips, TimeStepper, type ExpiryChoice } from './widgets.tsx';
import '../gate/gate.css';
import '../patrol/patrol.css';
import './video.css';

const minutesOfDay = (ms: number, tz: string | undefined) => {
  const [h, m] = new Intl.DateTimeFormat('en-GB', { timeZone: tz, hourCycle: 'h23', hour: '2-digit', minute: '2-digit' }).format(ms).split(':').map(Number) as [number, number];
  return h * 60 + m;
};

/** The gateway's own minimum for a reason (4 characters): checked here so the button says why before a round trip. */
const reasonOk = (r: string) => r.trim().length >= 4;

export interface SealPrefill {
  cameras: string[];
  start: number;
  end: number;
}

export function Seals({ token, timeZone }: { token: string; timeZone: string | undefined }) {
  const { t } = useLang();
  const api = useMemo(() => videoApi(token), [token]);
  const cams = useCameras(api);
  const seals = useQuery('seals', () => api.seals(), 60_000);
  const [creating, setCreating] = useState(false);
  const [open, setOpen] = useState<{ seal: SealView; what: 'extend' | 'release' | 'export' } | null>(null);
  const list = [...(seals.data ?? [])].sort((a, b) => b.createdAt - a.createdAt);
  const changed = (s: SealView) => seals.set((l) => upsert(l ?? [], s));

  return (
    <div class="seals" data-testid="seals">
      <div class="actions-row">
        <span class="spacer" />
        <button type="button" class="btn huge primary" data-testid="seal-new" onClick={() => setCreating(true)}>
          ＋ {t('sealNew')}
        </button>
      </div>
      <section class="panel" data-testid="seal-list">
        <h2 class="panel-title">
          {t('sealsTitle')} <span class="count">({list.length})</span>
        </h2>
        {seals.error && <p class="error">{videoErrorText(seals.error, t)}</p>}
        {!seals.data && !seals.error && <p class="muted">{t('loading')}</p>}
        {seals.data && list.length === 0 && <Empty text={t('sealsEmpty')} testid="seals-empty" />}
        <ul class="rows">
          {list.map((s) => (
            <SealRow key={s.id} s={s} cameras={cams.data} tz={timeZone} onAct={(what) => setOpen({ seal: s, what })} />
          ))}
        </ul>
      </section>
      {creating && (
        <SealForm
          api={api}
          cameras={cams.data ?? []}
          tz={timeZone}
          prefill={null}
          onClose={(s) => {
            setCreating(false);
            if (s) changed(s);
          }}
        />
      )}
      {open?.what === 'extend' && <ExtendSheet api={api} seal={open.seal} tz={timeZone} onClose={(s) => (setOpen(null), s && changed(s))} />}
      {open?.what === 'release' && <ReleaseSheet api={api} seal={open.seal} onClose={(s) => (setOpen(null), s && changed(s))} />}
      {open?.what === 'export' && <ExportSheet api={api} seal={open.seal} onClose={() => setOpen(null)} />}
    </div>
  );
}

const sealTone: Record<SealView['status'], string> = { active: 'seal-tag', expired: 'tag-warn', released: '' };

function SealRow({ s, cameras, tz, onAct }: { s: SealView; cameras: CameraView[] | null; tz: string | undefined; onAct(what: 'extend' | 'release' | 'export'): void }) {
  const { t, lang } = useLang();
  return (
    <li class="row seal-row" data-testid="seal" data-seal-id={s.id} data-status={s.status}>
      <div class="row-main">
        <span class={`tag ${sealTone[s.status]}`} data-testid="seal-status">
          {s.status === 'active' ? '▣ ' : ''}
          {translateOpen(t, 'sealStatus', s.status)}
        </span>
        <strong data-testid="seal-title">{s.title}</strong>
        <span>{spanText(s.start, s.end, lang, tz)}</span>
        <span class="muted">{s.cameras.map((c) => cameraName(cameras, c)).join('、')}</span>
        <span class="visit-line">{s.reason}</span>
        <span class="visit-line muted">
          {s.expiresAt === null ? t('sealKeptUntilReleased') : t('sealExpiresAt', { at: dateTime(s.expiresAt, lang, tz) })} · {sizeText(s.bytes)} · {t('sealCreated', { by: s.createdBy, at: dateTime(s.createdAt, lang, tz) })}
          {s.releasedAt !== null && ` · ${t('sealReleased', { by: s.releasedBy ?? '', at: dateTime(s.releasedAt, lang, tz) })}`}
        </span>
      </div>
      <div class="row-actions">
        {s.status !== 'released' && (
          <>
            <button type="button" class="btn big" data-testid="seal-extend" onClick={() => onAct('extend')}>
              ↻ {t('sealExtend')}
            </button>
            <button type="button" class="btn big primary" data-testid="seal-export" onClick={() => onAct('export')}>
              ⬇ {t('sealExport')}
            </button>
            <button type="button" class="btn big stop" data-testid="seal-release" onClick={() => onAct('release')}>
              □ {t('sealRelease')}
            </button>
          </>
        )}
      </div>
    </li>
  );
}

/** A new seal: cameras, the span (one day, start and end time), a title, the reason and how long to keep it. */
export function SealForm({ api, cameras, tz, prefill, onClose }: { api: VideoApi; cameras: CameraView[]; tz: string | undefined; prefill: SealPrefill | null; onClose(created: SealView | null): void }) {
  const { t } = useLang();
  const now = useNow(60_000);
  const today = localDate(now, tz);
  const [picked, setPicked] = useState<string[]>(prefill?.cameras ?? []);
  const [date, setDate] = useState(prefill ? localDate(prefill.start, tz) : today);
  const [from, setFrom] = useState(prefill ? minutesOfDay(prefill.start, tz) : Math.max(0, minutesOfDay(now, tz) - 30));
  // A span ending at midnight is shown as 23:59 of its day.
  const [to, setTo] = useState(prefill ? (localDate(prefill.end, tz) === localDate(prefill.start, tz) ? minutesOfDay(prefill.end, tz) : 24 * 60 - 1) : minutesOfDay(now, tz));
  const [title, setTitle] = useState('');
  const [reason, setReason] = useState('');
  const [choice, setChoice] = useState<ExpiryChoice>('none');
  const [expiryDate, setExpiryDate] = useState(addDays(today, 90));
  const [done, setDone] = useState<SealView | null>(null);
  const action = useAction();

  const why = picked.length === 0 ? t('needCameras') : to <= from ? t('endBeforeStart') : title.trim().length < 2 ? t('needSealTitle') : !reasonOk(reason) ? t('reasonTooShort') : null;

  const submit = async () => {
    if (why) return;
    const start = localInstant(date, hhmm(from), tz);
    const end = localInstant(date, hhmm(to), tz);
    const body = { cameras: picked, start, end, title: title.trim(), reason: reason.trim(), expiresAt: expiryAt(choice, expiryDate, tz) };
    const r = await action.run(`seal:${JSON.stringify({ ...body, expiresAt: choice })}`, (key) => api.seal(body, key));
    if (r) setDone(r);
  };

  return (
    <FullScreen
      title={t('sealNew')}
      onClose={() => onClose(done)}
      testid="seal-form"
      closeLabel={done ? t('done') : t('cancel')}
      footer={
        !done && (
          <>
            <FieldError text={action.error ? videoErrorText(action.error, t) : why} testid="seal-why" />
            <span class="spacer" />
            <button type="button" class="btn huge primary" data-testid="seal-submit" disabled={!!why || action.busy} onClick={() => void submit()}>
              ▣ {t('sealSubmit')}
            </button>
          </>
        )
      }
    >
      {done ? (
        <p class="notice notice-ok" role="status" data-testid="seal-done">
          ✓ {t('sealDone', { title: done.title })}
        </p>
      ) : (
        <div class="form-fields">
          <div class="field">
            <span class="field-label">{t('pbCameras')}</span>
            <MultiChips options={cameras.map((c) => ({ value: c.id, label: c.name }))} value={picked} onChange={setPicked} testid="seal-camera" />
          </div>
          <div class="field-row">
            <DateStepper value={date} onChange={setDate} testid="seal-date" label={t('patrolDate')} today={today} />
            <TimeStepper value={from} onChange={setFrom} label={t('spanFrom')} testid="seal-from" />
            <TimeStepper value={to} onChange={setTo} label={t('spanTo')} testid="seal-to" />
          </div>
          <TextField label={t('sealTitle')} value={title} onInput={setTitle} testid="seal-title-input" placeholder={t('sealTitlePh')} maxLength={80} />
          <TextField label={t('sealReason')} value={reason} onInput={setReason} testid="seal-reason" placeholder={t('sealReasonPh')} multiline maxLength={400} />
          <ExpiryPicker choice={choice} date={expiryDate} onChoice={setChoice} onDate={setExpiryDate} tz={tz} testid="seal-expiry" />
        </div>
      )}
    </FullScreen>
  );
}

function ExtendSheet({ api, seal, tz, onClose }: { api: VideoApi; seal: SealView; tz: string | undefined; onClose(s: SealView | null): void }) {
  const { t } = useLang();
  const today = localDate(Date.now(), tz);
  const [choice, setChoice] = useState<ExpiryChoice>('1y');
  const [date, setDate] = useState(addDays(today, 365));
  const [reason, setReason] = useState('');
  const action = useAction();
  const submit = async () => {
    if (!reasonOk(reason)) return;
    const r = await action.run(`extend:${seal.id}:${choice}:${date}:${reason}`, (key) => api.extendSeal(seal.id, { expiresAt: expiryAt(choice, date, tz), reason: reason.trim() }, key));
    if (r) onClose(r);
  };
  return (
    <Sheet title={t('sealExtendTitle', { title: seal.title })} onClose={() => onClose(null)} testid="seal-extend-sheet">
      <div class="form-fields">
        <ExpiryPicker choice={choice} date={date} onChoice={setChoice} onDate={setDate} tz={tz} testid="extend-expiry" />
        <TextField label={t('sealReason')} value={reason} onInput={setReason} testid="extend-reason" multiline maxLength={400} />
        <FieldError text={action.error ? videoErrorText(action.error, t) : reasonOk(reason) ? null : t('reasonTooShort')} testid="extend-why" />
        <button type="button" class="btn huge primary" data-testid="extend-submit" disabled={!reasonOk(reason) || action.busy} onClick={() => void submit()}>
          ↻ {t('sealExtend')}
        </button>
      </div>
    </Sheet>
  );
}

function ReleaseSheet({ api, seal, onClose }: { api: VideoApi; seal: SealView; onClose(s: SealView | null): void }) {
  const { t } = useLang();
  const [reason, setReason] = useState('');
  const action = useAction();
  const submit = async () => {
    if (!reasonOk(reason)) return;
    const r = await action.run(`release:${seal.id}:${reason}`, (key) => api.releaseSeal(seal.id, reason.trim(), key));
    if (r) onClose(r);
  };
  return (
    <Sheet title={t('sealReleaseTitle', { title: seal.title })} onClose={() => onClose(null)} testid="seal-release-sheet">
      <div class="form-fields">
        <p class="notice">⚠ {t('sealReleaseHint')}</p>
        <TextField label={t('sealReleaseReason')} value={reason} onInput={setReason} testid="release-reason" multiline maxLength={400} />
        <FieldError text={action.error ? videoErrorText(action.error, t) : reasonOk(reason) ? null : t('reasonTooShort')} testid="release-why" />
        <button type="button" class="btn huge stop" data-testid="release-submit" disabled={!reasonOk(reason) || action.busy} onClick={() => void submit()}>
          □ {t('sealRelease')}
        </button>
      </div>
    </Sheet>
  );
}

/** Exports the seal at once (the gateway copies the clips and writes a manifest) and lists the files with their SHA-256. */
function ExportSheet({ api, seal, onClose }: { api: VideoApi; seal: SealView; onClose(): void }) {
  const { t } = useLang();
  const [exp, setExp] = useState<ExportView | null>(null);
  const action = useAction();
  const run = async () => {
    const r = await action.run(`export:${seal.id}`, (key) => api.exportSeal(seal.id, key));
    if (r) setExp(r);
  };
  return (
    <Sheet title={t('sealExportTitle', { title: seal.title })} onClose={onClose} testid="seal-export-sheet">
      {!exp && (
        <div class="form-fields">
          <p class="muted">{t('sealExportHint')}</p>
          <FieldError text={action.error && videoErrorText(action.error, t)} testid="export-error" />
          <button type="button" class="btn huge primary" data-testid="export-run" disabled={action.busy} onClick={() => void run()}>
            {action.busy ? t('exporting') : `⬇ ${t('sealExportRun')}`}
          </button>
        </div>
      )}
      {exp && (
        <ul class="rows export-files" data-testid="export-files" data-export-id={exp.id}>
          {exp.files.map((f) => (
            <li key={f.name} class="row" data-testid="export-file" data-name={f.name}>
              <div class="row-main">
                <strong>{f.name}</strong>
                <span class="muted">{sizeText(f.bytes)}</span>
                <span class="visit-line mono sha" data-testid="export-sha">
                  SHA-256 {f.sha256}
                </span>
              </div>
              <a class="btn big primary link-btn" href={api.exportFileUrl(exp.id, f.name)} download={f.name} data-testid="export-download">
                ⬇ {t('download')}
              </a>
            </li>
          ))}
        </ul>
      )}
    </Sheet>
  );
}
