// Cross-checks the metric names of the Grafana dashboard and the PrometheusRule (deploy/k8s/components/monitoring)
// against what a real `facefleet serve` exposes on /metrics. Registered with ctest as `deploy_metrics` (label
// deploy; tests/CMakeLists.txt). Needs only node and the facefleet binary.
//
//   node tests/deploy/check_metrics.mjs --facefleet build/bin/facefleet [--repo DIR]
//
// Every `facefleet_*` name in either file must be a metric family of /metrics; a histogram may be used with its
// _bucket, _sum and _count series. Families render their `# TYPE` line even before they have a sample, so the
// Redis-only gauges (facefleet_queue_lag, facefleet_queue_pending) are checked against the SQLite-backed server
// too. Other names (kube-state-metrics' kube_*, dcgm-exporter's DCGM_*) are external and not checked here.
// The server runs with --workers 0 (API only): the metric families are registered the same way, and no model is
// loaded, so the check stays light. Prints one line per check and "N passed, M failed"; exits 1 on any failure.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

function parseArgs(argv) {
  const args = { repo: path.resolve(here, '..', '..'), facefleet: process.env.FACEFLEET_CLI || '' };
  for (let i = 0; i < argv.length; ++i) {
    if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
    if (argv[i] === '--repo') args.repo = path.resolve(argv[++i]);
    else if (argv[i] === '--facefleet') args.facefleet = path.resolve(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return args;
}

let passed = 0;
let failed = 0;
function report(name, problems) {
  if (problems.length === 0) {
    ++passed;
    console.log(`ok    ${name}`);
  } else {
    ++failed;
    console.log(`FAIL  ${name}`);
    for (const p of problems) console.log(`        ${p}`);
  }
}

function get(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`timeout: GET ${url}`)));
  });
}

// Starts `facefleet serve` on a free loopback port; resolves to {child, port}.
function startServer(facefleet, dataDir) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FACEFLEET_')));
  env.HOME = dataDir;
  const child = spawn(facefleet, ['serve', '--data-dir', dataDir, '--port', '0', '--workers', '0'], {
    env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening on" line within ${START_TIMEOUT_MS} ms: ${stderr}`)),
      START_TIMEOUT_MS);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`exited with ${code}: ${stderr.trim()}`)); });
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /listening on http:\/\/[^\s]*:(\d+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve({ child, port: Number(m[1]) });
      }
    });
  });
}

function stopServer(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve(code ?? signal); });
    child.kill('SIGTERM');
  });
}

// name -> type from the exposition text (# TYPE lines, plus any sample whose family has none).
function exposedFamilies(text) {
  const families = new Map();
  for (const line of text.split('\n')) {
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)/.exec(line);
    if (type) families.set(type[1], type[2]);
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (sample && !families.has(sample[1])) families.set(sample[1], 'untyped');
  }
  return families;
}

// The family a series name belongs to: histogram/summary series carry a suffix.
function familyOf(name, families) {
  if (families.has(name)) return name;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (m && ['histogram', 'summary'].includes(families.get(m[1]))) {
    if (m[2] === 'bucket' && families.get(m[1]) !== 'histogram') return null;
    return m[1];
  }
  return null;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const monitoring = path.join(args.repo, 'deploy', 'k8s', 'components', 'monitoring');
  const sources = ['grafana-dashboard.json', 'prometheusrule.yaml'].map((f) => path.join(monitoring, f));

  const used = new Map();  // name -> files using it
  {
    const problems = [];
    for (const file of sources) {
      let text = '';
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (e) {
        problems.push(`${file}: ${e.message}`);
        continue;
      }
      if (file.endsWith('.json')) {
        try {
          const dash = JSON.parse(text);
          const exprs = (dash.panels || []).flatMap((p) => (p.targets || []).map((t) => t.expr)).filter(Boolean);
          if (exprs.length === 0) problems.push(`${file}: no panel has a query`);
          for (const p of dash.panels || []) if (!(p.targets || []).length) problems.push(`${file}: panel "${p.title}" has no query`);
        } catch (e) {
          problems.push(`${file}: not valid JSON: ${e.message}`);
        }
      }
      for (const m of text.matchAll(/\bfacefleet_[a-z0-9_]*[a-z0-9]/g)) {
        if (!used.has(m[0])) used.set(m[0], new Set());
        used.get(m[0]).add(path.basename(file));
      }
    }
    if (used.size === 0) problems.push('no facefleet_* metric is used');
    report(`dashboard and alert rules parse (${used.size} facefleet_* names used)`, problems);
  }

  if (!args.facefleet || !fs.existsSync(args.facefleet)) {
    report('facefleet binary', [`not found (${args.facefleet || 'pass --facefleet PATH'}): build it (make build)`]);
    return;
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'facefleet-metrics-'));
  let server = null;
  try {
    let families = new Map();
    {
      const problems = [];
      try {
        server = await startServer(args.facefleet, dataDir);
        const res = await get(`http://127.0.0.1:${server.port}/metrics`);
        if (res.status !== 200) problems.push(`GET /metrics answered ${res.status}`);
        families = exposedFamilies(res.body);
        if (![...families.keys()].some((n) => n.startsWith('facefleet_'))) problems.push('no facefleet_* family exposed');
      } catch (e) {
        problems.push(`facefleet serve: ${e.message}`);
      }
      report(`facefleet serve --port 0 exposes /metrics (${[...families.keys()].filter((n) => n.startsWith('facefleet_')).length} facefleet_* families)`, problems);
      if (problems.length) return;
    }
    {
      const missing = ['facefleet_queue_lag', 'facefleet_queue_pending'].filter((n) => families.get(n) !== 'gauge');
      report('Redis-only gauges facefleet_queue_lag and facefleet_queue_pending are exposed without Redis',
        missing.map((n) => `${n}: not a gauge family of /metrics`));
    }
    {
      const problems = [];
      for (const [name, files] of [...used].sort()) {
        if (!familyOf(name, families)) problems.push(`${name} (used in ${[...files].join(', ')}): not exposed by /metrics`);
      }
      report('every facefleet_* name in the dashboard and the alert rules exists in /metrics', problems);
    }
  } finally {
    if (server) {
      const code = await stopServer(server.child);
      report('facefleet serve stops on SIGTERM with status 0', code === 0 ? [] : [`exit status ${code}`]);
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (e) {
  report('check_metrics', [e.stack || String(e)]);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
