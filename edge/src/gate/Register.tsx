// Visitor registration, full screen: visitor -> host -> reason -> vehicle -> resident's confirmation -> pass slip.
// A returning visitor (found by ID or phone) or a pre-registration code fills the form, so the guard only confirms.
import { useEffect, useState } from 'preact/hooks';
import type { ConfirmationMethod, RegisterVisitRequest, ReturningVisitor, VisitView, WatchlistHit } from '../contracts.ts';
import { shortTime } from '../format.ts';
import { useLang, type MsgKey } from '../i18n.ts';
import { errorField, errorText, isWatchlistStop, useAction, type Field } from './action.ts';
import { ConfirmControls, notConfirmedReason, OverrideSheet, passForVisit } from './Confirm.tsx';
import { useGate } from './context.ts';
import { PassSlip } from './PassSlip.tsx';
import { reasonFromValue, reasonValue } from './reasons.ts';
import { HostStep, Summary, VehicleStep, VisitorStep, VisitStep, type Draft, type Errors } from './RegisterSteps.tsx';
import { endOfDay, mainlandIdValid, mobileValid, plateLooksValid } from './rules.ts';
import { FieldError, FullScreen, Sheet } from './widgets.tsx';

type Step = 'visitor' | 'host' | 'visit' | 'vehicle' | 'confirm';
const steps: Step[] = ['visitor', 'host', 'visit', 'vehicle', 'confirm'];
const stepOf: Record<Field, Step> = {
  idNumber: 'visitor',
  phone: 'visitor',
  name: 'visitor',
  preregistration: 'visitor',
  hostUnit: 'host',
  hostName: 'host',
  reason: 'visit',
  headcount: 'visit',
  plate: 'vehicle',
  leave: 'visit',
  date: 'visit',
  confirmedBy: 'confirm',
};

const emptyDraft: Draft = {
  idType: 'mainland-id',
  idNumber: '',
  phone: '',
  name: '',
  visitorId: null,
  returning: null,
  preregCode: '',
  prereg: null,
  unit: null,
  hostName: '',
  reason: null,
  reasonOther: '',
  headcount: 1,
  leave: '2h',
  plate: '',
};

const leaveHours = { '1h': 1, '2h': 2, '4h': 4 } as const;

