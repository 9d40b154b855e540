// The unit tier of tests/run.sh: run every test that meson knows (meson introspect --tests),
// one executable at a time, and count Criterion's closing line of each:
//   [====] Synthesis: Tested: N | Passing: N | Failing: N | Crashing: N
// Passing counts as passed, Failing + Crashing as failed. An executable that exits non-zero
// although its Synthesis line shows no failure (a sanitizer report at exit, a leak) adds one
// failure; one without a Synthesis line counts as one test, passed if it exited 0.
// Prints one line per executable and, last, "unit: P passed, F failed".
// Usage: node tests/lib/unit-tier.mjs BUILD_DIR        Exit: 0 all passed, 1 otherwise.

import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';

const build = process.argv[2];
if (!build) {
  console.error('usage: unit-tier.mjs BUILD_DIR');
  process.exit(2);
}

const intro = spawnSync('meson', ['introspect', build, '--tests'], { encoding: 'utf8', maxBuffer: 64 << 20 });
if (intro.status !== 0) {
  console.error(`unit: meson introspect ${build} --tests failed:\n${intro.stderr}`);
  console.log('unit: 0 passed, 1 failed');
  process.exit(1);
}
const tests = JSON.parse(intro.stdout);

const SYNTHESIS = /Synthesis: Tested: (\d+) \| Passing: (\d+) \| Failing: (\d+) \| Crashing: (\d+)/g;

function run(t) {
  return new Promise((resolve) => {
    const timeoutS = t.timeout > 0 ? Math.max(t.timeout * 3, 120) : 600;
    const child = spawn(t.cmd[0], t.cmd.slice(1), {
      cwd: t.workdir || path.resolve(build),
      env: { ...process.env, ...(t.env || {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks = [];
    child.stdout.on('data', (d) => chunks.push(d));
    child.stderr.on('data', (d) => chunks.push(d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutS * 1000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: -1, signal: null, output: `cannot run ${t.cmd[0]}: ${e.message}`, timedOut });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output: Buffer.concat(chunks).toString(), timedOut });
    });
  });
}

let passed = 0;
let failed = 0;
for (const t of tests) {
  const r = await run(t);
  let p = 0;
  let f = 0;
  let found = false;
  for (const m of r.output.matchAll(SYNTHESIS)) {
    found = true;
    p += Number(m[2]);
    f += Number(m[3]) + Number(m[4]);
  }
  let note = '';
  if (!found) {
    if (r.code === 0) p = 1;
    else f = 1;
    note = ' (no Criterion Synthesis line: counted as one test)';
  } else if (r.code !== 0 && f === 0) {
    f = 1;
    note = ` (exit ${r.code ?? r.signal} after all tests passed: sanitizer or leak report, counted as a failure)`;
  }
  if (r.timedOut) note += ' (timed out)';
  passed += p;
  failed += f;
  console.log(`unit: ${t.name}: ${p} passed, ${f} failed, exit ${r.code ?? r.signal}${note}`);
  if (f > 0) {
    const out = r.output.length > 12000 ? `...${r.output.slice(-12000)}` : r.output;
    console.log(out.replace(/^/gm, `  | `));
  }
}
if (tests.length === 0) console.log('unit: meson knows no tests');
console.log(`unit: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
