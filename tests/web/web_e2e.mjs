// End-to-end test of the web page served at / (src/http/web/index.html): a real `facefleet serve`, driven in
// headless Chromium (Debian's chromium package) through playwright-core (installed by scripts/install-deps into
// third_party/node). Registered with ctest as `web_e2e` (label e2e); see tests/CMakeLists.txt.
//
//   node tests/web/web_e2e.mjs --facefleet build/bin/facefleet [--source grace_hopper.jpg] [--target astronaut.png]
//                              [--chromium /usr/bin/chromium] [--page src/http/web/index.html]
//
// --page serves that file at / instead of the page compiled into the binary (same response headers, so the same
// Content-Security-Policy): for trying page edits without rebuilding. Environment fallbacks: FACEFLEET_CLI,
// FACEFLEET_SAMPLE_GRACE, FACEFLEET_SAMPLE_ASTRONAUT, CHROMIUM_PATH, FACEFLEET_WEB_PAGE.
//
// Cases: a classic swap of Grace Hopper into the astronaut photo shows the 512x512 result from a blob: URL with
// status "succeeded"; the key survives a reload (localStorage); a submission without a target and one with a
// wrong key show the API's error code and message; /v1/openapi.json is an OpenAPI 3.1 document naming every route.
// Then SIGTERM must stop the server with exit status 0.
// Prints one line per case and a closing "N passed, N failed"; exits 1 on any failure.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const INSTALL_HINT = 'run scripts/install-deps (it installs the chromium package and playwright-core into third_party/node)';
const RESULT_TIMEOUT_MS = 60_000;

function parseArgs(argv) {
  const args = {
    facefleet: process.env.FACEFLEET_CLI || '',
    source: process.env.FACEFLEET_SAMPLE_GRACE || '/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg',
    target: process.env.FACEFLEET_SAMPLE_ASTRONAUT || '/usr/lib/python3/dist-packages/skimage/data/astronaut.png',
    chromium: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    page: process.env.FACEFLEET_WEB_PAGE || '',
  };
  for (let i = 0; i < argv.length; ++i) {
    const name = argv[i].replace(/^--/, '');
    if (!(name in args) || i + 1 >= argv.length) fatal(`unknown or incomplete argument '${argv[i]}'`);
    args[name] = argv[++i];
  }
  if (!args.facefleet) fatal('no facefleet binary: pass --facefleet PATH (or set FACEFLEET_CLI)');
  return args;
}

function fatal(message) {
  console.error(`web_e2e: ${message}`);
  process.exit(1);
}

function requireFile(file, what, hint, mode = fs.constants.R_OK) {
  try {
    fs.accessSync(file, mode);
  } catch {
    fatal(`${what} not found at ${file}${hint ? `: ${hint}` : ''}`);
  }
}

// playwright-core from NODE_PATH or the project-local folder (ES modules ignore NODE_PATH, so look it up here).
function loadPlaywright() {
  const dirs = [...(process.env.NODE_PATH || '').split(path.delimiter).filter(Boolean),
    path.join(repo, 'third_party', 'node', 'node_modules')];
  for (const dir of dirs) {
    const pkg = path.join(dir, 'playwright-core');
    if (fs.existsSync(path.join(pkg, 'package.json'))) return createRequire(import.meta.url)(pkg);
  }
  fatal(`playwright-core not found in ${dirs.join(', ')}: ${INSTALL_HINT}`);
}

