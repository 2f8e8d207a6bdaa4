// Every driver family the gateway knows; the config schema and the registry are built from this list.
import type { DriverDefinition } from './contract.js';
import { mqttDriver } from './mqtt/driver.js';

export const driverCatalogue: readonly DriverDefinition<never>[] = [mqttDriver as DriverDefinition<never>];
