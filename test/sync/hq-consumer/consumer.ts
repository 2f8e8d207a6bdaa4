// Runs the built HQ consumer (dist/) as a real child process, and builds batches the way a gate does, for the consumer's tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../../gateway/core/paths.js';
import type { UpBatch, UpRecord } from '../../../sync/contract.js';

export const consumerMain = join(packageRoot, 'dist', 'sync', 'hq-consumer', 'main.js');

export interface RunningConsumer {
  proc: ChildProcess;
  /** The HTTP port it listens on (http mode). */
  port: number | null;
  output(): string;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash, with no chance to finish anything. */
  kill(): Promise<void>;
}

/** Every consumer a test file started, so afterAll can end them even when a test failed half way. */
export class Consumers {
  private readonly all = new Set<RunningConsumer>();

  async start(args: string[], env: Record<string, string> = {}): Promise<RunningConsumer> {
    const proc = spawn(process.execPath, [consumerMain, ...args], { cwd: packageRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    const consumer: RunningConsumer = {
      proc,
      port: null,
      output: () => out,
      stop: async () => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
        return exited;
      },
      kill: async () => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
        await exited;
      },
    };
    this.all.add(consumer);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const ready = out
        .split('\n')
        .map((l) => {
          try {
            return JSON.parse(l) as { msg?: string; port?: number };
          } catch {
            return null;
          }
        })
        .find((l) => l?.msg === 'consumer ready');
      if (ready) {
        consumer.port = ready.port ?? null;
        return consumer;
      }
      if (proc.exitCode !== null) throw new Error(`the consumer exited (${proc.exitCode}) before it was ready:\n${out}`);
      if (Date.now() > deadline) throw new Error(`the consumer was not ready in 20 s:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Run to the end (publish-master): exit code and everything it printed. */
  async run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
    const proc = spawn(process.execPath, [consumerMain, ...args], { cwd: packageRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => proc.once('exit', (c) => resolve(c)));
    return { code, output: out };
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.all].map((c) => c.kill()));
    this.all.clear();
  }
}

const now = Date.UTC(2026, 10, 22, 8, 0, 0);

/** A visit as the gate's outbox holds it (gateway/store/visitors.ts VisitDetail). */
export function visit(id: string, status: 'registered' | 'inside' | 'left' = 'inside'): Record<string, unknown> {
  return {
    id,
    visitor_id: `${id}-visitor`,
    host_unit_id: 'unit-3-2-1201',
    host_name: '王芳',
    reason: '探亲',
    headcount: 1,
    plate: null,
    expected_leave_at: now + 4 * 3600_000,
    status,
    confirmation: 'call',
    confirmed_by: '王芳',
    confirmed_at: now,
    preregistration: null,
    refusal: null,
    registered_by: 'guard-li',
    registered_at: now,
    entered_at: status === 'registered' ? null : now,
    left_at: status === 'left' ? now + 3600_000 : null,
    name: '张三',
    id_type: 'mainland-id',
    id_number: '110101199003077777',
    phone: '13800138000',
    unit_code: '3-2-1201',
  };
}

/** A decision as the gate's outbox holds it (gateway/store/decisions.ts DecisionRow). */
export function decision(id: string): Record<string, unknown> {
  return {
    id,
    at: now,
    entry_point: 'north-in',
    direction: 'in',
    device_id: 'reader-north-in',
    credential_kind: 'card',
    credential_value: '3005127841',
    outcome: 'granted',
    reason: 'list-auto',
    subject: 'resident:r1',
    subject_name: '李雷',
    list: 'resident',
    resolved_by: null,
    resolved_at: null,
    resolution: null,
    barrier: 'barrier-north',
    barrier_status: 'sent',
    barrier_detail: null,
    snapshot: null,
  };
}

export function batch(stream: string, records: Array<Omit<UpRecord, 'at'> & { at?: number }>, from: { compound?: string; site?: string } = {}): UpBatch {
  return {
    v: 1,
    compound: from.compound ?? 'cuihu',
    site: from.site ?? 'north',
    stream,
    sentAt: now + 60_000,
    records: records.map((r) => ({ at: now, ...r })),
  };
}

/** The Idempotency-Key a gate sends with a batch over HTTPS. */
export const idempotencyKey = (b: UpBatch): string => `${b.site}:${b.stream}:${b.records[0]!.seq}-${b.records.at(-1)!.seq}`;
