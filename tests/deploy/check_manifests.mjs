// Offline checks of the Kubernetes manifests in deploy/k8s. Registered with ctest as `deploy_manifests` (label
// deploy; tests/CMakeLists.txt). Needs kubectl (renders the overlays with its built-in kustomize) and the npm
// packages pinned in tests/deploy/package-lock.json, which scripts/install-deps installs into
// third_party/node/k8s-models. A missing tool fails the check with a hint to run scripts/install-deps.
//
//   node tests/deploy/check_manifests.mjs [--repo DIR] [--node-modules DIR] [--kubectl PATH]
//
// For every overlay in deploy/k8s/overlays/*:
//   1. `kubectl kustomize` renders it;
//   2. every object validates against its schema: Kubernetes (kubernetes-models), KEDA (@kubernetes-models/keda),
//      Prometheus operator (@kubernetes-models/prometheus-operator); the class is picked by apiVersion/kind and an
//      unknown kind fails. Those JSON schemas accept unknown fields, so field names are also checked against the
//      packages' type declarations (a misspelt `livenesProbe` fails);
//   3. policy: every container has resource requests and limits (cpu, memory); long-running containers have
//      liveness and readiness probes (init containers are exempt); pods and containers run as uid 10001,
//      non-root, read-only root filesystem, no privilege escalation, all capabilities dropped, RuntimeDefault
//      seccomp, /tmp on an emptyDir; pods use a ServiceAccount with automountServiceAccountToken false and
//      enableServiceLinks false; the worker's terminationGracePeriodSeconds >= FACEFLEET_JOB_TIMEOUT and
//      >= FACEFLEET_DRAIN_TIMEOUT + 5; the worker is scaled by exactly one KEDA object (ScaledObject with
//      minReplicaCount 0, or ScaledJob) whose redis-streams trigger has lagCount and activationLagCount, reads
//      stream facefleet:jobs / group workers at the address and database of FACEFLEET_QUEUE; no
//      HorizontalPodAutoscaler targets a KEDA-scaled workload; the worker Deployment has no `replicas`; no
//      Secret is rendered and every secretKeyRef names a key of base/secret.example.yaml; referenced ConfigMaps,
//      PVCs and ServiceAccounts exist; a default-deny NetworkPolicy exists; the Ingress has TLS.
// Prints one line per check and "N passed, M failed"; exits 1 on any failure.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const INSTALL_HINT = 'run scripts/install-deps';
const FACEFLEET_IMAGE = 'ghcr.io/facefleet/facefleet';
const UID = 10001;
const NAMESPACE = 'facefleet';
const STREAM = 'facefleet:jobs';  // "<prefix>jobs", default prefix "facefleet:" (src/jobs/redis_queue.hpp)
const GROUP = 'workers';

function parseArgs(argv) {
  const args = { repo: path.resolve(here, '..', '..'), nodeModules: '', kubectl: '' };
  for (let i = 0; i < argv.length; ++i) {
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
      return argv[++i];
    };
    if (argv[i] === '--repo') args.repo = path.resolve(value());
    else if (argv[i] === '--node-modules') args.nodeModules = path.resolve(value());
    else if (argv[i] === '--kubectl') args.kubectl = value();
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!args.nodeModules) args.nodeModules = path.join(args.repo, 'third_party', 'node', 'k8s-models', 'node_modules');
  return args;
}

function which(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return '';
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

// ---- schema classes, picked by apiVersion/kind ----------------------------------------------------------------

// Where each API group's classes live: <package>/<group>/<version>/<Kind>.js (core "v1" is <package>/v1).
const PACKAGES = ['kubernetes-models', '@kubernetes-models/keda', '@kubernetes-models/prometheus-operator'];

async function loadClass(nodeModules, apiVersion, kind) {
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !/^[A-Za-z0-9]+$/.test(kind)) return null;
  if (!/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion)) return null;
  for (const pkg of PACKAGES) {
    const file = path.join(nodeModules, pkg, apiVersion, `${kind}.js`);  // apiVersion "apps/v1", "v1", "keda.sh/v1alpha1"

    if (!fs.existsSync(file)) continue;
    const module = await import(pathToFileURL(file).href);
    const cls = module[kind];
    if (typeof cls === 'function' && cls.apiVersion === apiVersion && cls.kind === kind) return { cls, pkg, file };
  }
  return null;
}

