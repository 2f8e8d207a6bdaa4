// Camera pictures taken for an event (a gate decision, a patrol incident): asked for once when the card
// appears, then as the live socket announces them, kept by subject so a card shown later still finds its picture.
import { useEffect, useState } from 'preact/hooks';
import { loadSession, onLive, request } from '../api.ts';
import type { SnapshotView } from '../contracts.ts';
import { useLang } from '../i18n.ts';
import { withToken } from './videoApi.ts';
import './video.css';

type Kind = SnapshotView['subjectKind'];

// Subscribed once for the page's life: the pictures arrive whether or not the card is on screen yet.
const bySubject = new Map<string, SnapshotView>();
const listeners = new Set<() => void>();
const keep = 200;

// Subjects already asked for: a card that mounts again (a tab switch) does not ask again.
const asked = new Set<string>();

function remember(s: SnapshotView): void {
  const key = `${s.subjectKind}:${s.subjectId}`;
  const had = bySubject.get(key);
  if (had && had.at > s.at) return;
  bySubject.delete(key);
  bySubject.set(key, s);
  // A Map iterates in insertion order: the first keys are the oldest.
  for (const k of bySubject.keys()) {
    if (bySubject.size <= keep) break;
    bySubject.delete(k);
  }
  for (const fn of listeners) fn();
}

onLive((msg) => {
  if (msg.type === 'video.snapshot') remember(msg.snapshot);
});

function ask(kind: Kind, subjectId: string): void {
  const key = `${kind}:${subjectId}`;
  const token = loadSession()?.token;
  if (asked.has(key) || bySubject.has(key) || !token) return;
  asked.add(key);
  if (asked.size > keep * 2) asked.clear();
  // Optional decoration: no camera, no video section or no right to it all mean no picture, silently.
  request<SnapshotView[]>(`/api/video/snapshots?subject=${encodeURIComponent(subjectId)}`, { token }).then(
    (list) => list.filter((s) => s.subjectKind === kind).forEach(remember),
    () => undefined,
  );
}

export function useSnapshot(kind: Kind, subjectId: string): SnapshotView | null {
  const [snap, setSnap] = useState(() => bySubject.get(`${kind}:${subjectId}`) ?? null);
  useEffect(() => {
    const update = () => setSnap(bySubject.get(`${kind}:${subjectId}`) ?? null);
    update();
    listeners.add(update);
    ask(kind, subjectId);
    return () => {
      listeners.delete(update);
    };
  }, [kind, subjectId]);
  return snap;
}

/** The picture for the subject, small; nothing at all while there is none. */
export function SnapshotThumb({ kind, subjectId, testid }: { kind: Kind; subjectId: string; testid: string }) {
  const { t } = useLang();
  const snap = useSnapshot(kind, subjectId);
  if (!snap) return null;
  return <img class="event-snap" data-testid={testid} data-camera={snap.camera} src={withToken(snap.url, loadSession()?.token ?? '')} alt={t('cameraSnapshot')} />;
}
