// Footage review (录像调阅): pick cameras and a day, see each camera's day (recorded, gaps with their cause,
// sealed), choose a span and a reason and ask to review it; my requests with their status, and with an
// approved one the player. A supervisor may also seal the chosen span from here.
import { useMemo, useState } from 'preact/hooks';
import type { CameraView, GrantView, PersonView, Span, Timeline } from '../contracts.ts';
import { useLive, useNow } from '../gate/context.ts';
import { useAction } from '../gate/action.ts';
import { addDays, localDate, localInstant } from '../gate/rules.ts';
import { Chips, DateStepper, Empty, FieldError, TextField } from '../gate/widgets.tsx';
import { translateOpen, translator, useLang, type MsgKey } from '../i18n.ts';
import { useQuery } from '../patrol/context.ts';
import { hm } from '../patrol/status.ts';
import { cameraName, gapReasonText, spanText, upsert, useCameras, videoErrorText } from './common.ts';
import { DayBar, whatIsAt } from './DayBar.tsx';
import { Player } from './Player.tsx';
import { SealForm } from './Seals.tsx';
import { videoApi, type VideoApi } from './videoApi.ts';
import { MultiChips } from './widgets.tsx';
import '../gate/gate.css';
import '../patrol/patrol.css';
import './video.css';

// Records are read at the management office in Chinese: the reason is stored in zh-CN whatever the screen shows.
const zh = translator('zh-CN');
const reviewReasons: MsgKey[] = ['reviewReason.incident', 'reviewReason.complaint', 'reviewReason.police', 'reviewReason.lost', 'reviewReason.vehicle', 'reviewReason.other'];
const lengths = [5, 15, 30, 60] as const;
const minute = 60_000;