// ---- unknown-field check from the packages' TypeScript declarations -------------------------------------------

// Parses the first interface of a .d.ts file: its top-level fields and their declared types, and the imports that
// name those types. Types that are not a named interface (primitives, maps, inline objects) are not descended into.
const declCache = new Map();
function readDecl(file) {
  if (declCache.has(file)) return declCache.get(file);
  let decl = null;
  if (fs.existsSync(file)) {
    const text = fs.readFileSync(file, 'utf8');
    const imports = new Map();
    for (const m of text.matchAll(/^import \{ (\w+) \} from "([^"]+)";$/gm)) imports.set(m[1], m[2]);
    const start = text.search(/^export interface \w+/m);
    if (start >= 0) {
      const body = text.slice(start, text.indexOf('\n}', start));
      const fields = new Map();
      for (const m of body.matchAll(/^ {4}"([^"]+)"\??: (.*?);?$/gm)) fields.set(m[1], m[2]);
      decl = { file, imports, fields };
    }
  }
  declCache.set(file, decl);
  return decl;
}

function resolveImport(nodeModules, fromFile, spec) {
  const base = spec.startsWith('.') ? path.resolve(path.dirname(fromFile), spec) : path.join(nodeModules, spec);
  return base.replace(/\.js$/, '') + '.d.ts';
}

function checkFields(nodeModules, decl, value, where, problems) {
  if (!decl || value === null || typeof value !== 'object' || Array.isArray(value)) return;
  for (const [key, child] of Object.entries(value)) {
    if (!decl.fields.has(key)) {
      problems.push(`${where}.${key}: unknown field (not in ${path.basename(decl.file, '.d.ts')})`);
      continue;
    }
    const type = decl.fields.get(key);
    const m = /^(?:Array<(\w+)>|(\w+))$/.exec(type);
    const name = m && (m[1] || m[2]);
    if (!name || !decl.imports.has(name)) continue;
    const childDecl = readDecl(resolveImport(nodeModules, decl.file, decl.imports.get(name)));
    if (m[1] && Array.isArray(child)) {
      child.forEach((item, i) => checkFields(nodeModules, childDecl, item, `${where}.${key}[${i}]`, problems));
    } else {
      checkFields(nodeModules, childDecl, child, `${where}.${key}`, problems);
    }
  }
}

// ---- helpers over rendered objects -----------------------------------------------------------------------------

const id = (o) => `${o.kind}/${o.metadata?.name}`;

// The pod specs of an object with where they are, for every kind that has a pod template.
function podSpecs(o) {
  const s = o.spec || {};
  switch (o.kind) {
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
      return [{ pod: s.template, where: 'spec.template' }];
    case 'CronJob':
      return [{ pod: s.jobTemplate?.spec?.template, where: 'spec.jobTemplate.spec.template' }];
    case 'ScaledJob':
      return [{ pod: s.jobTargetRef?.template, where: 'spec.jobTargetRef.template' }];
    case 'Pod':
      return [{ pod: o, where: '' }];
    default:
      return [];
  }
}

const isWorkerPod = (pod) =>
  (pod?.spec?.containers || []).some((c) => c.image?.startsWith(FACEFLEET_IMAGE) && c.args?.[0] === 'worker');

// FACEFLEET_* settings a container sees: its envFrom ConfigMaps, then its literal env values.
function containerSettings(container, configMaps) {
  const settings = {};
  for (const from of container.envFrom || []) {
    const cm = from.configMapRef && configMaps.get(from.configMapRef.name);
    if (cm) Object.assign(settings, cm.data || {});
  }
  for (const e of container.env || []) if (typeof e.value === 'string') settings[e.name] = e.value;
  return settings;
}

// redis://[user:pass@]host[:port][/db] -> {host, port, db}
function parseRedisUrl(url) {
  const m = /^redis:\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?(?:\/(\d+))?$/.exec(url || '');
  return m ? { host: m[1], port: Number(m[2] || 6379), db: Number(m[3] || 0) } : null;
}

