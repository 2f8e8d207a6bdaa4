// Records raw bytes from a serial port as timestamped hex lines, to turn a real device's traffic into test fixtures.
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { SerialPort } from 'serialport';

const usage = `usage: node dist/scripts/capture-frames.js --port /dev/serial/by-id/... [--baud 9600] [--parity none|even|odd] [--out capture.jsonl] [--seconds N]

Each chunk the port delivers becomes one JSON line {"t": <ms since start>, "hex": "<bytes>"}.
Chunks arrive as the adapter hands them over, not as protocol frames: frame them in the test.
Open the port read-only in spirit: nothing is written to the bus.`;

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    baud: { type: 'string', default: '9600' },
    parity: { type: 'string', default: 'none' },
    out: { type: 'string' },
    seconds: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help || !values.port) {
  console.error(usage);
  process.exit(values.help ? 0 : 2);
}
const baudRate = Number(values.baud);
const parity = values.parity as 'none' | 'even' | 'odd';
if (!Number.isInteger(baudRate) || baudRate <= 0 || !['none', 'even', 'odd'].includes(parity)) {
  console.error(`bad --baud or --parity\n\n${usage}`);
  process.exit(2);
}

const out = values.out ? createWriteStream(values.out, { flags: 'a' }) : process.stdout;
const started = performance.now();
let bytes = 0;
const port = new SerialPort({ path: values.port, baudRate, parity, autoOpen: false });
port.on('data', (chunk: Buffer) => {
  bytes += chunk.length;
  out.write(`${JSON.stringify({ t: Math.round(performance.now() - started), hex: chunk.toString('hex') })}\n`);
});
port.on('error', (err) => console.error(`capture-frames: ${err.message}`));
port.on('close', () => {
  console.error(`capture-frames: port closed after ${bytes} bytes`);
  process.exit(0);
});
port.open((err) => {
  if (err) {
    console.error(`capture-frames: cannot open ${values.port}: ${err.message}`);
    process.exit(1);
  }
  console.error(`capture-frames: recording ${values.port} at ${baudRate} baud; Ctrl-C to stop`);
});
const stop = () => port.close();
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
if (values.seconds) setTimeout(stop, Number(values.seconds) * 1000).unref();
