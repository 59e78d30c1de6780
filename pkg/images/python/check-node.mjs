// check-node.mjs — does python.tar work?  Runs the image under node's WASI (the
// reference runtime, through node-run.mjs) and checks what issue 7 asks of it.
//
//   node pkg/images/python/check-node.mjs [build/images/python.tar]
//
// Output is TAP ("ok N - ..."); the exit status is 0 only when every check passed.
// Each check runs a fresh node process on a fresh unpacked image with a fresh /tmp,
// so no check can pass because of an earlier one.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const tarPath = resolve(process.argv[2] ?? join(here, '../../../build/images/python.tar'));
if (!existsSync(tarPath)) {
    console.error(`check-node: no image at ${tarPath}; build it with 'make images'`);
    process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), 'zvm-python-check-'));
const image = join(work, 'image');
mkdirSync(image);
const untar = spawnSync('tar', ['xf', tarPath, '-C', image], { encoding: 'utf8' });
if (untar.status !== 0) {
    console.error(`check-node: cannot unpack ${tarPath}: ${untar.stderr}`);
    process.exit(2);
}

// run(args, {stdin, files}) -> {status, stdout, stderr, tmp}: python ARGS in the image,
// with `files` (name -> text) put in the guest's /tmp first.
let runs = 0;
function run(args, { stdin = '', files = {} } = {}) {
    const tmp = join(work, `tmp${++runs}`);
    mkdirSync(tmp);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(tmp, name), text);
    const r = spawnSync(process.execPath, [join(here, 'node-run.mjs'), image, tmp, '--', 'python', ...args],
                        { input: stdin, encoding: 'utf8', timeout: 60000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, tmp };
}

const checks = [];
const check = (name, fn) => checks.push({ name, fn });
const expect = (cond, what) => { if (!cond) throw new Error(what); };
const expectRun = (r, status, stdout) => {
    expect(r.status === status, `exit status ${r.status}, expected ${status}; stderr: ${r.stderr.trim()}`);
    if (stdout !== undefined) expect(r.stdout === stdout, `stdout ${JSON.stringify(r.stdout)}, expected ${JSON.stringify(stdout)}`);
};

check('prints the greeting', () => {
    expectRun(run(['-c', "print('Hello from ZeroVM!')"]), 0, 'Hello from ZeroVM!\n');
});

check('sys.prefix is / and the stdlib is /lib/python3.11', () => {
    const r = run(['-c', 'import sys, os; print(sys.prefix, sys.exec_prefix, os.__file__)']);
    expectRun(r, 0, '/ / /lib/python3.11/os.py\n');
    expect(r.stderr === '', `unexpected stderr: ${r.stderr}`);
});

check('imports json re hashlib decimal datetime collections sqlite3 zlib, and they work', () => {
    const code = [
        'import json, re, hashlib, decimal, datetime, collections, sqlite3, zlib',
        'db = sqlite3.connect(":memory:")',
        'db.execute("create table t (k text, v integer)")',
        'db.executemany("insert into t values (?, ?)", [("a", 1), ("b", 2), ("a", 3)])',
        'rows = db.execute("select k, sum(v) from t group by k order by k").fetchall()',
        'blob = b"zerovm " * 1000',
        'print(json.dumps({"rows": rows, "zlib": zlib.decompress(zlib.compress(blob)) == blob and len(zlib.compress(blob)) < 100,',
        '  "re": re.findall(r"\\d+", "a1b22c333"), "sha256": hashlib.sha256(b"abc").hexdigest()[:16],',
        '  "decimal": str(decimal.Decimal("0.1") + decimal.Decimal("0.2")),',
        '  "date": datetime.date(2024, 2, 28).toordinal() - datetime.date(2024, 1, 1).toordinal(),',
        '  "counter": collections.Counter("abracadabra").most_common(1)}, sort_keys=True))',
    ].join('\n');
    expectRun(run(['-c', code]), 0,
        '{"counter": [["a", 5]], "date": 58, "decimal": "0.3", "re": ["1", "22", "333"], ' +
        '"rows": [["a", 4], ["b", 2]], "sha256": "ba7816bf8f01cfea", "zlib": true}\n');
});

check('writes and reads files under /tmp (text, and an sqlite3 database)', () => {
    const code = [
        'import sqlite3',
        'with open("/tmp/out.txt", "w") as f: f.write("line 1\\nline 2\\n")',
        'print(open("/tmp/out.txt").read().splitlines())',
        'db = sqlite3.connect("/tmp/t.db"); db.execute("create table t (x)"); db.execute("insert into t values (42)"); db.commit(); db.close()',
        'print(sqlite3.connect("/tmp/t.db").execute("select x from t").fetchone()[0])',
    ].join('\n');
    const r = run(['-c', code]);
    expectRun(r, 0, "['line 1', 'line 2']\n42\n");
    expect(readFileSync(join(r.tmp, 'out.txt'), 'utf8') === 'line 1\nline 2\n', 'the host does not see /tmp/out.txt as written');
});

check('runs a script file and reads a data file with csv', () => {
    const r = run(['/tmp/hello.py', '/tmp/data.csv'], {
        files: {
            'hello.py': 'import csv, sys\nrows = list(csv.DictReader(open(sys.argv[1])))\nprint(sum(int(r["n"]) for r in rows), sys.argv[0])\n',
            'data.csv': 'name,n\nx,1\ny,2\nz,39\n',
        },
    });
    expectRun(r, 0, '42 /tmp/hello.py\n');
});

check('reads stdin', () => {
    expectRun(run(['-c', 'import sys; print(sys.stdin.read().upper(), end="")'], { stdin: 'piped in\n' }), 0, 'PIPED IN\n');
});

check('sys.exit(3) gives exit status 3', () => {
    expectRun(run(['-c', 'import sys; sys.exit(3)']), 3, '');
});

check('an uncaught exception gives a traceback on stderr and status 1', () => {
    const r = run(['-c', 'def f():\n    return 1 / 0\nf()']);
    expectRun(r, 1, '');
    expect(r.stderr.startsWith('Traceback (most recent call last):\n'), `stderr: ${r.stderr}`);
    expect(r.stderr.includes('line 2, in f') && r.stderr.endsWith('ZeroDivisionError: division by zero\n'), `stderr: ${r.stderr}`);
});

check('socket.create_connection fails cleanly with OSError: there is no network', () => {
    const code = [
        'import socket',
        'for target in [("192.0.2.1", 80), ("example.com", 80)]:',
        '    try:',
        '        socket.create_connection(target, timeout=5)',
        '    except OSError as e:',
        '        print(type(e).__name__, e.errno)',
    ].join('\n');
    expectRun(run(['-c', code]), 0, 'OSError 58\ngaierror -2\n');
});

let failed = 0;
console.log(`1..${checks.length}`);
checks.forEach(({ name, fn }, i) => {
    try {
        fn();
        console.log(`ok ${i + 1} - ${name}`);
    } catch (e) {
        failed++;
        console.log(`not ok ${i + 1} - ${name}`);
        for (const line of String(e.message).split('\n')) console.log(`# ${line}`);
    }
});
rmSync(work, { recursive: true, force: true });
console.log(`# ${checks.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