// Why KEDA's trigger address (seen from KEDA's namespace) does not name the server of the queue URL (seen from
// the facefleet pods), or '' when it does. A short Service name must be written out with its namespace.
function redisMismatch(queue, address, namespace) {
  const m = /^(.+):(\d+)$/.exec(address || '');
  if (!m) return `address ${address} is not host:port`;
  const [, host, port] = m;
  const shortName = /^[a-z0-9-]+$/.test(queue.host);
  if (Number(port) !== queue.port) return `address ${address}: port differs from FACEFLEET_QUEUE's ${queue.port}`;
  if (host === queue.host && !shortName) return '';
  if (host === queue.host) {
    return `address ${address}: a bare Service name does not resolve from KEDA's namespace; ` +
      `use ${queue.host}.${namespace}.svc.cluster.local:${queue.port}`;
  }
  if (shortName && [`${queue.host}.${namespace}.svc`, `${queue.host}.${namespace}.svc.cluster.local`].includes(host)) return '';
  return `address ${address} is not FACEFLEET_QUEUE's host ${queue.host}`;
}

function labelsMatch(selector, labels) {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels || {})) if (labels?.[k] !== v) return false;
  for (const e of selector.matchExpressions || []) {
    const has = labels && Object.hasOwn(labels, e.key);
    if (e.operator === 'In' && !(has && e.values.includes(labels[e.key]))) return false;
    if (e.operator === 'NotIn' && has && e.values.includes(labels[e.key])) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

// ---- policy ---------------------------------------------------------------------------------------------------

function checkSecurityContext(sc, where, problems, { pod }) {
  if (!sc) return problems.push(`${where}.securityContext: missing`);
  if (sc.runAsNonRoot !== true) problems.push(`${where}.securityContext.runAsNonRoot must be true`);
  if (sc.runAsUser !== UID) problems.push(`${where}.securityContext.runAsUser must be ${UID}`);
  if (sc.seccompProfile?.type !== 'RuntimeDefault') {
    problems.push(`${where}.securityContext.seccompProfile.type must be RuntimeDefault`);
  }
  if (pod) return;
  if (sc.readOnlyRootFilesystem !== true) problems.push(`${where}.securityContext.readOnlyRootFilesystem must be true`);
  if (sc.allowPrivilegeEscalation !== false) {
    problems.push(`${where}.securityContext.allowPrivilegeEscalation must be false`);
  }
  if (!(sc.capabilities?.drop || []).includes('ALL')) problems.push(`${where}.securityContext.capabilities.drop must include ALL`);
  if ((sc.capabilities?.add || []).length) problems.push(`${where}.securityContext.capabilities.add must be empty`);
  if (sc.privileged) problems.push(`${where}.securityContext.privileged must not be set`);
}

function checkResources(c, where, problems) {
  for (const kind of ['requests', 'limits']) {
    const r = c.resources?.[kind];
    for (const res of ['cpu', 'memory']) {
      if (r?.[res] === undefined) problems.push(`${where}.resources.${kind}.${res}: missing`);
    }
  }
}

function checkPod(o, { pod, where }, ctx, problems) {
  const at = `${id(o)} ${where}`;
  const spec = pod?.spec;
  if (!spec) return problems.push(`${at}: no pod spec`);
  const sa = ctx.serviceAccounts.get(spec.serviceAccountName);
  if (!spec.serviceAccountName) problems.push(`${at}.spec.serviceAccountName: missing (the default SA mounts a token)`);
  else if (!sa) problems.push(`${at}.spec.serviceAccountName: ServiceAccount ${spec.serviceAccountName} is not rendered`);
  else if (sa.automountServiceAccountToken !== false) {
    problems.push(`${at}: ServiceAccount ${spec.serviceAccountName} must set automountServiceAccountToken: false`);
  }
  if (spec.automountServiceAccountToken === true) problems.push(`${at}.spec.automountServiceAccountToken must not be true`);
  if (spec.enableServiceLinks !== false) {
    problems.push(`${at}.spec.enableServiceLinks must be false (a Service named facefleet would set FACEFLEET_PORT)`);
  }
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) problems.push(`${at}: host namespaces must not be used`);
  checkSecurityContext(spec.securityContext, `${at}.spec`, problems, { pod: true });

  const volumes = new Map((spec.volumes || []).map((v) => [v.name, v]));
  for (const v of volumes.values()) {
    const claim = v.persistentVolumeClaim?.claimName;
    if (claim && !ctx.pvcs.has(claim)) problems.push(`${at}: volume ${v.name} claims PVC ${claim}, which is not rendered`);
    if (v.hostPath) problems.push(`${at}: volume ${v.name} is a hostPath`);
  }
  const claimTemplates = new Set((o.spec?.volumeClaimTemplates || []).map((t) => t.metadata?.name));
  const groups = [['initContainers', spec.initContainers || [], false], ['containers', spec.containers || [], true]];
  for (const [field, list, needsProbes] of groups) {
    list.forEach((c, i) => {
      const cw = `${at}.spec.${field}[${i}] (${c.name})`;
      checkResources(c, cw, problems);
      checkSecurityContext(c.securityContext, cw, problems, { pod: false });
      const sidecar = c.restartPolicy === 'Always';
      if ((needsProbes || sidecar) && !c.livenessProbe) problems.push(`${cw}.livenessProbe: missing`);
      if ((needsProbes || sidecar) && !c.readinessProbe) problems.push(`${cw}.readinessProbe: missing`);
      if (!/(:[\w][\w.-]*|@sha256:[0-9a-f]{64})$/.test(c.image || '') || /:latest$/.test(c.image)) {
        problems.push(`${cw}.image ${c.image}: needs a version tag or a digest`);
      }
      const tmp = (c.volumeMounts || []).find((m) => m.mountPath === '/tmp');
      if (!tmp || !volumes.get(tmp.name)?.emptyDir) problems.push(`${cw}: /tmp must be an emptyDir mount (read-only root)`);
      for (const m of c.volumeMounts || []) {
        if (!volumes.has(m.name) && !claimTemplates.has(m.name)) problems.push(`${cw}: mounts unknown volume ${m.name}`);
      }
      for (const from of c.envFrom || []) {
        if (from.configMapRef && !ctx.configMaps.has(from.configMapRef.name)) {
          problems.push(`${cw}: envFrom ConfigMap ${from.configMapRef.name} is not rendered`);
        }
        if (from.secretRef) ctx.secretRefs.push({ where: cw, name: from.secretRef.name, key: '*' });
      }
      for (const e of c.env || []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref) ctx.secretRefs.push({ where: `${cw} env ${e.name}`, name: ref.name, key: ref.key });
        const cmRef = e.valueFrom?.configMapKeyRef;
        if (cmRef && !ctx.configMaps.get(cmRef.name)?.data?.[cmRef.key]) {
          problems.push(`${cw} env ${e.name}: ConfigMap key ${cmRef.name}/${cmRef.key} is not rendered`);
        }
      }
    });
  }

  if (isWorkerPod(pod)) {
    const worker = spec.containers.find((c) => c.args?.[0] === 'worker');
    const settings = containerSettings(worker, ctx.configMaps);
    const timeout = Number(settings.FACEFLEET_JOB_TIMEOUT ?? 3600);  // the flag's default when unset
    const drain = Number(settings.FACEFLEET_DRAIN_TIMEOUT ?? 60);
    const grace = spec.terminationGracePeriodSeconds ?? 30;
    if (!(grace >= timeout)) {
      problems.push(`${at}: terminationGracePeriodSeconds ${grace} < FACEFLEET_JOB_TIMEOUT ${timeout}`);
    }
    if (!(grace >= drain + 5)) {
      problems.push(`${at}: terminationGracePeriodSeconds ${grace} < FACEFLEET_DRAIN_TIMEOUT ${drain} + 5 s webhook flush`);
    }
    if (pod.metadata?.annotations?.['cluster-autoscaler.kubernetes.io/safe-to-evict'] !== 'false') {
      problems.push(`${at}: worker pods need annotation cluster-autoscaler.kubernetes.io/safe-to-evict: "false"`);
    }
    ctx.queueUrls.add(settings.FACEFLEET_QUEUE);
  }
}

