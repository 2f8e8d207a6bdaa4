// The pass slip: large code, the QR code ("GP1:<code>"), holder, unit, validity; printed alone on a receipt printer.
import qrcode from 'qrcode-generator';
import { render } from 'preact';
import { useEffect, useMemo } from 'preact/hooks';
import type { PassView } from '../contracts.ts';
import { shortTime } from '../format.ts';
import { LangContext, translateOpen, useLang } from '../i18n.ts';
import { plateDisplay } from './rules.ts';

/** The QR code as one SVG path of dark modules, with the quiet zone the standard asks for. */
export function QrCode({ text, size, testid }: { text: string; size: number; testid?: string }) {
  const { d, n } = useMemo(() => {
    const qr = qrcode(0, 'M');
    qr.addData(text);
    qr.make();
    const count = qr.getModuleCount();
    let path = '';
    for (let r = 0; r < count; r++) for (let c = 0; c < count; c++) if (qr.isDark(r, c)) path += `M${c + 4} ${r + 4}h1v1h-1z`;
    return { d: path, n: count + 8 };
  }, [text]);
  return (
    <svg class="qr" data-testid={testid} width={size} height={size} viewBox={`0 0 ${n} ${n}`} role="img" aria-label={text} shape-rendering="crispEdges">
      <rect width={n} height={n} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  );
}

function SlipBody({ pass, siteName, timeZone }: { pass: PassView; siteName: string; timeZone: string | undefined }) {
  const { t, lang } = useLang();
  const detail = pass.detail;
  const headcount = typeof detail.headcount === 'number' && detail.headcount > 1 ? detail.headcount : null;
  const str = (k: string) => (typeof detail[k] === 'string' && detail[k] ? (detail[k] as string) : null);
  const carrier = str('carrierName') ?? str('carrier');
  const items = Array.isArray(detail.items) ? (detail.items as unknown[]).filter((i): i is { name: string; quantity: number } => !!i && typeof (i as { name?: unknown }).name === 'string') : [];
  return (
    <>
      <p class="slip-site">{siteName}</p>
      <p class="slip-kind">{translateOpen(t, 'passKind', pass.kind)}</p>
      <p class="slip-code" data-testid="slip-code">
        {pass.code}
      </p>
      <QrCode text={`GP1:${pass.code}`} size={200} testid="slip-qr" />
      <dl class="slip-lines">
        <dt>{t('slipHolder')}</dt>
        <dd data-testid="slip-holder">
          {pass.holderName}
          {headcount && ` ${t('slipPeople', { n: String(headcount) })}`}
        </dd>
        <dt>{t('slipUnit')}</dt>
        <dd data-testid="slip-unit">{pass.unitCode}</dd>
        {pass.plate && (
          <>
            <dt>{t('plate')}</dt>
            <dd>{plateDisplay(pass.plate)}</dd>
          </>
        )}
        {str('company') && (
          <>
            <dt>{t('company')}</dt>
            <dd>{str('company')}</dd>
          </>
        )}
        {str('curfew') && (
          <>
            <dt>{t('curfew')}</dt>
            <dd>{str('curfew')}</dd>
          </>
        )}
        {carrier && (
          <>
            <dt>{t('carrier')}</dt>
            <dd>{carrier}</dd>
          </>
        )}
        {items.length > 0 && (
          <>
            <dt>{t('items')}</dt>
            <dd>
              {items.map((i) => (
                <span key={i.name} class="slip-item">
                  {i.name} × {i.quantity}
                </span>
              ))}
            </dd>
          </>
        )}
        <dt>{t('slipValidUntil')}</dt>
        <dd data-testid="slip-valid">{shortTime(pass.validUntil, lang, timeZone, 0)}</dd>
        <dt>{t('slipIssued')}</dt>
        <dd>{shortTime(pass.issuedAt, lang, timeZone, 0)}</dd>
      </dl>
      <p class="slip-note">{t('slipNote')}</p>
    </>
  );
}

/**
 * The slip on screen, plus a copy rendered straight into <body> that only print shows (the print
 * stylesheet hides the app), so the receipt printer gets the slip and nothing else.
 */
export function PassSlip({ pass, siteName, timeZone }: { pass: PassView; siteName: string; timeZone: string | undefined }) {
  const langState = useLang();
  const { t } = langState;
  useEffect(() => {
    const host = document.createElement('div');
    host.className = 'print-slip';
    document.body.appendChild(host);
    render(
      <LangContext.Provider value={langState}>
        <div class="slip slip-paper">
          <SlipBody pass={pass} siteName={siteName} timeZone={timeZone} />
        </div>
      </LangContext.Provider>,
      host,
    );
    return () => {
      render(null, host);
      host.remove();
    };
  }, [pass, siteName, timeZone, langState]);

  return (
    <div class="slip-screen">
      <div class="slip" data-testid="pass-slip" data-pass-code={pass.code}>
        <SlipBody pass={pass} siteName={siteName} timeZone={timeZone} />
      </div>
      <div class="slip-actions">
        <button type="button" class="btn big primary" data-testid="slip-print" onClick={() => window.print()}>
          {t('print')}
        </button>
        <p class="muted">{t('printHint')}</p>
      </div>
    </div>
  );
}
