// Driver for Wiegand-to-RS-232/RS-485 converter boxes: one serial line per card read, turned into credential events.
import Type, { type Static } from 'typebox';
import { ErrorCode, GuardpostError } from '../../gateway/core/errors.js';
import type { DeviceHealth, DeviceKind, Driver, DriverContext, DriverDefinition } from '../contract.js';
import { LineFramer } from '../serial/framing.js';
import { SerialLink } from '../serial/link.js';
import { linePresetNames, linePresets, outputForms, wiegandFormatNames, wiegandFormats, type LinePresetName, type OutputForm, type WiegandFormatName } from './formats.js';
import { checkOptions, maxLineLength, parseWiegandLine, wiegandErrorReasons, type WiegandParseOptions } from './parse.js';

const literalUnion = <T extends string>(values: readonly T[], description: string, extra: { default?: T } = {}) =>
  Type.Unsafe<T>({ enum: [...values], description, ...extra });

export const defaultBaud = 9600;
export const defaultDebounceMs = 1500;

export const WiegandSerialConfigSchema = Type.Object({
  port: Type.String({ pattern: '^/dev/', description: 'a serial device path' }),
  baud: Type.Optional(Type.Integer({ minimum: 300, maximum: 921600, default: defaultBaud, description: 'the box\'s baud rate (300-921600), usually 9600' })),
  preset: literalUnion(linePresetNames, `the box's line style: ${linePresets.map((p) => `${p.name} (${p.example})`).join(', ')}`),
  format: Type.Optional(literalUnion(wiegandFormatNames, `the card format: ${wiegandFormats.map((f) => `${f.name} (${f.bits} bits)`).join(', ')}`)),
  output: literalUnion(outputForms, 'how card numbers are passed on, as the site prints them: card, facility-card or uid32-decimal'),
  debounce_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 60000, default: defaultDebounceMs, description: 'milliseconds in which the same card again is the same read (0-60000)' })),
  line_end: Type.Optional(literalUnion(['lf', 'cr'] as const, 'what ends a line: lf (also CR LF) or cr', { default: 'lf' })),
});

export type WiegandSerialConfig = Static<typeof WiegandSerialConfigSchema> & { kind: DeviceKind };

/** One box on one serial port. Constructors only assign; start/stop are idempotent. */
export class WiegandSerialDevice implements Driver {
  private state: DeviceHealth = { state: 'stopped', lastSeen: null, lastError: null };
  private link: SerialLink | null = null;
  private framer: LineFramer | null = null;
  /** The last card passed on and when it was last seen: a held card keeps its window open. */
  private last: { value: string; at: number } | null = null;

  constructor(
    private readonly config: WiegandSerialConfig,
    private readonly ctx: DriverContext,
  ) {}

  private get parseOptions(): WiegandParseOptions {
    const { preset, format, output } = this.config;
    return { preset: preset as LinePresetName, output: output as OutputForm, ...(format ? { format: format as WiegandFormatName } : {}) };
  }

  async start(): Promise<void> {
    if (this.link) return;
    const problems = checkOptions(this.parseOptions);
    if (problems.length > 0) throw new GuardpostError(ErrorCode.ConfigInvalid, `wiegand-serial ${this.ctx.deviceId}: ${problems.join('; ')}`);
    this.update({ state: 'starting' });
    const framer = new LineFramer({
      delimiter: this.config.line_end === 'cr' ? '\r' : '\n',
      maxLength: maxLineLength,
      onFrame: (line) => this.onLine(line),
      onGarbage: (g) => {
        this.update({ lastSeen: this.ctx.clock.now() });
        this.ctx.reject(g.reason, g.sample);
      },
    });
    const link = new SerialLink(
      { path: this.config.port, baudRate: this.config.baud ?? defaultBaud },
      {
        log: this.ctx.log,
        clock: this.ctx.clock,
        onData: (chunk) => framer.push(chunk),
        onState: (state, error) => {
          // Half a line from before an unplug is worthless, and must not glue onto the next read.
          if (state === 'offline') framer.reset();
          this.update({ state, lastError: error ?? null });
        },
      },
    );
    this.framer = framer;
    this.link = link;
    await link.start();
  }

  async stop(): Promise<void> {
    const link = this.link;
    this.link = null;
    // Dropped, not reset: a LineFramer holds no timer, and half a line at shutdown is not the box's fault.
    this.framer = null;
    this.last = null;
    if (link) await link.stop();
    this.update({ state: 'stopped' });
  }

  health(): DeviceHealth {
    return { ...this.state };
  }

  private onLine(line: Buffer): void {
    const now = this.ctx.clock.now();
    this.update({ lastSeen: now });
    const result = parseWiegandLine(line, this.parseOptions);
    if (!result.ok) {
      // 'empty' is a bare line end some boxes send between reads: not worth a count.
      if (result.error.code === 'empty') return;
      this.ctx.log.debug({ code: result.error.code, detail: result.error.message }, 'wiegand line rejected');
      this.ctx.reject(`${result.error.code}: ${wiegandErrorReasons[result.error.code]}`, line);
      return;
    }
    const { value, format } = result.read;
    const window = this.config.debounce_ms ?? defaultDebounceMs;
    const repeat = this.last !== null && this.last.value === value && now - this.last.at < window;
    this.last = { value, at: now };
    if (repeat) return;
    this.ctx.emit({ type: 'credential', deviceId: this.ctx.deviceId, at: now, credential: { kind: 'card', value, ...(format ? { format } : {}) } });
  }

  private update(change: Partial<DeviceHealth>): void {
    this.state = { ...this.state, ...change };
    this.ctx.report(change);
  }
}

export const wiegandSerialDriver: DriverDefinition<WiegandSerialConfig> = {
  type: 'wiegand-serial',
  kinds: ['reader'],
  configSchema: WiegandSerialConfigSchema,
  capabilities: ['events'],
  create: (config, ctx) => new WiegandSerialDevice(config, ctx),
};
