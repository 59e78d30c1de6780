// Runs a WASI command module under node's V8 (node:wasi), for the benchmark's comparison column.
// usage: node node-wasi.mjs FILE.wasm [ARGS...]   (preopens: "/" → $NODE_WASI_ROOT when set)
import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';
import { argv, env, exit } from 'node:process';

const [file, ...args] = argv.slice(2);
const preopens = env.NODE_WASI_ROOT ? { '/': env.NODE_WASI_ROOT } : {};
const wasi = new WASI({ version: 'preview1', args: [file, ...args], env: {}, preopens, returnOnExit: true });
const module = await WebAssembly.compile(readFileSync(file));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
exit(wasi.start(instance));
