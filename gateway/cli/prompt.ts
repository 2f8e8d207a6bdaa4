// Reads one secret line from stdin without echoing it when stdin is a terminal.
import { createInterface } from 'node:readline';

export async function readSecretFromStdin(question: string): Promise<string> {
  const tty = process.stdin.isTTY;
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: tty });
  if (tty) {
    process.stderr.write(question);
    // Swallow the echo of typed characters: a PIN must not stay on the screen or in scrollback.
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => undefined;
  }
  try {
    for await (const line of rl) return line.trim();
    return '';
  } finally {
    if (tty) process.stderr.write('\n');
    rl.close();
  }
}
