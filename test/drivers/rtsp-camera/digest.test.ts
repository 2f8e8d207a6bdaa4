// Camera authentication helpers: WWW-Authenticate parsing, Digest answers checked against the RFCs' worked examples, URL credentials.
import { describe, expect, it } from 'vitest';
import { AuthSession, basicAuthorization, chooseChallenge, parseChallenges } from '../../../drivers/camera/digest.js';
import { credentialsOf, withCredentials, withoutCredentials } from '../../../drivers/camera/url.js';
import { prng } from '../../helpers/prng.js';

const param = (header: string, name: string): string | undefined => new RegExp(`${name}=(?:"([^"]*)"|([^,\\s]*))`).exec(header)?.slice(1).find((v) => v !== undefined);

describe('WWW-Authenticate', () => {
  it('splits several challenges, in one header or many', () => {
    expect(parseChallenges(['Digest realm="a, b", nonce="n1", qop="auth,auth-int", Basic realm="cam"', 'Digest realm="x", nonce="n2", algorithm=SHA-256'])).toEqual([
      { scheme: 'digest', params: { realm: 'a, b', nonce: 'n1', qop: 'auth,auth-int' } },
      { scheme: 'basic', params: { realm: 'cam' } },
      { scheme: 'digest', params: { realm: 'x', nonce: 'n2', algorithm: 'SHA-256' } },
    ]);
  });

  it('prefers Digest SHA-256, then MD5, then Basic, and passes over what it cannot answer', () => {
    const offered = parseChallenges(['Basic realm="r"', 'Digest realm="r", nonce="1"', 'Digest realm="r", nonce="2", algorithm=SHA-256']);
    expect(chooseChallenge(offered)?.params.nonce).toBe('2');
    expect(chooseChallenge(parseChallenges(['Basic realm="r"', 'Digest realm="r", nonce="1", algorithm=MD5']))?.scheme).toBe('digest');
    expect(chooseChallenge(parseChallenges(['Digest realm="r", nonce="1", qop="auth-int"', 'Basic realm="r"']))?.scheme).toBe('basic');
    expect(chooseChallenge(parseChallenges(['Digest realm="r", nonce="1", algorithm=SHA-512-256']))).toBeNull();
    expect(chooseChallenge(parseChallenges(['Negotiate abc', 'NTLM']))).toBeNull();
  });

  it('survives garbage', () => {
    const random = prng(3);
    for (let i = 0; i < 2000; i++) {
      const text = String.fromCharCode(...Array.from({ length: Math.floor(random() * 80) }, () => 32 + Math.floor(random() * 95)));
      for (const c of parseChallenges([text, `Digest ${text}`])) expect(typeof c.scheme).toBe('string');
    }
  });
});

describe('Digest and Basic answers', () => {
  it('matches RFC 7616 3.9.1 (MD5 and SHA-256, qop=auth)', () => {
    const challenge = {
      realm: 'http-auth@example.org',
      qop: 'auth, auth-int',
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
      opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
    };
    const cnonce = () => 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ';
    const md5 = new AuthSession({ scheme: 'digest', params: { ...challenge, algorithm: 'MD5' } }, 'Mufasa', 'Circle of Life', cnonce).authorization('GET', '/dir/index.html');
    expect(param(md5, 'response')).toBe('8ca523f5e9506fed4657c9700eebdbec');
    expect(param(md5, 'nc')).toBe('00000001');
    expect(param(md5, 'opaque')).toBe(challenge.opaque);
    const sha = new AuthSession({ scheme: 'digest', params: { ...challenge, algorithm: 'SHA-256' } }, 'Mufasa', 'Circle of Life', cnonce).authorization('GET', '/dir/index.html');
    expect(param(sha, 'response')).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('matches RFC 2617 3.5 and counts nonce uses', () => {
    const session = new AuthSession({ scheme: 'digest', params: { realm: 'testrealm@host.com', qop: 'auth', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', opaque: '5ccc069c403ebaf9f0171e9517f40e41' } }, 'Mufasa', 'Circle Of Life', () => '0a4f113b');
    expect(param(session.authorization('GET', '/dir/index.html'), 'response')).toBe('6629fae49393a05397450978507c4ef1');
    expect(param(session.authorization('GET', '/dir/index.html'), 'nc')).toBe('00000002');
  });

  it('answers RFC 2069 style (no qop) as RTSP servers ask', () => {
    // HA1 = MD5(u:r:p), HA2 = MD5(DESCRIBE:uri), response = MD5(HA1:nonce:HA2), worked out by hand with md5sum.
    const header = new AuthSession({ scheme: 'digest', params: { realm: 'GStreamer RTSP Server', nonce: '9fcb89bea8adc0d6' } }, 'u', 'p').authorization('DESCRIBE', 'rtsp://127.0.0.1:8554/main');
    expect(param(header, 'response')).toBe('070265dee806d5028e413bce993d5083');
    expect(header).not.toMatch(/qop|nc=|cnonce/);
  });

  it('Basic is user:password in base64, UTF-8', () => {
    expect(basicAuthorization('Aladdin', 'open sesame')).toBe('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
    expect(new AuthSession({ scheme: 'basic', params: {} }, 'admin', '密码').authorization('GET', '/')).toBe(`Basic ${Buffer.from('admin:密码').toString('base64')}`);
  });
});

describe('credentials in URLs', () => {
  it('puts them in percent-encoded, unless the URL has its own', () => {
    expect(withCredentials('rtsp://10.0.0.5:554/Streaming/Channels/101', 'admin', 'p@ss:w/rd')).toBe('rtsp://admin:p%40ss%3Aw%2Frd@10.0.0.5:554/Streaming/Channels/101');
    expect(withCredentials('rtsp://u:p@10.0.0.5/x', 'admin', 'other')).toBe('rtsp://u:p@10.0.0.5/x');
    expect(withCredentials('rtsp://10.0.0.5/x', undefined, 'pw')).toBe('rtsp://10.0.0.5/x');
    expect(withCredentials('not a url', 'a', 'b')).toBe('not a url');
  });

  it('takes them out again, decoded, and scrubs them for logs', () => {
    expect(credentialsOf('rtsp://admin:p%40ss%3Aw%2Frd@10.0.0.5/x')).toEqual({ username: 'admin', password: 'p@ss:w/rd' });
    expect(credentialsOf('rtsp://10.0.0.5/x')).toEqual({});
    expect(withoutCredentials('rtsp://admin:secret@10.0.0.5:554/x?y=1')).toBe('rtsp://10.0.0.5:554/x?y=1');
    expect(withoutCredentials('http://admin:secret@cam/snap.jpg')).toBe('http://cam/snap.jpg');
    expect(withoutCredentials('rtsp://admin:se cret@[bad')).toBe('rtsp://[bad');
    expect(withoutCredentials('rtsp://admin:p/ss@word@[bad/x')).toBe('rtsp://[bad/x');
  });
});