function checkRedisStreamsTrigger(o, triggers, ctx, problems) {
  const streams = (triggers || []).filter((t) => t.type === 'redis-streams');
  if (streams.length === 0) problems.push(`${id(o)}: no redis-streams trigger`);
  const lag = streams.filter((t) => t.metadata?.lagCount !== undefined);
  if (lag.length === 0) problems.push(`${id(o)}: no redis-streams trigger with lagCount (the only mode that wakes from 0)`);
  for (const t of lag) {
    if (t.metadata.activationLagCount === undefined) problems.push(`${id(o)}: trigger ${t.name}: activationLagCount missing`);
    if (!(Number(t.metadata.lagCount) >= 1)) problems.push(`${id(o)}: trigger ${t.name}: lagCount must be >= 1`);
  }
  const queues = [...ctx.queueUrls];
  for (const t of streams) {
    const m = t.metadata || {};
    if (m.stream !== STREAM) problems.push(`${id(o)}: trigger ${t.name}: stream ${m.stream}, expected ${STREAM}`);
    if (m.consumerGroup !== GROUP) problems.push(`${id(o)}: trigger ${t.name}: consumerGroup ${m.consumerGroup}, expected ${GROUP}`);
    if (queues.length !== 1) {
      problems.push(`${id(o)}: workers see ${queues.length} different FACEFLEET_QUEUE values (${queues.join(', ')})`);
      continue;
    }
    const queue = parseRedisUrl(queues[0]);
    if (!queue) problems.push(`${id(o)}: FACEFLEET_QUEUE ${queues[0]} is not a redis:// URL`);
    else if (redisMismatch(queue, m.address, o.metadata?.namespace || NAMESPACE)) {
      problems.push(`${id(o)}: trigger ${t.name}: ${redisMismatch(queue, m.address, o.metadata?.namespace || NAMESPACE)}`);
    } else if (Number(m.databaseIndex ?? 0) !== queue.db) {
      problems.push(`${id(o)}: trigger ${t.name}: databaseIndex ${m.databaseIndex} != FACEFLEET_QUEUE's db ${queue.db}`);
    }
    if (!t.authenticationRef?.name) problems.push(`${id(o)}: trigger ${t.name}: no authenticationRef (Redis password)`);
    else if (!ctx.triggerAuths.has(t.authenticationRef.name)) {
      problems.push(`${id(o)}: trigger ${t.name}: TriggerAuthentication ${t.authenticationRef.name} is not rendered`);
    }
  }
}

