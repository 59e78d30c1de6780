// node-run.mjs — run the python.wasm of an unpacked python.tar under node's WASI
// (preview1), the way zvsh runs it: the image is the guest's "/", a fresh host
// directory is its "/tmp", and the guest's stdio and exit status are ours.
//
//   node node-run.mjs IMAGE_DIR [TMP_DIR] -- python ARGS...
//
// It is the reference that zvm is measured against (make bench) and the engine
// behind check-node.mjs.  Without TMP_DIR there is no /tmp in the guest.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

// node 20 flags WASI as experimental on stderr; that line is not the guest's output.
const emitWarning = process.emitWarning;
process.emitWarning = (warning, ...rest) => {
    if (!String(warning).startsWith('WASI is an experimental')) emitWarning.call(process, warning, ...rest);
};
const { WASI } = await import('node:wasi');

const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
if (sep < 1 || sep > 2 || sep === argv.length - 1) {
    process.stderr.write('usage: node node-run.mjs IMAGE_DIR [TMP_DIR] -- python ARGS...\n');
    process.exit(2);
}
const image = resolve(argv[0]);
const preopens = { '/': image };
if (sep === 2) preopens['/tmp'] = resolve(argv[1]);

const wasi = new WASI({
    version: 'preview1',
    args: argv.slice(sep + 1),
    env: { PYTHONHASHSEED: process.env.PYTHONHASHSEED ?? '0' },
    preopens,
    returnOnExit: true,
});
let bytes;
try {
    bytes = await readFile(`${image}/python`);
} catch (e) {
    process.stderr.write(`node-run: cannot read ${image}/python (${e.code}); unpack python.tar into IMAGE_DIR first\n`);
    process.exit(2);
}
const module = await WebAssembly.compile(bytes);
// zvm_fork (the snapshot point, docs/Snapshots.md) is zvm's; elsewhere it is a run that goes on.
const imports = { ...wasi.getImportObject(), zvm: { zvm_fork: () => 0 } };
const instance = await WebAssembly.instantiate(module, imports);
process.exitCode = wasi.start(instance);