export function Playback({ token, person, timeZone }: { token: string; person: PersonView; timeZone: string | undefined }) {
  const { t, lang } = useLang();
  const api = useMemo(() => videoApi(token), [token]);
  const now = useNow(30_000);
  const today = localDate(now, timeZone);
  const cams = useCameras(api);
  const [date, setDate] = useState(today);
  const [picked, setPicked] = useState<string[] | null>(null);
  const [length, setLength] = useState<number>(15);
  const [start, setStart] = useState<number | null>(null);
  const [hint, setHint] = useState<{ camera: string; at: number } | null>(null);
  // Where the day's bar was tapped: a closer bar of the two hours around it allows picking to the minute.
  const [focus, setFocus] = useState<{ camera: string; at: number } | null>(null);
  const [reason, setReason] = useState<MsgKey | null>(null);
  const [note, setNote] = useState('');
  const [sent, setSent] = useState<GrantView | null>(null);
  const [playing, setPlaying] = useState<{ grant: GrantView; camera: string } | null>(null);
  const [sealing, setSealing] = useState(false);
  const action = useAction();

  const cameras = cams.data ?? [];
  // Until the person picks, the first camera is shown: an empty screen would not say what to do.
  const selected = picked ?? (cameras[0] ? [cameras[0].id] : []);
  const dayStart = localInstant(date, '00:00', timeZone);
  const dayEnd = localInstant(addDays(date, 1), '00:00', timeZone);
  const selection: Span | null = start === null ? null : { start, end: Math.min(dayEnd, start + length * minute) };

  const grants = useQuery('grants|mine', () => api.grants({ mine: true }), 30_000);
  useLive((msg) => {
    if (msg.type === 'video.grant' && msg.grant.requestedBy === person.id) grants.set((list) => upsert(list ?? [], msg.grant));
  });
  const mine = [...(grants.data ?? [])].sort((a, b) => b.requestedAt - a.requestedAt).slice(0, 20);

  const reasonText = [reason ? zh(reason) : '', note.trim()].filter(Boolean).join('：');
  const why =
    selected.length === 0
      ? t('needCameras')
      : !selection
        ? t('needSpan')
        : !reason
          ? t('needReviewReason')
          : reason === 'reviewReason.other' && !note.trim()
            ? t('needOtherNote')
            : reasonText.length < 4
              ? t('reasonTooShort')
              : null;

  const pickAt = (camera: string, at: number, fine: boolean) => {
    if (!fine) setFocus({ camera, at });
    // Whole minutes, and the span kept inside the day.
    const s = Math.min(dayEnd - length * minute, Math.floor(at / minute) * minute);
    setStart(Math.max(dayStart, s));
    setHint({ camera, at });
  };
  const nudge = (min: number) => start !== null && setStart(Math.max(dayStart, Math.min(dayEnd - minute, start + min * minute)));
  const changeDate = (d: string) => {
    setDate(d);
    setStart(null);
    setHint(null);
    setFocus(null);
  };

  const submit = async () => {
    if (why || !selection) return;
    const r = await action.run(`grant:${selected.join(',')}:${selection.start}:${selection.end}:${reasonText}`, (key) =>
      api.requestGrant({ cameras: selected, start: selection.start, end: selection.end, reason: reasonText, minutes: 120 }, key),
    );
    if (r) {
      setSent(r);
      grants.set((list) => upsert(list ?? [], r));
      setReason(null);
      setNote('');
    }
  };

  return (
    <div class="video-review" data-testid="playback">
      <section class="panel">
        <div class="review-pick">
          <DateStepper value={date} onChange={changeDate} testid="pb-date" label={t('patrolDate')} today={today} />
          <div class="field">
            <span class="field-label">{t('pbCameras')}</span>
            {cams.error && <p class="error">{videoErrorText(cams.error, t)}</p>}
            {cams.data && cameras.length === 0 && <Empty text={t('noCameras')} />}
            <MultiChips options={cameras.map((c) => ({ value: c.id, label: c.name }))} value={selected} onChange={setPicked} testid="pb-camera" />
          </div>
        </div>
        <p class="muted panel-hint">{t('pbHint')}</p>
        <div class="day-list" data-testid="pb-days">
          {selected.map((id) => (
            <CameraDay key={`${id}|${date}`} api={api} camera={cameras.find((c) => c.id === id)} id={id} from={dayStart} to={dayEnd} selection={selection} hint={hint?.camera === id ? hint.at : null} focus={focus?.camera === id ? focus.at : null} tz={timeZone} onPick={(at, fine) => pickAt(id, at, fine)} />
          ))}
        </div>
        <div class="legend-row" aria-hidden="true">
          <span class="lg lg-rec">{t('lgRecorded')}</span>
          <span class="lg lg-gap">{t('lgGap')}</span>
          <span class="lg lg-seal">▣ {t('lgSealed')}</span>
          <span class="lg lg-sel">{t('lgSelected')}</span>
        </div>
      </section>

      <section class="panel request-panel" data-testid="pb-request">
        <h2 class="panel-title">{t('pbRequestTitle')}</h2>
        <div class="span-row">
          <div class="field">
            <span class="field-label">{t('pbSpan')}</span>
            <div class="span-now">
              <button type="button" class="btn" data-testid="pb-earlier" disabled={start === null} onClick={() => nudge(-5)}>
                ◀ 5′
              </button>
              <strong class="span-text" data-testid="pb-span">
                {selection ? `${hm(selection.start, lang, timeZone)}–${hm(selection.end, lang, timeZone)}` : t('pbNoSpan')}
              </strong>
              <button type="button" class="btn" data-testid="pb-later" disabled={start === null} onClick={() => nudge(5)}>
                5′ ▶
              </button>
            </div>
          </div>
          <div class="field">
            <span class="field-label">{t('pbLength')}</span>
            <Chips options={lengths.map((n) => ({ value: String(n), label: t('minutesN', { n: String(n) }) }))} value={String(length)} onChange={(v) => setLength(Number(v))} testid="pb-length" />
          </div>
        </div>
        <div class="field">
          <span class="field-label">{t('pbReason')}</span>
          <Chips options={reviewReasons.map((k) => ({ value: k, label: t(k) }))} value={reason} onChange={(v) => setReason(v as MsgKey)} testid="pb-reason" wide />
        </div>
        <TextField label={t('pbNote')} value={note} onInput={setNote} testid="pb-note" placeholder={t('pbNotePh')} maxLength={300} />
        <div class="actions-row">
          <FieldError text={action.error ? videoErrorText(action.error, t) : why} testid="pb-why" />
          <span class="spacer" />
          {person.role === 'supervisor' && (
            <button type="button" class="btn big warn-btn" data-testid="pb-seal" disabled={!selection || selected.length === 0} onClick={() => setSealing(true)}>
              ▣ {t('sealThis')}
            </button>
          )}
          <button type="button" class="btn huge primary" data-testid="pb-submit" disabled={!!why || action.busy} onClick={() => void submit()}>
            {t('pbSubmit')}
          </button>
        </div>
        {sent && (
          <p class="notice notice-ok" role="status" data-testid="pb-sent">
            ✓ {sent.status === 'approved' ? t('pbSelfGranted') : t('pbSent')}
          </p>
        )}
      </section>

      <section class="panel" data-testid="my-grants">
        <h2 class="panel-title">
          {t('myGrants')} <span class="count">({mine.length})</span>
        </h2>
        {grants.error && <p class="error">{videoErrorText(grants.error, t)}</p>}
        {grants.data && mine.length === 0 && <Empty text={t('myGrantsEmpty')} testid="my-grants-empty" />}
        <ul class="rows">
          {mine.map((g) => (
            <GrantRow key={g.id} g={g} cameras={cameras} tz={timeZone} now={now} onPlay={(camera) => setPlaying({ grant: g, camera })} />
          ))}
        </ul>
      </section>

      {playing && <Player api={api} token={token} grant={playing.grant} camera={playing.camera} cameraName={cameraName(cameras, playing.camera)} tz={timeZone} onClose={() => setPlaying(null)} />}
      {sealing && selection && <SealForm api={api} cameras={cameras} tz={timeZone} prefill={{ cameras: selected, start: selection.start, end: selection.end }} onClose={() => setSealing(false)} />}
    </div>
  );
}

/** One camera's day: loads its timeline and says what lies where the person tapped. */
const zoomHalfMs = 3600_000;

