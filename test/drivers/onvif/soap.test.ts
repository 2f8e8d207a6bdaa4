// Reading ONVIF answers: faults, profiles, capabilities and event notifications from fixtures, and garbage.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPullMessages, topicName } from '../../../drivers/onvif/events.js';
import { describeFault, isAuthFault, readCapabilities, readPresets, readProfiles, readServices, soapBody, soapFault, UnexpectedAnswer } from '../../../drivers/onvif/soap.js';
import type { XmlElement } from '../../../drivers/xml.js';
import { packageRoot } from '../../../gateway/core/paths.js';
import { prng } from '../../helpers/prng.js';

const fixture = (name: string): string => readFileSync(join(packageRoot, 'test', 'fixtures', 'onvif', name), 'utf8');

function body(xml: string): XmlElement {
  const read = soapBody(xml);
  if (!read.ok) throw new Error(read.reason);
  return read.body;
}

const envelope = (inner: string): string => `<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>${inner}</s:Body></s:Envelope>`;

describe('SOAP faults', () => {
  it('reads code, subcode and reason, and knows ter:NotAuthorized for a credentials fault', () => {
    const fault = soapFault(body(fixture('fault-not-authorized.xml')));
    expect(fault).toEqual({ code: 'env:Sender', subcodes: ['ter:NotAuthorized'], reason: 'Sender not Authorized' });
    expect(isAuthFault(fault!)).toBe(true);
    expect(describeFault(fault!)).toBe('env:Sender/ter:NotAuthorized: Sender not Authorized');
  });

  it('tells other faults apart, SOAP 1.1 ones too', () => {
    const notSupported = soapFault(body(envelope('<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>ter:ActionNotSupported</s:Value><s:Subcode><s:Value>ter:NoImagingForSource</s:Value></s:Subcode></s:Subcode></s:Code><s:Reason><s:Text xml:lang="zh">不支持</s:Text><s:Text xml:lang="en">Not supported</s:Text></s:Reason></s:Fault>')));
    expect(notSupported).toEqual({ code: 's:Receiver', subcodes: ['ter:ActionNotSupported', 'ter:NoImagingForSource'], reason: 'Not supported' });
    expect(isAuthFault(notSupported!)).toBe(false);
    const soap11 = soapFault(body(envelope('<s:Fault><faultcode>wsse:FailedAuthentication</faultcode><faultstring>bad token</faultstring></s:Fault>')));
    expect(soap11).toEqual({ code: 'wsse:FailedAuthentication', subcodes: [], reason: 'bad token' });
    expect(isAuthFault(soap11!)).toBe(true);
    expect(soapFault(body(envelope('<x:GetProfilesResponse/>')))).toBeNull();
  });
});

describe('media and capabilities', () => {
  it('reads profiles in order: encoder settings as codec and size, PTZ, and video-less profiles kept apart', () => {
    expect(readProfiles(body(fixture('get-profiles.xml')))).toEqual([
      { token: 'Profile_1', name: 'mainStream', ptz: true, video: { codec: 'h265', width: 2560, height: 1440, fps: 25, bitrateKbps: 4096 } },
      { token: 'Profile_2', name: 'subStream', ptz: false, video: { codec: 'h264', width: 640, height: 360, fps: 25, bitrateKbps: 512 } },
      { token: 'Profile_Meta', name: 'metadata', ptz: false },
    ]);
  });

  it('reads capabilities with and without events, and services for devices without GetCapabilities', () => {
    const caps = (events: string) =>
      readCapabilities(body(envelope(`<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Media><tt:XAddr>http://cam/onvif/Media</tt:XAddr></tt:Media>${events}</tds:Capabilities></tds:GetCapabilitiesResponse>`)));
    expect(caps('')).toEqual({ mediaXAddr: 'http://cam/onvif/Media', pullPoint: false });
    expect(caps('<tt:Events><tt:XAddr>http://cam/onvif/Events</tt:XAddr><tt:WSPullPointSupport>false</tt:WSPullPointSupport></tt:Events>')).toMatchObject({ eventsXAddr: 'http://cam/onvif/Events', pullPoint: false });
    expect(caps('<tt:Events><tt:XAddr>http://cam/onvif/Events</tt:XAddr></tt:Events>')).toMatchObject({ pullPoint: true });
    expect(
      readServices(
        body(
          envelope(
            '<tds:GetServicesResponse><tds:Service><tds:Namespace>http://www.onvif.org/ver20/ptz/wsdl</tds:Namespace><tds:XAddr>http://cam/ptz</tds:XAddr></tds:Service>' +
              '<tds:Service><tds:Namespace>http://www.onvif.org/ver10/events/wsdl</tds:Namespace><tds:XAddr>http://cam/events</tds:XAddr></tds:Service></tds:GetServicesResponse>',
          ),
        ),
      ),
    ).toEqual({ ptzXAddr: 'http://cam/ptz', eventsXAddr: 'http://cam/events', pullPoint: true });
  });

  it('keeps preset tokens as text, and refuses an answer without the expected response', () => {
    expect(readPresets(body(envelope('<tptz:GetPresetsResponse><tptz:Preset token="1.10"><tt:Name>Gate</tt:Name></tptz:Preset><tptz:Preset token="007"/></tptz:GetPresetsResponse>')))).toEqual([
      { token: '1.10', name: 'Gate' },
      { token: '007', name: '007' },
    ]);
    expect(() => readProfiles(body(envelope('<tds:GetDeviceInformationResponse/>')))).toThrow(new UnexpectedAnswer('answer without GetProfilesResponse (got <GetDeviceInformationResponse>)'));
  });
});

