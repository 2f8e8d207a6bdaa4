// WS-Discovery: reading ProbeMatches, and a real multicast probe answered by WS-Discovery responders inside a private network namespace.
//
// The multicast never touches the host's interfaces: the probe and the responders run in a child
// started by `unshare --net`, whose only interface is its own loopback with multicast routed to it.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { probeMessage, readProbeMatches, suggestedDevice, type DiscoveredCamera } from '../../../drivers/onvif/discover.js';
import { onvifSection } from '../../../gateway/cli/devices.js';
import { packageRoot } from '../../../gateway/core/paths.js';
import { tempDir } from '../../helpers/gateway.js';
import { prng } from '../../helpers/prng.js';

const fixture = readFileSync(join(packageRoot, 'test', 'fixtures', 'onvif', 'probe-matches.xml'), 'utf8');
const fixtureProbe = 'uuid:0a6dc791-2be6-4991-9af1-454778a1917a';

describe('ProbeMatches', () => {
  it('reads a camera: IPv4 device address first, scopes decoded', () => {
    expect(readProbeMatches(fixture, fixtureProbe, '192.168.1.64:3702')).toEqual([
      {
        address: 'http://192.168.1.64/onvif/device_service',
        xaddrs: ['http://[fe80::f2fe:6bff:fea1:a001]/onvif/device_service', 'http://192.168.1.64/onvif/device_service'],
        urn: 'urn:uuid:1419d68a-1dd2-11b2-a105-F0FE6BA1A001',
        scopes: {
          name: '东门 Gate',
          hardware: 'DS-2CD2043G2-I',
          location: 'country/china, city/shenzhen',
          all: expect.arrayContaining(['onvif://www.onvif.org/Profile/Streaming']) as unknown as string[],
        },
        from: '192.168.1.64:3702',
      },
    ]);
  });

  it('ignores answers to another probe and anything else, with a reason, never a throw', () => {
    expect(readProbeMatches(fixture, 'uuid:someone-else', 'x')).toBe('not an answer to our probe');
    expect(readProbeMatches('\u0000\u0001garbage', fixtureProbe, 'x')).toBe('not XML: text before the root element');
    expect(readProbeMatches('<html/>', fixtureProbe, 'x')).toBe('not a SOAP envelope');
    expect(readProbeMatches(fixture.replace(/<d:XAddrs>[^<]*<\/d:XAddrs>/, ''), fixtureProbe, 'x')).toBe('a ProbeMatches without a usable XAddr');
    const random = prng(5);
    for (let i = 0; i < 1000; i++) {
      const cut = fixture.slice(0, Math.floor(random() * fixture.length));
      const mangled = cut.replace(/[<>"]/g, (c) => (random() < 0.05 ? '' : c));
      const read = readProbeMatches(mangled, fixtureProbe, 'x');
      expect(typeof read === 'string' || Array.isArray(read)).toBe(true);
    }
  });

  it('probes for NetworkVideoTransmitter and suggests a device block', () => {
    const probe = probeMessage('uuid:abc');
    expect(probe).toContain('<a:MessageID>uuid:abc</a:MessageID>');
    expect(probe).toContain('<d:Types>dn:NetworkVideoTransmitter</d:Types>');
    const cam = (readProbeMatches(fixture, fixtureProbe, 'x') as DiscoveredCamera[])[0] as DiscoveredCamera;
    expect(suggestedDevice(cam, 'cam-1')).toBe(
      ['  cam-1:', '    type: onvif', '    kind: camera', '    name: "东门 Gate"', '    host: 192.168.1.64', '    username: admin            # an ONVIF user of the camera', '    password: "..."'].join('\n'),
    );
    expect(suggestedDevice({ ...cam, address: 'http://192.168.1.65:8000/onvif/device_service' }, 'cam-2')).toContain('    host: 192.168.1.65\n    port: 8000\n');
  });
});

describe('devices scan, ONVIF section', () => {
  it('lists the cameras found and suggests a device block for each, with distinct ids', () => {
    const cam = (readProbeMatches(fixture, fixtureProbe, 'x') as DiscoveredCamera[])[0] as DiscoveredCamera;
    const twin = { ...cam, address: 'http://10.0.0.64/onvif/device_service', urn: 'urn:uuid:twin', scopes: { all: [] } };
    const lines = onvifSection([cam, twin]);
    expect(lines.slice(0, 3)).toEqual([
      'ONVIF cameras:',
      '  http://10.0.0.64/onvif/device_service  urn:uuid:twin',
      '  http://192.168.1.64/onvif/device_service  (东门 Gate, DS-2CD2043G2-I, country/china, city/shenzhen)  urn:uuid:1419d68a-1dd2-11b2-a105-F0FE6BA1A001',
    ]);
    const yaml = lines.slice(5).join('\n');
    expect(yaml).toMatch(/^devices:\n {2}cam-64:\n {4}type: onvif\n/);
    expect(yaml).toContain('  cam-64-2:\n    type: onvif\n    kind: camera\n    name: "东门 Gate"\n    host: 192.168.1.64\n');
    expect(onvifSection([])).toEqual(['ONVIF cameras: none answered (WS-Discovery may be off in the camera, or it is on another subnet: add it by address)']);
  });
});

/** The modules the namespaced child runs, compiled from our sources (it runs plain node, not vitest). */
function compileInto(dir: string, files: string[]): void {
  for (const file of files) {
    const out = ts.transpileModule(readFileSync(join(packageRoot, file), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    }).outputText;
    const target = join(dir, file.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, out);
  }
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
}

/**
 * Two cameras and a babbler, each a WS-Discovery target service (WS-Discovery 2005/04, 5.3 and 6.1):
 * a UDP socket on port 3702 in group 239.255.255.250 that answers a Probe whose Types it matches with
 * a ProbeMatches sent unicast to the probe's source, wsa:RelatesTo carrying the probe's MessageID.
 * The babbler answers every probe with garbage and with a match to some other probe.
 */
const childScript = `
import { createSocket } from 'node:dgram';
import { discoverOnvif } from './drivers/onvif/discover.js';

const group = '239.255.255.250';
const cameras = [
  { urn: 'urn:uuid:00000000-0000-4000-8000-000000000064', xaddrs: 'http://192.168.1.64/onvif/device_service',
    scopes: 'onvif://www.onvif.org/Profile/Streaming onvif://www.onvif.org/name/Gate%20Cam onvif://www.onvif.org/hardware/DS-2CD2043G2-I onvif://www.onvif.org/location/city/shenzhen' },
  { urn: 'urn:uuid:00000000-0000-4000-8000-000000000065', xaddrs: 'http://192.168.1.65:8000/onvif/device_service',
    scopes: 'onvif://www.onvif.org/name/%E4%B8%9C%E9%97%A8 onvif://www.onvif.org/hardware/IPC-HFW2431S' },
];
const probes = [];

function matches(cam, relatesTo) {
  return '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" ' +
    'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">' +
    '<s:Header><a:MessageID>uuid:' + Math.random().toString(16).slice(2) + '</a:MessageID><a:RelatesTo>' + relatesTo + '</a:RelatesTo>' +
    '<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>' +
    '<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</a:Action></s:Header>' +
    '<s:Body><d:ProbeMatches><d:ProbeMatch><a:EndpointReference><a:Address>' + cam.urn + '</a:Address></a:EndpointReference>' +
    '<d:Types>dn:NetworkVideoTransmitter</d:Types><d:Scopes>' + cam.scopes + '</d:Scopes><d:XAddrs>' + cam.xaddrs + '</d:XAddrs>' +
    '<d:MetadataVersion>1</d:MetadataVersion></d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>';
}

function target(answer) {
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  socket.on('message', (msg, rinfo) => {
    const text = msg.toString();
    const id = /<(?:[A-Za-z0-9]+:)?MessageID[^>]*>\\s*([^<\\s]+)\\s*</.exec(text);
    const isProbe = /discovery\\/Probe</.test(text) && /<(?:[A-Za-z0-9]+:)?Types[^>]*>[^<]*NetworkVideoTransmitter/.test(text);
    if (!id || !isProbe) return;
    probes.push(id[1]);
    for (const reply of answer(id[1])) socket.send(reply, rinfo.port, rinfo.address);
  });
  return new Promise((resolve) => socket.bind(3702, () => { socket.addMembership(group, '127.0.0.1'); resolve(socket); }));
}

const sockets = [
  await target((id) => [matches(cameras[0], id)]),
  await target((id) => [matches(cameras[1], id)]),
  await target((id) => ['\\u0000\\u0001not xml at all', matches(cameras[0], 'uuid:another-probe'), '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/>']),
];
const ignored = [];
const found = await discoverOnvif({ timeoutMs: 1500, onIgnored: (reason) => ignored.push(reason) });
for (const s of sockets) s.close();
process.stdout.write(JSON.stringify({ found, ignored, probes }));
`;

function runInNamespace(dir: string): Promise<{ code: number | null; out: string; err: string }> {
  const setup = 'ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo';
  return new Promise((resolve) => {
    const proc = spawn('unshare', ['--net', 'sh', '-c', `${setup} && exec "${process.execPath}" child.mjs`], { cwd: dir });
    let out = '';
    let err = '';
    proc.stdout.on('data', (b: Buffer) => (out += b.toString()));
    proc.stderr.on('data', (b: Buffer) => (err += b.toString()));
    proc.once('exit', (code) => resolve({ code, out, err }));
  });
}

describe('WS-Discovery probe in a private network namespace', () => {
  it('finds each camera once, ignoring garbage and answers to other probes', async () => {
    const check = spawnSync('unshare', ['--net', 'true']);
    expect(check.status, `unshare --net is needed for this test (run as root): ${check.stderr?.toString()}`).toBe(0);
    const dir = tempDir('guardpost-discovery-');
    compileInto(dir, ['drivers/onvif/discover.ts', 'drivers/xml.ts']);
    writeFileSync(join(dir, 'child.mjs'), childScript);
    const result = await runInNamespace(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    const { found, ignored, probes } = JSON.parse(result.out) as { found: DiscoveredCamera[]; ignored: string[]; probes: string[] };
    // The probe went out twice (WS-Discovery's UDP repeat) under one MessageID, to all three targets.
    expect(probes).toHaveLength(6);
    expect(new Set(probes).size).toBe(1);
    expect(found.sort((a, b) => a.urn.localeCompare(b.urn))).toEqual([
      {
        address: 'http://192.168.1.64/onvif/device_service',
        xaddrs: ['http://192.168.1.64/onvif/device_service'],
        urn: 'urn:uuid:00000000-0000-4000-8000-000000000064',
        scopes: {
          name: 'Gate Cam',
          hardware: 'DS-2CD2043G2-I',
          location: 'city/shenzhen',
          all: ['onvif://www.onvif.org/Profile/Streaming', 'onvif://www.onvif.org/name/Gate%20Cam', 'onvif://www.onvif.org/hardware/DS-2CD2043G2-I', 'onvif://www.onvif.org/location/city/shenzhen'],
        },
        from: '127.0.0.1:3702',
      },
      {
        address: 'http://192.168.1.65:8000/onvif/device_service',
        xaddrs: ['http://192.168.1.65:8000/onvif/device_service'],
        urn: 'urn:uuid:00000000-0000-4000-8000-000000000065',
        scopes: { name: '东门', hardware: 'IPC-HFW2431S', all: ['onvif://www.onvif.org/name/%E4%B8%9C%E9%97%A8', 'onvif://www.onvif.org/hardware/IPC-HFW2431S'] },
        from: '127.0.0.1:3702',
      },
    ]);
    expect(new Set(ignored)).toEqual(new Set(['not XML: text before the root element', 'not an answer to our probe', 'not XML: document ends inside <Envelope>']));
  });
});