function checkPolicy(objects, secretExample) {
  const problems = [];
  const byKind = (kind) => objects.filter((o) => o.kind === kind);
  const ctx = {
    configMaps: new Map(byKind('ConfigMap').map((o) => [o.metadata.name, o])),
    serviceAccounts: new Map(byKind('ServiceAccount').map((o) => [o.metadata.name, o])),
    pvcs: new Set(byKind('PersistentVolumeClaim').map((o) => o.metadata.name)),
    triggerAuths: new Set(byKind('TriggerAuthentication').map((o) => o.metadata.name)),
    secretRefs: [],
    queueUrls: new Set(),
  };
  for (const o of objects) {
    if (o.kind !== 'Namespace' && o.metadata?.namespace !== NAMESPACE) {
      problems.push(`${id(o)}: metadata.namespace must be ${NAMESPACE}`);
    }
    for (const p of podSpecs(o)) checkPod(o, p, ctx, problems);
  }
  if (byKind('Secret').length) problems.push(`Secrets are rendered (${byKind('Secret').map(id).join(', ')}): commit none`);
  const exampleKeys = new Set(Object.keys(secretExample?.stringData || {}));
  for (const ref of ctx.secretRefs) {
    if (ref.name !== secretExample?.metadata?.name || (ref.key !== '*' && !exampleKeys.has(ref.key))) {
      problems.push(`${ref.where}: secret ${ref.name}/${ref.key} is not in base/secret.example.yaml`);
    }
  }
  for (const ta of byKind('TriggerAuthentication')) {
    for (const ref of ta.spec?.secretTargetRef || []) {
      if (ref.name !== secretExample?.metadata?.name || !exampleKeys.has(ref.key)) {
        problems.push(`${id(ta)}: secret ${ref.name}/${ref.key} is not in base/secret.example.yaml`);
      }
    }
  }

  // Workers and what scales them.
  const workerDeployments = byKind('Deployment').filter((d) => isWorkerPod(d.spec?.template));
  const workerJobs = byKind('ScaledJob').filter((j) => isWorkerPod(j.spec?.jobTargetRef?.template));
  const scaledObjects = byKind('ScaledObject');
  if (workerDeployments.length + workerJobs.length === 0) problems.push('no worker (Deployment or ScaledJob running `facefleet worker`)');
  if (workerDeployments.length && workerJobs.length) {
    problems.push(`a worker Deployment and a worker ScaledJob both consume ${STREAM}: render one of them`);
  }
  for (const d of workerDeployments) {
    if (d.spec.replicas !== undefined) problems.push(`${id(d)}: spec.replicas is set; KEDA owns the count (omit it)`);
    const owners = scaledObjects.filter((so) => (so.spec?.scaleTargetRef?.kind ?? 'Deployment') === 'Deployment' &&
      so.spec?.scaleTargetRef?.name === d.metadata.name);
    if (owners.length !== 1) problems.push(`${id(d)}: needs exactly one ScaledObject, has ${owners.length}`);
  }
  for (const so of scaledObjects) {
    const s = so.spec || {};
    const target = objects.find((o) => o.kind === (s.scaleTargetRef?.kind ?? 'Deployment') && o.metadata.name === s.scaleTargetRef?.name);
    if (!target) problems.push(`${id(so)}: scaleTargetRef ${s.scaleTargetRef?.name} is not rendered`);
    if (s.minReplicaCount !== 0) problems.push(`${id(so)}: minReplicaCount must be 0 (scale to zero)`);
    if (!(s.maxReplicaCount >= 1)) problems.push(`${id(so)}: maxReplicaCount must be set (a cost cap; KEDA's default is 100)`);
    if (s.pollingInterval === undefined) problems.push(`${id(so)}: pollingInterval must be set`);
    if (s.cooldownPeriod === undefined) problems.push(`${id(so)}: cooldownPeriod must be set`);
    if (!s.advanced?.horizontalPodAutoscalerConfig?.behavior) {
      problems.push(`${id(so)}: advanced.horizontalPodAutoscalerConfig.behavior must be set`);
    }
    checkRedisStreamsTrigger(so, s.triggers, ctx, problems);
  }
  for (const sj of byKind('ScaledJob')) {
    const s = sj.spec || {};
    if ((s.minReplicaCount ?? 0) !== 0) problems.push(`${id(sj)}: minReplicaCount must be 0`);
    if (!(s.maxReplicaCount >= 1)) problems.push(`${id(sj)}: maxReplicaCount must be set`);
    if ((s.rollout?.strategy ?? s.rolloutStrategy ?? 'default') !== 'gradual') {
      problems.push(`${id(sj)}: rollout.strategy must be gradual (default terminates running Jobs on update)`);
    }
    // A Job pod must end on its own after its job (`worker --max-jobs`), or it holds its GPU until a deadline;
    // a deadline shorter than the job timeout would kill a running job.
    const template = s.jobTargetRef?.template;
    const worker = (template?.spec?.containers || []).find((c) => c.args?.[0] === 'worker');
    if (worker && !worker.args.includes('--max-jobs')) {
      problems.push(`${id(sj)}: the worker needs --max-jobs so each Job pod exits after its jobs`);
    }
    const deadline = s.jobTargetRef?.activeDeadlineSeconds;
    const timeout = Number(containerSettings(worker || {}, ctx.configMaps).FACEFLEET_JOB_TIMEOUT ?? 3600);
    if (deadline !== undefined && !(deadline > timeout)) {
      problems.push(`${id(sj)}: activeDeadlineSeconds ${deadline} <= FACEFLEET_JOB_TIMEOUT ${timeout} (kills running jobs)`);
    }
    checkRedisStreamsTrigger(sj, s.triggers, ctx, problems);
  }
  const kedaTargets = new Set(scaledObjects.map((so) => `${so.spec?.scaleTargetRef?.kind ?? 'Deployment'}/${so.spec?.scaleTargetRef?.name}`));
  for (const hpa of byKind('HorizontalPodAutoscaler')) {
    const t = `${hpa.spec?.scaleTargetRef?.kind}/${hpa.spec?.scaleTargetRef?.name}`;
    if (kedaTargets.has(t)) problems.push(`${id(hpa)} targets ${t}, which a ScaledObject scales (KEDA rejects that)`);
    for (const d of workerDeployments) {
      if (t === `Deployment/${d.metadata.name}`) problems.push(`${id(hpa)} targets the worker Deployment`);
    }
    const target = objects.find((o) => `${o.kind}/${o.metadata.name}` === t);
    if (!target) problems.push(`${id(hpa)}: target ${t} is not rendered`);
    else if (!byKind('PodDisruptionBudget').some((pdb) => labelsMatch(pdb.spec?.selector, target.spec?.template?.metadata?.labels))) {
      problems.push(`${id(hpa)}: ${t} has no PodDisruptionBudget`);
    }
  }

  const images = new Set();
  for (const o of objects) {
    for (const { pod } of podSpecs(o)) {
      for (const c of [...(pod?.spec?.initContainers || []), ...(pod?.spec?.containers || [])]) {
        if (c.image?.startsWith(FACEFLEET_IMAGE)) images.add(c.image);
      }
    }
  }
  if (images.size > 1) problems.push(`facefleet containers run different images: ${[...images].join(', ')}`);

  // Network and edge.
  const denyAll = byKind('NetworkPolicy').some((np) => Object.keys(np.spec?.podSelector || {}).length === 0 &&
    (np.spec?.policyTypes || []).includes('Ingress') && (np.spec?.policyTypes || []).includes('Egress') &&
    !np.spec?.ingress?.length && !np.spec?.egress?.length);
  if (!denyAll) problems.push('no default-deny NetworkPolicy (podSelector {}, Ingress+Egress, no rules)');
  for (const ing of byKind('Ingress')) if (!ing.spec?.tls?.length) problems.push(`${id(ing)}: no TLS`);
  return problems;
}

