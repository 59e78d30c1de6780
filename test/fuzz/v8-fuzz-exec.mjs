// v8-fuzz-exec.mjs — the reference side of the differential fuzzer: runs modules on node's V8
// exactly as build/zvm-fuzz-exec runs them on ours, and prints the same log (see that file).
//
//   node test/fuzz/v8-fuzz-exec.mjs LIST
//
// LIST names one module a line as "WASM SIGNATURES OUT": the module, the signatures zvm-fuzz-exec -s
// printed for it (V8 has no type reflection here: zeros of the right type need them), and where to
// write the log.  One node process runs a whole batch: starting node costs more than most modules.
import fs from 'node:fs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

// A module that runs too long (V8 has no fuel) is stopped: each module runs in a worker thread
// that is terminated after LIMIT_MS, and its log ends with "trap" and "timeout", as zvm-fuzz-exec's
// does at its own 10 s alarm (diff.py compares logs only up to such a call).
const LIMIT_MS = 10000;

const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1), u64 = new BigUint64Array(f64.buffer);

function hex(n, width) { return '0x' + n.toString(16).padStart(width, '0'); }

function show(letter, v) {
  switch (letter) {
    case 'i': return String(v | 0);
    case 'I': return BigInt.asIntN(64, BigInt(v)).toString();
    case 'f': if (Number.isNaN(v)) return 'nan'; f32[0] = v; return hex(u32[0], 8);
    case 'F': if (Number.isNaN(v)) return 'nan'; f64[0] = v; return hex(u64[0], 16);
    default: return v === null ? 'null' : 'ref';
  }
}

function zero(letter) {
  switch (letter) {
    case 'I': return 0n;
    case 'r': case 'e': return null;
    default: return 0;
  }
}

function run(wasm, sigs, sink) {
  const out = [];
  const push = (line) => { if (sink) sink(line + '\n'); else out.push(line); };
  const log = (letter, name) => (v) => { push(`log ${name} ${show(letter, v)}`); };
  const imports = {
    'fuzzing-support': {
      'log-i32': log('i', 'i32'), 'log-i64': log('I', 'i64'),
      'log-f32': log('f', 'f32'), 'log-f64': log('F', 'f64'),
    },
  };
  let instance;
  try {
    instance = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(wasm)), imports);
  } catch (e) {
    const what = e instanceof WebAssembly.CompileError ? 'invalid'
      : e instanceof WebAssembly.RuntimeError ? 'start-trap'
      : e instanceof WebAssembly.Exception ? 'start-exception' : 'link-error';
    if (sink) { sink(what + '\n'); return ''; }
    return what + '\n';
  }
  for (const line of sigs.split('\n')) {
    if (!line) continue;
    const [name, params, results] = line.split('\t');
    push(`call ${name}`);
    try {
      let r = instance.exports[name](...[...params].map(zero));
      if (results.length === 0) push('result');
      else if (results.length === 1) push('result ' + show(results, r));
      else push('result ' + [...r].map((v, i) => show(results[i], v)).join(' '));
    } catch (e) {
      if (e instanceof RangeError) push('exhausted');
      else if (e instanceof WebAssembly.Exception) push('exception');
      else push('trap');
    }
  }
  return sink ? '' : out.join('\n') + '\n';
}

// In the worker: run one module, sending each line as it is made (a terminated worker's lines
// up to then still count).
function runInWorker({ wasm, sig }) {
  const send = (line) => parentPort.postMessage(line);
  try {
    send(run(wasm, fs.readFileSync(sig, 'utf8'), send));
  } catch (e) {
    send('driver-error ' + String(e).split('\n')[0] + '\n');
  }
}

function runBounded(wasm, sig) {
  return new Promise((resolve) => {
    const lines = [];
    const worker = new Worker(new URL(import.meta.url), { workerData: { wasm, sig } });
    const timer = setTimeout(() => {
      lines.push('trap\ntimeout\n');
      worker.terminate();
    }, LIMIT_MS);
    worker.on('message', (line) => lines.push(line));
    worker.on('error', (e) => lines.push('driver-error ' + String(e).split('\n')[0] + '\n'));
    worker.on('exit', () => { clearTimeout(timer); resolve(lines.join('')); });
  });
}

if (isMainThread) {
  for (const line of fs.readFileSync(process.argv[2], 'utf8').split('\n')) {
    if (!line) continue;
    const [wasm, sig, dest] = line.split(' ');
    fs.writeFileSync(dest, await runBounded(wasm, sig));
  }
} else {
  runInWorker(workerData);
}