// Starts `facefleet serve` on a free port; resolves with { child, key, base, stderr() } once it listens.
function startServer(binary, dataDir) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('FACEFLEET_')));
  const child = spawn(binary, ['serve', '--data-dir', dataDir, '--port', '0', '--workers', '1', '--drain-timeout', '20'],
    { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-8000); });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    let key = '', keyNext = false;
    const timer = setTimeout(() => reject(new Error(`server did not print its address within 60 s\n${stderr}`)), 60_000);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (code ${code}, signal ${signal})\n${stderr}`));
    });
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      if (keyNext) { key = line.trim(); keyNext = false; return; }
      if (line.includes('created one')) { keyNext = true; return; }
      const listening = /listening on (http:\/\/[^\s]+)/.exec(line);
      if (!listening) return;
      clearTimeout(timer);
      if (!key) { reject(new Error(`server printed no API key (data dir not fresh?): ${dataDir}`)); return; }
      resolve({ child, key, base: listening[1], exited, stderr: () => stderr });
    });
  });
}

async function stopServer(server, timeoutMs) {
  if (server.child.exitCode !== null || server.child.signalCode !== null) {
    return { code: server.child.exitCode, signal: server.child.signalCode };
  }
  server.child.kill('SIGTERM');
  const timeout = new Promise((resolve) => setTimeout(() => resolve(null), timeoutMs));
  const outcome = await Promise.race([server.exited, timeout]);
  if (outcome === null) {
    server.child.kill('SIGKILL');
    return { code: null, signal: 'timeout' };
  }
  return outcome;
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

// Text and visibility of the page's feedback elements, for assertions and failure reports.
async function pageState(page) {
  return page.evaluate(() => {
    const $ = (id) => document.getElementById(id);
    const img = $('result-image');
    return {
      status: $('status').textContent,
      error: $('error').hidden ? null : $('error').textContent,
      progress: $('progress').getAttribute('value'),
      image: img.hidden ? null : { src: img.getAttribute('src') || '', width: img.naturalWidth, height: img.naturalHeight },
      resultHidden: $('result').hidden,
      download: { href: $('download').getAttribute('href'), name: $('download').getAttribute('download') },
    };
  });
}

async function openPage(context, base, pageFile, problems) {
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (e) => problems.push(`uncaught exception in the page: ${e.message}`));
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to/i.test(msg.text())) problems.push(`CSP: ${msg.text()}`);
  });
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(base + '/') && !url.startsWith('blob:') && !url.startsWith('data:')) {
      problems.push(`the page requested something outside the server: ${url}`);
    }
  });
  if (pageFile) {
    const html = fs.readFileSync(pageFile);
    await page.route(base + '/', async (route) => route.fulfill({ response: await route.fetch(), body: html }));
  }
  const response = await page.goto(base + '/');
  check(response.status() === 200, `GET / answered ${response.status()}`);
  check((response.headers()['content-security-policy'] || '').includes("default-src 'self'"),
    'GET / has no Content-Security-Policy header');
  check(await page.locator('#api-key').count() === 1,
    'the page at / has no #api-key field: was the binary built from the current src/http/web/index.html?');
  return page;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  requireFile(args.facefleet, 'the facefleet binary', 'build the facefleet_cli target', fs.constants.X_OK);
  requireFile(args.source, 'the source sample (grace_hopper.jpg)', INSTALL_HINT);
  requireFile(args.target, 'the target sample (astronaut.png)', INSTALL_HINT);
  requireFile(args.chromium, 'chromium', INSTALL_HINT, fs.constants.X_OK);
  if (args.page) requireFile(args.page, 'the page given with --page');
  const { chromium } = loadPlaywright();

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'facefleet-web-e2e-'));
  let server = null, browser = null;
  let passed = 0, failed = 0;
  const problems = [];
  const run = async (name, body) => {
    const before = problems.length;
    try {
      await body();
      check(problems.length === before, problems.slice(before).join('\n'));
      ++passed;
      console.log(`ok - ${name}`);
    } catch (e) {
      ++failed;
      console.log(`FAILED - ${name}\n  ${String(e.message || e).replace(/\n/g, '\n  ')}`);
    }
  };
  try {
    server = await startServer(args.facefleet, dataDir);
    browser = await chromium.launch({
      executablePath: args.chromium,
      args: ['--no-sandbox', '--headless=new', '--disable-dev-shm-usage'],
    });
    const context = await browser.newContext();
    let page = null;

    await run('classic swap shows the 512x512 result and "succeeded"', async () => {
      page = await openPage(context, server.base, args.page, problems);
      await page.fill('#api-key', server.key);
      await page.setInputFiles('#source', args.source);
      await page.setInputFiles('#target', args.target);
      await page.selectOption('#swapper', 'classic');
      await page.selectOption('#enhancer', 'none');
      await page.click('#submit');
      try {
        await page.waitForFunction(() => {
          const img = document.getElementById('result-image');
          return !img.hidden && (img.getAttribute('src') || '').startsWith('blob:') && img.complete && img.naturalWidth > 0;
        }, null, { timeout: RESULT_TIMEOUT_MS, polling: 200 });
      } catch (e) {
        throw new Error(`no result image within ${RESULT_TIMEOUT_MS / 1000} s: ${JSON.stringify(await pageState(page))}`);
      }
      const state = await pageState(page);
      check(state.image.width === 512 && state.image.height === 512,
        `result is ${state.image.width}x${state.image.height}, expected 512x512`);
      check(/succeeded/.test(state.status), `#status says '${state.status}', expected 'succeeded'`);
      check(state.error === null, `#error is shown: ${state.error}`);
      check(state.progress === '100', `#progress is ${state.progress}, expected 100`);
      check((state.download.href || '').startsWith('blob:') && /\.png$/.test(state.download.name || ''),
        `#download is ${JSON.stringify(state.download)}, expected a blob: link to a .png`);
      check(await page.isHidden('#result-video'), '#result-video is shown for an image result');
    });

    await run('a submission without a target shows the API error', async () => {
      page = page || await openPage(context, server.base, args.page, problems);
      await page.reload();
      check(await page.inputValue('#api-key') === server.key, 'the API key did not survive a reload (localStorage)');
      await page.setInputFiles('#source', args.source);
      await page.click('#submit');
      await page.waitForSelector('#error:not([hidden])', { timeout: 15_000 });
      const state = await pageState(page);
      check(state.error.includes('invalid_request') && state.error.includes("missing 'target' file part"),
        `#error says '${state.error}', expected invalid_request: missing 'target' file part`);
      check(state.resultHidden, 'a result is shown after a failed submission');
      check(!/succeeded/.test(state.status), `#status says '${state.status}'`);
    });

    await run('GET /v1/openapi.json is the OpenAPI 3.1 document of every route', async () => {
      const response = await fetch(server.base + '/v1/openapi.json');
      check(response.status === 200, `GET /v1/openapi.json answered ${response.status}`);
      const doc = await response.json();
      check(doc.openapi === '3.1.0', `openapi is ${doc.openapi}`);
      const routes = ['/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/result', '/v1/jobs/{id}/events', '/v1/jobs/{id}/cancel',
        '/healthz', '/readyz', '/metrics', '/v1/openapi.json', '/'];
      const missing = routes.filter((route) => !(doc.paths && route in doc.paths));
      check(missing.length === 0, `paths missing: ${missing.join(', ')}`);
      check(doc.webhooks && doc.webhooks.completed, 'no webhooks.completed');
    });

    await run('a wrong API key shows unauthenticated', async () => {
      page = page || await openPage(context, server.base, args.page, problems);
      await page.reload();
      await page.fill('#api-key', 'ff_wrong_key');
      await page.setInputFiles('#source', args.source);
      await page.setInputFiles('#target', args.target);
      await page.click('#submit');
      await page.waitForSelector('#error:not([hidden])', { timeout: 15_000 });
      const state = await pageState(page);
      check(state.error.includes('unauthenticated'), `#error says '${state.error}', expected unauthenticated`);
    });
  } catch (e) {
    ++failed;
    console.log(`FAILED - setup\n  ${String(e.message || e).replace(/\n/g, '\n  ')}`);
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) {
      await run('SIGTERM stops the server with exit status 0', async () => {
        const { code, signal } = await stopServer(server, 30_000);
        check(code === 0, `server ended with code ${code}, signal ${signal}\n${server.stderr()}`);
      });
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((e) => fatal(e.stack || String(e)));
