// Commands to one device run one at a time, in order: an open finishes its pulse before a close starts one.
import type { CommandResult, DeviceCommand } from './contract.js';

export class CommandQueue {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly execute: (cmd: DeviceCommand) => Promise<CommandResult>) {}

  /** Runs after every command sent before it; a throw becomes a failed result, never a rejection. */
  run(cmd: DeviceCommand): Promise<CommandResult> {
    const run = this.tail.then(() => this.execute(cmd));
    this.tail = run.catch(() => undefined);
    return run.catch((err: unknown) => ({ ok: false, detail: `internal error: ${(err as Error).message}` }));
  }

  /** Resolves when every command sent so far has finished (a stop waits for a pulse to end). */
  idle(): Promise<unknown> {
    return this.tail;
  }
}
