// The small "HQ sync" chip in the top bar: shown only while records are not reaching HQ, and a tap opens the sync screen.
import type { SyncView } from '../contracts.ts';
import { useLang, type MsgKey } from '../i18n.ts';
import { syncTone } from './SyncScreen.tsx';
import './sync.css';

export function SyncChip({ s, onOpen }: { s: SyncView; onOpen(): void }) {
  const { t } = useLang();
  // Online but overdue is a backlog still draining: a problem worth a look, though the link itself is fine.
  const word: MsgKey = s.state === 'online' || s.state === 'disabled' ? 'syncChip.overdue' : `syncChip.${s.state}`;
  // Overdue is red whatever the link says: records have been late long enough to raise an alarm.
  const tone = s.overdue ? 'bad' : syncTone[s.state];
  return (
    <button type="button" class={`sync-chip tone-${tone}`} data-testid="sync-chip" data-state={s.state} data-overdue={s.overdue} onClick={onOpen}>
      <span class="lamp" aria-hidden="true" />
      <span class="sync-chip-label">{t('syncChipLabel')}</span>
      <span class="sync-chip-word">{t(word)}</span>
    </button>
  );
}
