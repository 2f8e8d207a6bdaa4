// Device status: a light per device (colour and text, never colour alone) and the full device table.
import type { DeviceView } from './contracts.ts';
import { dateTime } from './format.ts';
import { translateOpen, useLang } from './i18n.ts';

// Offline and failed share red: for a guard both mean "this device is not working right now".
const tone: Record<DeviceView['state'], string> = { online: 'ok', offline: 'bad', failed: 'bad', starting: 'warn', stopped: 'idle' };

function Light({ state }: { state: DeviceView['state'] }) {
  const { t } = useLang();
  return (
    <span class={`light tone-${tone[state]}`}>
      <span class="lamp" aria-hidden="true" />
      {t(`state.${state}`)}
    </span>
  );
}

export function DeviceLights({ devices }: { devices: DeviceView[] }) {
  const { t } = useLang();
  return (
    <section class="panel" data-testid="device-lights">
      <h2 class="panel-title">{t('devicesTitle')}</h2>
      {devices.length === 0 && <p class="muted">{t('devicesEmpty')}</p>}
      <ul class="lights">
        {devices.map((d) => (
          <li key={d.id} class="device" data-testid={`light-${d.id}`} data-state={d.state}>
            <span class="device-name">{d.name}</span>
            <Light state={d.state} />
          </li>
        ))}
      </ul>
    </section>
  );
}

export function DeviceTable({ devices, timeZone }: { devices: DeviceView[]; timeZone: string | undefined }) {
  const { t, lang } = useLang();
  return (
    <section class="panel">
      <h2 class="panel-title">{t('devicesTitle')}</h2>
      <div class="table-wrap">
        <table class="devices" data-testid="device-table">
          <thead>
            <tr>
              <th>{t('colName')}</th>
              <th>{t('colKind')}</th>
              <th>{t('colState')}</th>
              <th>{t('colLastSeen')}</th>
              <th>{t('colLastError')}</th>
            </tr>
          </thead>
          <tbody>
            {devices.map((d) => (
              <tr key={d.id} data-testid={`device-row-${d.id}`} data-state={d.state}>
                <td class="device-name">{d.name}</td>
                <td class="nowrap">{translateOpen(t, 'kind', d.kind)}</td>
                <td class="nowrap">
                  <Light state={d.state} />
                </td>
                <td>{d.lastSeen === null ? t('never') : dateTime(d.lastSeen, lang, timeZone)}</td>
                <td class={d.lastError ? 'device-error error' : 'device-error muted'}>{d.lastError ?? t('none')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {devices.length === 0 && <p class="muted">{t('devicesEmpty')}</p>}
    </section>
  );
}