export function Register({ onClose }: { onClose(): void }) {
  const { t, lang } = useLang();
  const { api, tz, person, siteName } = useGate();
  const [draft, setDraft] = useState<Draft>(emptyDraft);
  const [foundBy, setFoundBy] = useState<'idNumber' | 'phone' | null>(null);
  const [step, setStep] = useState<Step>('visitor');
  const [local, setLocal] = useState<Errors>({});
  const [method, setMethod] = useState<ConfirmationMethod | null>(null);
  const [confirmedBy, setConfirmedBy] = useState('');
  const [hits, setHits] = useState<WatchlistHit[]>([]);
  const [created, setCreated] = useState<VisitView | null>(null);
  const [done, setDone] = useState<VisitView | null>(null);
  const [overriding, setOverriding] = useState(false);
  const [leaving, setLeaving] = useState(false);
  const [preregNote, setPreregNote] = useState<MsgKey | null>(null);
  const action = useAction();
  const preregAction = useAction();

  const update = (patch: Partial<Draft>) => {
    setDraft((d) => {
      const next = { ...d, ...patch };
      // Editing the number that found a returning visitor means it may be someone else.
      if (foundBy && patch[foundBy] !== undefined && patch[foundBy] !== d[foundBy]) Object.assign(next, { visitorId: null, returning: null });
      return next;
    });
    if (foundBy && patch[foundBy] !== undefined) setFoundBy(null);
    const touched = Object.keys(patch) as (keyof Draft)[];
    setLocal((e) => {
      const copy = { ...e };
      for (const k of touched) {
        if (k === 'unit') delete copy.hostUnit;
        else if (k === 'preregCode') delete copy.preregistration;
        else delete copy[k as Field];
      }
      return copy;
    });
    if (action.error) action.clear();
    if (patch.preregCode !== undefined) {
      setPreregNote(null);
      preregAction.clear();
    }
  };

  // ---- returning visitor and watchlist, as soon as a number is complete ----------------------------------
  const idComplete = draft.idType === 'mainland-id' ? mainlandIdValid(draft.idNumber) : draft.idNumber.length >= 5 && step !== 'visitor';
  const phoneComplete = mobileValid(draft.phone);
  const plateComplete = plateLooksValid(draft.plate);

  const applyReturning = (v: ReturningVisitor, by: 'idNumber' | 'phone') => {
    setFoundBy(by);
    const last = v.lastVisit;
    setDraft((d) => {
      const lastReason = last && d.reason === null ? reasonFromValue(last.reason) : null;
      return {
        ...d,
        visitorId: v.visitorId,
        returning: v,
        name: d.name || v.name,
        plate: d.plate || v.plate || '',
        unit: d.unit ?? (last ? { id: last.hostUnitId, code: last.hostUnitCode } : null),
        hostName: d.hostName || last?.hostName || '',
        ...(lastReason && { reason: lastReason.reason, reasonOther: lastReason.other }),
        headcount: d.headcount === 1 && last ? Math.max(1, last.headcount) : d.headcount,
      };
    });
    if (last?.hostName) setConfirmedBy((c) => c || (last.hostName ?? ''));
  };

  const idKey = idComplete ? draft.idNumber : '';
  useEffect(() => {
    if (!idKey) return;
    let alive = true;
    api.lookupVisitor({ idNumber: idKey }).then((r) => alive && r.visitor && applyReturning(r.visitor, 'idNumber'), () => undefined);
    return () => void (alive = false);
  }, [idKey, api]);

  const phoneKey = phoneComplete && !draft.visitorId ? draft.phone : '';
  useEffect(() => {
    if (!phoneKey) return;
    let alive = true;
    api.lookupVisitor({ phone: phoneKey }).then((r) => alive && r.visitor && applyReturning(r.visitor, 'phone'), () => undefined);
    return () => void (alive = false);
  }, [phoneKey, api]);

  const watchKey = JSON.stringify([idKey, phoneComplete ? draft.phone : '', plateComplete ? draft.plate : '']);
  useEffect(() => {
    const [idNumber, phone, plate] = JSON.parse(watchKey) as [string, string, string];
    if (!idNumber && !phone && !plate) return;
    let alive = true;
    api
      .watchlistCheck({ ...(idNumber && { idNumber }), ...(phone && { phone }), ...(plate && { plate }) })
      .then((r) => alive && setHits(r.hits), () => undefined /* the gateway checks again when the visit is registered */);
    return () => void (alive = false);
  }, [watchKey, api]);

  // ---- pre-registration code ----------------------------------------------------------------------------
  const lookupPrereg = async () => {
    setPreregNote(null);
    const r = await preregAction.run('prereg', () => api.preregistration(draft.preregCode));
    if (!r) return;
    const p = r.preregistration;
    if (p.used) {
      setPreregNote('preregUsed');
      return;
    }
    setDraft((d) => ({
      ...d,
      prereg: p,
      name: p.visitorName,
      plate: p.plate ?? d.plate,
      unit: { id: p.hostUnitId, code: p.hostUnitCode },
      hostName: p.hostName ?? d.hostName,
      reason: d.reason ?? 'visiting',
    }));
    setMethod('pre-registered');
    setConfirmedBy(p.hostName ?? p.visitorName);
  };
  const preregError = preregNote ? t(preregNote) : preregAction.error ? (preregAction.error.status === 404 ? t('preregNotFound') : errorText(preregAction.error, t)) : null;

  // ---- checks before moving on --------------------------------------------------------------------------
  const check = (s: Step): Errors => {
    const e: Errors = {};
    if (s === 'visitor') {
      if (!draft.name.trim()) e.name = t('needName');
      if (draft.idType === 'mainland-id' && draft.idNumber && !mainlandIdValid(draft.idNumber)) e.idNumber = draft.idNumber.length < 18 ? t('idIncomplete') : t('idChecksum');
      if (draft.phone && !mobileValid(draft.phone)) e.phone = t('phoneInvalid');
      // The gateway needs both numbers for a new visitor; a returning one is known by the visitor id.
      if (!draft.visitorId && !draft.idNumber) e.idNumber = t('needIdNumberNew');
      if (!draft.visitorId && !draft.phone) e.phone = t('needPhoneNew');
    } else if (s === 'host') {
      if (!draft.unit) e.hostUnit = t('needUnit');
    } else if (s === 'visit') {
      if (!draft.reason) e.reason = t('needReason');
    } else if (s === 'vehicle') {
      if (draft.plate && draft.plate.length < 7) e.plate = t('plateIncomplete');
    }
    return e;
  };

  /** Go to `target`, stopping at the first earlier step that is not complete. */
  const goTo = (target: Step) => {
    for (const s of steps.slice(0, steps.indexOf(target))) {
      const e = check(s);
      if (Object.keys(e).length > 0) {
        setLocal(e);
        setStep(s);
        return;
      }
    }
    setLocal({});
    setStep(target);
  };
  const idx = steps.indexOf(step);
  const next = () => {
    const s = steps[idx + 1];
    if (s) goTo(s);
  };
  const back = () => {
    const s = steps[idx - 1];
    if (s) {
      setLocal({});
      setStep(s);
    }
  };

  // ---- server answers: a field's error goes next to the field, on its step ------------------------------
  const serverField = action.error ? errorField(action.error) : null;
  const serverText = action.error ? errorText(action.error, t) : null;
  const errors: Errors = { ...local, ...(serverField && serverText ? { [serverField]: serverText } : {}) };
  useEffect(() => {
    if (serverField && !created) setStep(stepOf[serverField]);
  }, [action.error, serverField, created]);
  const blockedByServer = isWatchlistStop(action.error);
  const stopped = hits.length > 0 || blockedByServer;

  // ---- registering and issuing ----------------------------------------------------------------------------
  const leaveAt = () => (draft.leave === 'eod' ? endOfDay(Date.now(), tz) : Date.now() + leaveHours[draft.leave] * 3_600_000);

  const body = (withConfirmation: boolean): RegisterVisitRequest | null => {
    if (!draft.unit || !draft.reason) return null;
    const hostName = draft.hostName.trim();
    return {
      name: draft.name.trim(),
      idType: draft.idType,
      hostUnitId: draft.unit.id,
      reason: reasonValue(draft.reason, draft.reasonOther),
      headcount: draft.headcount,
      expectedLeaveAt: leaveAt(),
      ...(draft.visitorId && { visitorId: draft.visitorId }),
      ...(draft.idNumber && { idNumber: draft.idNumber }),
      ...(draft.phone && { phone: draft.phone }),
      ...(hostName && { hostName }),
      ...(draft.plate && { plate: draft.plate }),
      ...(draft.prereg && { preregistrationCode: draft.prereg.code }),
      ...(withConfirmation && !draft.prereg && method && { confirmation: { method, confirmedBy: confirmedBy.trim() } }),
    };
  };

  /** The visit, created once: a retry after a lost answer reuses the key, so a double tap makes one visit. */
  const ensureVisit = async (withConfirmation: boolean): Promise<VisitView | undefined> => {
    if (created) return created;
    const b = body(withConfirmation);
    if (!b) return undefined;
    const r = await action.run('register', (key) => api.registerVisit(b, key));
    if (r) setCreated(r.visit);
    return r?.visit;
  };

  const needs = draft.prereg ? null : notConfirmedReason(method, confirmedBy);
  const issue = async () => {
    if (needs || !method) return;
    const v = await ensureVisit(true);
    if (!v) return;
    const withPass = await passForVisit(api, action, v, { method, confirmedBy: confirmedBy.trim() });
    if (withPass?.pass) setDone(withPass);
  };
  const override = async (note: string) => {
    const v = await ensureVisit(false);
    if (!v) return;
    const withPass = await passForVisit(api, action, v, { override: note });
    if (withPass?.pass) {
      setOverriding(false);
      setDone(withPass);
    }
  };
  const registerOnly = async () => {
    if (await ensureVisit(!needs)) onClose();
  };

  const dirty = draft !== emptyDraft;
  const close = () => (dirty && !done && !created ? setLeaving(true) : onClose());

  if (done?.pass) {
    return (
      <FullScreen title={t('slipTitle')} onClose={onClose} testid="register" closeLabel={t('done')}>
        <PassSlip pass={done.pass} siteName={siteName} timeZone={tz} />
      </FullScreen>
    );
  }

  const footer = stopped ? null : (
    <>
      <button type="button" class="btn huge" data-testid="register-back" disabled={idx === 0 || !!created} onClick={back}>
        ← {t('prevStep')}
      </button>
      <span class="spacer" />
      {step !== 'confirm' && (
        <button type="button" class="btn huge primary" data-testid="register-next" onClick={next}>
          {step === 'vehicle' && !draft.plate ? t('nextNoVehicle') : t('nextStep')} →
        </button>
      )}
    </>
  );

  return (
    <FullScreen title={t('registerVisitor')} onClose={close} testid="register" footer={footer}>
      <ol class="steps" data-testid="register-steps">
        {steps.map((s, i) => (
          <li key={s}>
            <button
              type="button"
              class={s === step ? 'step-btn-nav current' : i < idx ? 'step-btn-nav done' : 'step-btn-nav'}
              aria-current={s === step ? 'step' : undefined}
              data-testid={`step-${s}`}
              disabled={stopped || !!created}
              onClick={() => (i <= idx ? (setLocal({}), setStep(s)) : goTo(s))}
            >
              <span class="step-no">{i < idx ? '✓' : i + 1}</span> {t(`step.${s}`)}
            </button>
          </li>
        ))}
      </ol>
      {stopped ? (
        <div class="stop-panel" role="alert" data-testid="watchlist-stop">
          <p class="stop-title">✕ {t('watchlistStop')}</p>
          {hits.map((h, i) => (
            <p key={i} class="stop-reason">
              {t(`watchKind.${h.kind === 'plate' || h.kind === 'phone' ? h.kind : 'id_number'}`)}: {h.reason}
            </p>
          ))}
          {blockedByServer && action.error && <p class="stop-reason">{action.error.message}</p>}
          <p>{t('watchlistStopHint')}</p>
          <button type="button" class="btn huge" data-testid="watchlist-end" onClick={onClose}>
            {t('endRegistration')}
          </button>
        </div>
      ) : (
        <div class="step-body" data-testid={`register-step-${step}`}>
          {step === 'visitor' && (
            <VisitorStep
              draft={draft}
              update={update}
              errors={errors}
              onPreregLookup={() => void lookupPrereg()}
              preregBusy={preregAction.busy}
              preregError={preregError}
              onJumpToConfirm={() => goTo('confirm')}
            />
          )}
          {step === 'host' && <HostStep draft={draft} update={update} errors={errors} />}
          {step === 'visit' && <VisitStep draft={draft} update={update} errors={errors} />}
          {step === 'vehicle' && <VehicleStep draft={draft} update={update} errors={errors} />}
          {step === 'confirm' && (
            <div class="step-cols">
              <div class="step-fields">
                <Summary draft={draft} leaveText={shortTime(leaveAt(), lang, tz)} />
                {created && (
                  <p class="notice notice-ok" data-testid="registered-note">
                    ✓ {t('registeredNote')}
                  </p>
                )}
              </div>
              <div class="step-side">
                {draft.prereg ? (
                  <p class="notice notice-ok">✓ {t('preregConfirms')}</p>
                ) : (
                  <ConfirmControls method={method} onMethod={setMethod} confirmedBy={confirmedBy} onConfirmedBy={setConfirmedBy} error={errors.confirmedBy} />
                )}
                {action.error && !serverField && <FieldError text={serverText} testid="register-error" />}
                <button type="button" class="btn huge primary issue" data-testid="issue-pass" disabled={!!needs || action.busy} onClick={() => void issue()}>
                  {t('issuePass')}
                </button>
                {needs && (
                  <p class="why-disabled" data-testid="issue-why">
                    ⓘ {t('cannotIssue')} {t(needs)}
                  </p>
                )}
                {person.role === 'supervisor' && needs && (
                  <button type="button" class="btn big warn-btn" data-testid="supervisor-override" disabled={action.busy} onClick={() => setOverriding(true)}>
                    {t('supervisorOverride')}
                  </button>
                )}
                {!created && !draft.prereg && (
                  <button type="button" class="btn big" data-testid="register-only" disabled={action.busy} onClick={() => void registerOnly()}>
                    {t('registerOnly')}
                  </button>
                )}
              </div>
            </div>
          )}
        </div>
      )}
      {overriding && <OverrideSheet action={action} onClose={() => setOverriding(false)} onSubmit={(note) => void override(note)} />}
      {leaving && (
        <Sheet title={t('discardTitle')} onClose={() => setLeaving(false)} testid="discard">
          <div class="actions-row">
            <button type="button" class="btn huge stop" data-testid="discard-yes" onClick={onClose}>
              {t('discardYes')}
            </button>
            <button type="button" class="btn huge primary" data-testid="discard-no" onClick={() => setLeaving(false)}>
              {t('discardNo')}
            </button>
          </div>
        </Sheet>
      )}
    </FullScreen>
  );
}
