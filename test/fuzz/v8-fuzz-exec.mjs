// v8-fuzz-exec.mjs — the reference side of the differential fuzzer: runs modules on node's V8
// exactly as build/zvm-fuzz-exec runs them on ours, and prints the same log (see that file).
//
//   node test/fuzz/v8-fuzz-exec.mjs LIST
//
// LIST names one module a line as "WASM SIGNATURES OUT": the module, the signatures zvm-fuzz-exec -s
// printed for it (V8 has no type reflection here: zeros of the right type need them), and where to
// write the log.  One node process runs a whole batch: starting node costs more than most modules.
import fs from 'node:fs';

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

function run(wasm, sigs) {
  const out = [];
  const log = (letter, name) => (v) => { out.push(`log ${name} ${show(letter, v)}`); };
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
    if (e instanceof WebAssembly.CompileError) return 'invalid\n';
    if (e instanceof WebAssembly.RuntimeError) return 'start-trap\n';
    return 'link-error\n';
  }
  for (const line of sigs.split('\n')) {
    if (!line) continue;
    const [name, params, results] = line.split('\t');
    out.push(`call ${name}`);
    try {
      let r = instance.exports[name](...[...params].map(zero));
      if (results.length === 0) out.push('result');
      else if (results.length === 1) out.push('result ' + show(results, r));
      else out.push('result ' + [...r].map((v, i) => show(results[i], v)).join(' '));
    } catch (e) {
      if (e instanceof RangeError) out.push('exhausted');
      else out.push('trap');
    }
  }
  return out.join('\n') + '\n';
}

for (const line of fs.readFileSync(process.argv[2], 'utf8').split('\n')) {
  if (!line) continue;
  const [wasm, sig, dest] = line.split(' ');
  let text;
  try {
    text = run(wasm, fs.readFileSync(sig, 'utf8'));
  } catch (e) {
    text = 'driver-error ' + String(e).split('\n')[0] + '\n';
  }
  fs.writeFileSync(dest, text);
}
