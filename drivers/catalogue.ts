// Every driver family the gateway knows; the config schema and the registry are built from this list.
import type { DriverDefinition } from './contract.js';
import { modbusRelayDriver } from './modbus-relay/driver.js';
import { mqttDriver } from './mqtt/driver.js';
import { mqttDeviceDriver } from './mqtt-device/driver.js';
import { mqttRelayDriver } from './mqtt-relay/driver.js';
import { onvifDriver } from './onvif/driver.js';
import { osdpDriver } from './osdp/driver.js';
import { patrolWandDriver } from './patrol-wand/driver.js';
import { plateHttpDriver } from './plate-http/driver.js';
import { rtspCameraDriver } from './rtsp-camera/driver.js';
import { wiegandSerialDriver } from './wiegand-serial/driver.js';

export const driverCatalogue: readonly DriverDefinition<never>[] = [
  mqttDriver as DriverDefinition<never>,
  osdpDriver as DriverDefinition<never>,
  wiegandSerialDriver as DriverDefinition<never>,
  plateHttpDriver as DriverDefinition<never>,
  modbusRelayDriver as DriverDefinition<never>,
  mqttDeviceDriver as DriverDefinition<never>,
  mqttRelayDriver as DriverDefinition<never>,
  patrolWandDriver as DriverDefinition<never>,
  onvifDriver as DriverDefinition<never>,
  rtspCameraDriver as DriverDefinition<never>,
];