// ---- main ------------------------------------------------------------------------------------------------------

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const k8sDir = path.join(args.repo, 'deploy', 'k8s');
  const kubectl = args.kubectl || which('kubectl');
  const missing = [];
  if (!kubectl) missing.push('kubectl not found on PATH');
  for (const pkg of [...PACKAGES, 'yaml']) {
    if (!fs.existsSync(path.join(args.nodeModules, pkg, 'package.json'))) missing.push(`npm package ${pkg} not in ${args.nodeModules}`);
  }
  if (missing.length) {
    report('tools', missing.map((m) => `${m}: ${INSTALL_HINT}`));
    return;
  }
  const yamlModule = await import(pathToFileURL(path.join(args.nodeModules, 'yaml', 'dist', 'index.js')).href);
  const YAML = yamlModule.default ?? yamlModule;

  const secretFile = path.join(k8sDir, 'base', 'secret.example.yaml');
  let secretExample = null;
  {
    const problems = [];
    try {
      secretExample = YAML.parse(fs.readFileSync(secretFile, 'utf8'));
      const found = await loadClass(args.nodeModules, secretExample.apiVersion, secretExample.kind);
      new found.cls(secretExample).validate();
    } catch (e) {
      problems.push(`${secretFile}: ${e.message.split('\n')[0]}`);
    }
    report('base/secret.example.yaml is a valid Secret', problems);
  }

  const overlaysDir = path.join(k8sDir, 'overlays');
  const overlays = fs.readdirSync(overlaysDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  if (overlays.length === 0) report('overlays', [`no overlay in ${overlaysDir}`]);
  for (const overlay of overlays) {
    let objects = [];
    {
      const problems = [];
      try {
        const out = execFileSync(kubectl, ['kustomize', path.join(overlaysDir, overlay)], {
          encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20,
        });
        const docs = YAML.parseAllDocuments(out);
        for (const doc of docs) {
          if (doc.errors.length) problems.push(`YAML: ${doc.errors[0].message}`);
          const o = doc.toJSON();
          if (o) objects.push(o);
        }
        if (objects.length === 0) problems.push('rendered no objects');
      } catch (e) {
        problems.push(`kubectl kustomize failed: ${(e.stderr || e.message).toString().trim().split('\n')[0]}`);
      }
      report(`${overlay}: kubectl kustomize renders (${objects.length} objects)`, problems);
      if (problems.length) continue;
    }
    {
      const problems = [];
      for (const o of objects) {
        const found = await loadClass(args.nodeModules, o.apiVersion, o.kind);
        if (!found) {
          problems.push(`${o.apiVersion} ${id(o)}: no schema for this kind in ${PACKAGES.join(', ')}`);
          continue;
        }
        try {
          new found.cls(o).validate();
        } catch (e) {
          problems.push(`${id(o)}: ${e.message.split('\n').slice(0, 3).join(' ')}`);
        }
        checkFields(args.nodeModules, readDecl(found.file.replace(/\.js$/, '.d.ts')), o, id(o), problems);
      }
      report(`${overlay}: every object validates (Kubernetes, KEDA, Prometheus operator schemas; known fields only)`, problems);
    }
    report(`${overlay}: policy (resources, probes, security context, service account, KEDA, grace period, secrets)`,
      checkPolicy(objects, secretExample));
  }
}

try {
  await main();
} catch (e) {
  report('check_manifests', [e.stack || String(e)]);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