function CameraDay({ api, camera, id, from, to, selection, hint, focus, tz, onPick }: { api: VideoApi; camera: CameraView | undefined; id: string; from: number; to: number; selection: Span | null; hint: number | null; focus: number | null; tz: string | undefined; onPick(at: number, fine: boolean): void }) {
  const { t, lang } = useLang();
  const tl = useQuery<Timeline>(`tl|${id}|${from}`, () => api.timeline(id, from, to), 60_000);
  const data = tl.stale ? null : tl.data;
  const at = hint === null ? null : whatIsAt(data, hint);
  // Two hours around the tap, kept inside the day: wide enough to find the moment, fine enough to pick the minute.
  const zoom = focus === null ? null : { from: Math.max(from, Math.min(to - 2 * zoomHalfMs, focus - zoomHalfMs)), to: Math.min(to, Math.max(from + 2 * zoomHalfMs, focus + zoomHalfMs)) };
  return (
    <div class="camera-day" data-testid="pb-day" data-camera={id}>
      <div class="camera-day-head">
        <strong>{camera?.name ?? id}</strong>
        {tl.error && <span class="error">{videoErrorText(tl.error, t)}</span>}
        {!data && !tl.error && <span class="muted">{t('loading')}</span>}
        {data && data.recorded.length === 0 && <span class="muted">{t('pbNothingRecorded')}</span>}
      </div>
      <DayBar from={from} to={to} recorded={data?.recorded ?? []} gaps={data?.gaps ?? []} sealed={data?.sealed ?? []} selection={selection} tickHours={3} tz={tz} label={`${camera?.name ?? id} ${t('timelineLabel')}`} testid={`pb-bar-${id}`} onPick={(at) => onPick(at, false)} />
      {zoom && (
        <DayBar
          from={zoom.from}
          to={zoom.to}
          recorded={data?.recorded ?? []}
          gaps={data?.gaps ?? []}
          sealed={data?.sealed ?? []}
          selection={selection}
          tickHours={0.25}
          tz={tz}
          label={`${camera?.name ?? id} ${t('timelineZoomLabel')}`}
          testid={`pb-zoom-${id}`}
          onPick={(at) => onPick(at, true)}
        />
      )}
      {at && hint !== null && (
        <p class="pb-at" data-testid="pb-at">
          {hm(hint, lang, tz)}：
          {at.gap ? (
            <span class="tag tag-bad" data-testid="pb-gap-reason">
              ✕ {t('gapAt', { from: hm(at.gap.start, lang, tz), to: hm(at.gap.end, lang, tz), why: gapReasonText(t, at.gap.reason) })}
            </span>
          ) : at.recorded ? (
            <span class="tag tag-ok">✓ {t('recordedAt')}</span>
          ) : (
            <span class="tag tag-warn">{t('notRecordedAt')}</span>
          )}
          {at.seal && <span class="tag seal-tag">▣ {t('sealedAs', { title: at.seal.title })}</span>}
        </p>
      )}
    </div>
  );
}

const grantTone: Record<GrantView['status'], string> = { pending: 'tag-warn', approved: 'tag-ok', denied: 'tag-bad', expired: '', revoked: 'tag-bad' };

export function GrantStatusTag({ g, now, tz }: { g: GrantView; now: number; tz: string | undefined }) {
  const { t, lang } = useLang();
  // An approval whose time ran out reads as expired even before the gateway's next sweep says so.
  const status = g.status === 'approved' && g.validUntil !== null && g.validUntil <= now ? 'expired' : g.status;
  return (
    <span class={`tag ${grantTone[status]}`} data-testid="grant-status" data-status={status}>
      {status === 'approved' && g.validUntil !== null ? `✓ ${t('grantApprovedUntil', { at: hm(g.validUntil, lang, tz) })}` : translateOpen(t, 'grantStatus', status)}
    </span>
  );
}

function GrantRow({ g, cameras, tz, now, onPlay }: { g: GrantView; cameras: CameraView[]; tz: string | undefined; now: number; onPlay(camera: string): void }) {
  const { t, lang } = useLang();
  const playable = g.status === 'approved' && (g.validUntil === null || g.validUntil > now);
  return (
    <li class="row grant-row" data-testid="grant" data-grant-id={g.id} data-status={g.status}>
      <div class="row-main">
        <GrantStatusTag g={g} now={now} tz={tz} />
        <strong>{spanText(g.start, g.end, lang, tz)}</strong>
        <span class="muted">{g.cameras.map((c) => cameraName(cameras, c)).join('、')}</span>
        <span class="visit-line">{g.reason}</span>
        {g.note && (
          <span class="visit-line muted">
            {t('decisionNote')}：{g.note}
          </span>
        )}
      </div>
      {playable && (
        <div class="row-actions">
          {g.cameras.map((c) => (
            <button key={c} type="button" class="btn big go" data-testid="grant-play" data-camera={c} onClick={() => onPlay(c)}>
              ▶ {t('play')} {cameraName(cameras, c)}
            </button>
          ))}
        </div>
      )}
    </li>
  );
}
