// MQTT test clients: connect as a device of a running gateway and wait for what the broker answers.
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';

export async function connectDevice(port: number, username: string, password: string, opts: IClientOptions = {}): Promise<MqttClient> {
  return connectAsync(`mqtt://127.0.0.1:${port}`, { username, password, reconnectPeriod: 0, connectTimeout: 5000, ...opts });
}

/** The CONNACK refusal a broker gives, or null when it accepted. */
export async function connectRefusal(port: number, username: string, password: string): Promise<string | null> {
  try {
    const client = await connectDevice(port, username, password);
    await client.endAsync();
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
