// Transport security as an outside client sees it, with the `openssl s_client` of the machine:
// TLS 1.0 and 1.1 refused, TLS 1.2 only with forward-secret AEAD suites, TLS 1.3 accepted.
// Each refusal has a control: the same client command completes a handshake with a deliberately
// permissive TLS server started in this test, so a refusal is the server's doing, not a client
// that cannot speak the old protocol (Debian's OpenSSL refuses TLS < 1.2 by default; the client
// lowers its security level to @SECLEVEL=0 for these probes).
// Contract: docs/operations.md "TLS"; ARCHITECTURE rule: HTTPS only.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import { startServer } from '../lib/server.mjs';

let srv;
let lax; // the permissive control server
let laxPort;

/** openssl s_client against 127.0.0.1:port; resolves {ok, protocol, cipher, out}. */
function sClient(port, args) {
  return new Promise((resolve) => {
    const child = execFile('openssl', ['s_client', '-brief', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', ...args],
      { timeout: 15000 }, (error, stdout, stderr) => {
        const out = `${stdout}\n${stderr}`;
        // -brief prints "CONNECTION ESTABLISHED", "Protocol version: TLSv1.2" and
        // "Ciphersuite: ECDHE-..." once the handshake completed, nothing of the kind otherwise.
        const ok = /^CONNECTION ESTABLISHED$/m.test(out);
        const protocol = /^Protocol version: (\S+)/m.exec(out)?.[1] ?? null;
        const cipher = /^Ciphersuite: (\S+)/m.exec(out)?.[1] ?? null;
        resolve({ ok, protocol, cipher, out, code: error?.code ?? 0 });
      });
    child.stdin.end('Q\n');
  });
}

before(async () => {
  srv = await startServer({ demo: null });
  // The control: a TLS server that accepts everything down to TLS 1.0 and CBC suites, with the
  // hpf server's own certificate (any certificate would do: s_client does not verify here).
  lax = tls.createServer({
    key: fs.readFileSync(path.join(srv.dataDir, 'tls', 'key.pem')),
    cert: fs.readFileSync(path.join(srv.dataDir, 'tls', 'cert.pem')),
    minVersion: 'TLSv1',
    ciphers: 'ALL:@SECLEVEL=0',
  }, (socket) => socket.end());
  await new Promise((resolve) => lax.listen(0, '127.0.0.1', resolve));
  laxPort = lax.address().port;
});

after(async () => {
  lax?.close();
  await srv?.stop().catch(() => {});
});

const OLD = [['TLS 1.0', '-tls1'], ['TLS 1.1', '-tls1_1']];

for (const [name, flag] of OLD) {
  test(`${name} is refused by hpf serve (and accepted by the permissive control server)`, async () => {
    const args = [flag, '-cipher', 'ALL:@SECLEVEL=0'];
    const control = await sClient(laxPort, args);
    assert.ok(control.ok, `the client could not speak ${name} to the control server: ${control.out.slice(0, 600)}`);
    assert.match(control.protocol, flag === '-tls1' ? /^TLSv1(\.0)?$/ : /^TLSv1\.1$/);
    const r = await sClient(srv.port, args);
    assert.ok(!r.ok, `hpf serve completed a ${name} handshake: protocol ${r.protocol}, cipher ${r.cipher}`);
  });
}

test('TLS 1.2 with a CBC suite (ECDHE-ECDSA-AES128-SHA) is refused: AEAD suites only', async () => {
  const args = ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0'];
  const control = await sClient(laxPort, args);
  assert.ok(control.ok, `control: ${control.out.slice(0, 600)}`);
  const r = await sClient(srv.port, args);
  assert.ok(!r.ok, `hpf serve accepted ${r.cipher}`);
});

test('TLS 1.2 with ECDHE and AES-GCM is accepted; TLS 1.3 is accepted', async () => {
  const r12 = await sClient(srv.port, ['-tls1_2']);
  assert.ok(r12.ok, r12.out.slice(0, 600));
  assert.equal(r12.protocol, 'TLSv1.2');
  assert.match(r12.cipher, /^ECDHE-.*(GCM|CHACHA20)/);
  const r13 = await sClient(srv.port, ['-tls1_3']);
  assert.ok(r13.ok, r13.out.slice(0, 600));
  assert.equal(r13.protocol, 'TLSv1.3');
  assert.match(r13.cipher, /^TLS_(AES|CHACHA20)/);
});