describe('event notifications', () => {
  it('reads topics without prefixes, source and data items typed, and the time left', () => {
    const result = readPullMessages(body(fixture('pull-messages-motion.xml')));
    expect(result.problems).toEqual([]);
    expect(result.leftMs).toBe(60_000);
    expect(result.notifications).toEqual([
      {
        topic: 'RuleEngine/CellMotionDetector/Motion',
        source: { VideoSourceConfigurationToken: 'VideoSourceToken', VideoAnalyticsConfigurationToken: 'VideoAnalyticsToken', Rule: 'MyMotionDetectorRule' },
        data: { IsMotion: true },
        at: Date.UTC(2026, 2, 4, 1, 2, 2),
        operation: 'Changed',
      },
      { topic: 'VideoSource/MotionAlarm', source: { Source: 'VideoSource_1' }, data: { State: false }, at: Date.UTC(2026, 2, 4, 1, 2, 2), operation: 'Initialized' },
      // A zero-padded token stays text; the ElementItem (a shape) is not a simple value.
      { topic: 'Device/IO/Port', source: { port: '0012' }, data: { state: 1, level: -3.5 }, at: Date.UTC(2026, 2, 4, 1, 2, 3, 250), operation: 'Changed' },
    ]);
    expect(topicName(' tns1:Device/tnsaxis:Sensor/PIR ')).toBe('Device/Sensor/PIR');
  });

  it('names what is wrong with a notification it cannot read', () => {
    const read = (notification: string) => readPullMessages(body(envelope(`<tev:PullMessagesResponse>${notification}</tev:PullMessagesResponse>`)));
    expect(read('<wsnt:NotificationMessage><wsnt:Message><tt:Message/></wsnt:Message></wsnt:NotificationMessage>').problems).toEqual(['notification without a Topic']);
    expect(read('<wsnt:NotificationMessage><wsnt:Topic> </wsnt:Topic></wsnt:NotificationMessage>').problems).toEqual(['notification with an empty Topic']);
    expect(read('<wsnt:NotificationMessage><wsnt:Topic>tns1:A/B</wsnt:Topic><wsnt:Message/></wsnt:NotificationMessage>').problems).toEqual(['notification without a tt:Message']);
    expect(read('<wsnt:NotificationMessage><wsnt:Topic>tns1:A</wsnt:Topic><wsnt:Message><tt:Message><tt:Data><tt:SimpleItem Value="1"/></tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>').problems).toEqual(['SimpleItem without a Name']);
    expect(read('').notifications).toEqual([]);
    expect(() => readPullMessages(body(envelope('<tev:Bogus/>')))).toThrow(UnexpectedAnswer);
  });

  it('survives garbage: mangled envelopes are a reason or a partial read, never a throw other than UnexpectedAnswer', () => {
    const xml = fixture('pull-messages-motion.xml');
    const random = prng(9);
    for (let i = 0; i < 2000; i++) {
      const cut = xml.slice(0, Math.floor(random() * xml.length)) + (random() < 0.5 ? xml.slice(Math.floor(random() * xml.length)) : '');
      const read = soapBody(cut);
      if (!read.ok) {
        expect(read.reason.length).toBeGreaterThan(0);
        continue;
      }
      try {
        readPullMessages(read.body);
      } catch (err) {
        expect(err).toBeInstanceOf(UnexpectedAnswer);
      }
    }
    expect(soapBody('')).toEqual({ ok: false, reason: 'not XML: no root element' });
    expect(soapBody('<!DOCTYPE x [<!ENTITY a "b">]><x/>').ok).toBe(false);
  });
});
