#!/usr/bin/env python3
"""diff.py — the differential fuzzer: valid random modules, run on our engine and on node's V8.

Each round makes a batch of valid modules: half from gen_stacky.py (flat stack code aimed at the
translator's fusions: values dropped between producer and consumer, tee, br_if, if, select,
shifted-and-added addresses, multi-value blocks), half from binaryen's `wasm-opt -ttf` ("translate
to fuzz": it turns arbitrary bytes into a valid module that logs values through fuzzing-support
imports), most of those then optimised by wasm-opt (-O1..-O4: the code shapes compilers emit).  It runs every module on build/zvm-fuzz-exec and on
test/fuzz/v8-fuzz-exec.mjs: every export called with zeros, every logged value, result and trap
printed.  The two logs must be equal; and zvm's log must also be unchanged when the run is
suspended at a logging call and resumed in a new runtime (zvm-fuzz-exec -r K, the engine's side
of snapshots: docs/Snapshots.md).  Where they are not, or where zvm-fuzz-exec crashes, the
module is a finding (kind mismatch, resume or crash): saved under OUT/findings/ with both logs, then minimised with the same
disagreement: a generated module line by line into NAME.min.wat, a -ttf one by binaryen's
wasm-reduce into NAME.min.wasm.

  test/fuzz/diff.py [--seconds N] [--seed S] [--out DIR] [--engine PATH] [--batch N]

Inconclusive, never findings: a run that hit its 10 s timeout, or call-stack exhaustion (V8's
depth limit is not ours): the logs are compared up to that point.  NaN payloads are printed as
"nan" by both drivers (the spec lets engines differ there).
Exit status: 0 when no finding, 1 when there were findings, 2 when the tools are missing.
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_stacky  # noqa: E402  (beside this file)
FEATURES = ['--mvp-features', '--enable-bulk-memory', '--enable-sign-ext', '--enable-nontrapping-float-to-int',
            '--enable-mutable-globals', '--enable-multivalue', '--enable-tail-call']
# binaryen 108's reference types still have funcref <: anyref (= externref), which the final
# spec dropped: with them on, many modules are invalid everywhere.  Every other round uses them.
REFTYPES = ['--enable-reference-types']
OPTS = [[], [], ['-O1'], ['-O2'], ['-O3'], ['-O4'], ['-Os'], ['-O2', '--converge']]


def run(cmd, timeout=60, **kw):
    try:
        return subprocess.run(cmd, capture_output=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        return None


def make_module(work, seed, rng):
    """seed -> a .wasm, or None: even seeds from gen_stacky.py, odd ones from wasm-opt -ttf."""
    wasm = os.path.join(work, f'{seed}.wasm')
    if seed % 2 == 0:
        wat = os.path.join(work, f'{seed}.wat')
        with open(wat, 'w') as f:
            f.write(gen_stacky.Gen(seed).module())
        p = run(['wat2wasm', '--enable-tail-call', wat, '-o', wasm])
        os.unlink(wat)
        return wasm if p is not None and p.returncode == 0 else None
    data = random.Random(seed).randbytes(rng.choice([512, 2048, 8192, 16384]))
    raw = os.path.join(work, f'{seed}.bin')
    with open(raw, 'wb') as f:
        f.write(data)
    features = FEATURES + (REFTYPES if seed % 4 == 1 else [])
    opts = OPTS[seed // 2 % len(OPTS)]
    p = run(['wasm-opt', raw, '-ttf'] + features + opts + ['--denan', '-o', wasm])
    os.unlink(raw)
    return wasm if p is not None and p.returncode == 0 and os.path.exists(wasm) else None


def zvm_log(engine, wasm, seed):
    """(log text, crashed?, resumed log) of our engine on wasm; the signatures go beside it.
    The resumed log is the same run suspended at a logging call chosen by the seed and resumed
    in a new runtime (zvm-fuzz-exec -r: snapshots): it must equal the plain log."""
    sig = run([engine, '-s', wasm], timeout=30)
    if sig is None or sig.returncode != 0:
        return None, True, None
    with open(wasm + '.sig', 'wb') as f:
        f.write(sig.stdout)
    p = run([engine, wasm], timeout=30)
    if p is None:
        return 'hang\n', True, None
    r = run([engine, '-r', str(1 + seed % 24), wasm], timeout=30)
    resumed = r.stdout.decode(errors='replace') if r is not None and r.returncode == 0 else 'resume failed\n'
    if r is not None and b'resumed in a new runtime' in r.stderr:
        resumed = 'RESUMED\n' + resumed
    return p.stdout.decode(errors='replace'), p.returncode != 0, resumed


def comparable(log):
    """The part of a log that must agree: up to the call that timed out or exhausted the call
    stack.  That call's own log lines go too: how deep a recursion got before the stack ran out
    (and so how much it logged) is each engine's own limit."""
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if line in ('timeout', 'exhausted'):
            start = max((k for k in range(i) if lines[k].startswith('call ')), default=0)
            return lines[:start + 1]
    return lines


CHECK = os.path.join(TOP, 'test', 'fuzz', 'diff-check.sh')


def verdict(engine, wasm):
    p = run(['sh', CHECK, engine, wasm], timeout=120)
    return p.stdout.decode().strip() if p is not None else 'hang'


def reduce_wat(out, name, engine, budget=300):
    """Minimises a generated module line by line (delta debugging over its flat text): a line or
    a run of lines goes when the module still validates and still gives the same verdict.
    binaryen cannot read modules whose blocks take parameters, so wasm-reduce cannot do this."""
    with open(os.path.join(out, name + '.wat')) as f:
        lines = f.read().split('\n')
    want = name.split('-')[0]
    work = tempfile.mkdtemp(prefix='zvm-reduce.')
    test_wat, test_wasm = os.path.join(work, 't.wat'), os.path.join(work, 't.wasm')
    start = time.time()

    def same(candidate):
        with open(test_wat, 'w') as f:
            f.write('\n'.join(candidate))
        p = run(['wat2wasm', '--enable-tail-call', test_wat, '-o', test_wasm])
        return p is not None and p.returncode == 0 and verdict(engine, test_wasm) == want

    chunk = max(1, len(lines) // 2)
    while chunk >= 1 and time.time() - start < budget:
        i, removed = 0, False
        while i < len(lines) and time.time() - start < budget:
            candidate = lines[:i] + lines[i + chunk:]
            if same(candidate):
                lines, removed = candidate, True
            else:
                i += chunk
        if not removed:
            chunk //= 2
    with open(os.path.join(out, name + '.min.wat'), 'w') as f:
        f.write('\n'.join(lines))
    shutil.rmtree(work, ignore_errors=True)


def reduce_wasm(out, name, engine):
    """Minimises a -ttf finding with binaryen's wasm-reduce, keeping the same verdict."""
    if not shutil.which('wasm-reduce'):
        return
    work = tempfile.mkdtemp(prefix='zvm-reduce.')
    test = os.path.join(work, 't.wasm')
    run(['wasm-reduce', '-b', os.path.dirname(shutil.which('wasm-opt')) + '/', os.path.join(out, name + '.wasm'),
         f'--command=sh {CHECK} {engine} {test}', '-t', test, '-w', os.path.join(out, name + '.min.wasm')],
        timeout=600)
    shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description='differential fuzzing of zvm against V8')
    ap.add_argument('--seconds', type=float, default=60)
    ap.add_argument('--seed', type=int, default=None, help='first seed (default: from the clock)')
    ap.add_argument('--out', default=os.path.join(TOP, 'build', 'fuzz', 'diff'))
    ap.add_argument('--engine', default=os.path.join(TOP, 'build', 'zvm-fuzz-exec'))
    ap.add_argument('--batch', type=int, default=40)
    ap.add_argument('--jobs', type=int, default=2)
    args = ap.parse_args()
    for tool in ('wasm-opt', 'wat2wasm', 'node'):
        if not shutil.which(tool):
            print(f'diff: {tool} is not installed (make deps installs it)', file=sys.stderr)
            return 2
    if not os.access(args.engine, os.X_OK):
        print(f'diff: {args.engine} is not built (run make)', file=sys.stderr)
        return 2
    findings_dir = os.path.join(args.out, 'findings')
    os.makedirs(findings_dir, exist_ok=True)
    seed = args.seed if args.seed is not None else int(time.time() * 1000) % 10**12
    rng = random.Random(seed)
    stats = dict(modules=0, valid=0, calls=0, agreed=0, inconclusive=0, findings=0, resumed=0)
    start = time.time()
    print(f'diff: seeds from {seed}, {args.seconds:.0f} s, findings in {findings_dir}', flush=True)
    driver = os.path.join(TOP, 'test', 'fuzz', 'v8-fuzz-exec.mjs')
    with tempfile.TemporaryDirectory(prefix='zvm-diff.') as work, ThreadPoolExecutor(args.jobs) as pool:
        while time.time() - start < args.seconds:
            seeds = list(range(seed, seed + args.batch))
            seed += args.batch
            mods = [m for m in pool.map(lambda s: (s, make_module(work, s, random.Random(s))), seeds) if m[1]]
            ours = dict(zip([s for s, _ in mods], pool.map(lambda m: zvm_log(args.engine, m[1], m[0]), mods)))
            listing = os.path.join(work, 'list')
            with open(listing, 'w') as f:
                for s, wasm in mods:
                    if ours[s][0] is not None and not ours[s][1]:
                        f.write(f'{wasm} {wasm}.sig {wasm}.v8\n')
            run(['node', driver, listing], timeout=600)
            for s, wasm in mods:
                stats['modules'] += 1
                log, crashed, resumed = ours[s]
                v8 = open(wasm + '.v8').read() if os.path.exists(wasm + '.v8') else None
                kind = None
                if crashed:
                    kind = 'crash'
                elif v8 is None:
                    kind = None                       # V8's driver failed on the batch: not ours
                elif comparable(log) != comparable(v8):
                    kind = 'mismatch'
                elif resumed is not None and 'timeout' not in log and \
                        comparable(resumed.removeprefix('RESUMED\n')) != comparable(log):
                    kind = 'resume'                   # suspend + resume changed the run
                if resumed is not None and resumed.startswith('RESUMED\n'):
                    stats['resumed'] += 1
                if log and log != 'invalid\n':
                    stats['valid'] += 1
                    stats['calls'] += log.count('\ncall ') + log.startswith('call ')
                if kind is None and v8 is not None:
                    if comparable(log) != log.splitlines() or comparable(v8) != v8.splitlines():
                        stats['inconclusive'] += 1
                    else:
                        stats['agreed'] += 1
                if kind:
                    stats['findings'] += 1
                    name = f'{kind}-{s}'
                    shutil.copy(wasm, os.path.join(findings_dir, name + '.wasm'))
                    with open(os.path.join(findings_dir, name + '.zvm'), 'w') as f:
                        f.write(log or '')
                    with open(os.path.join(findings_dir, name + '.v8'), 'w') as f:
                        f.write(v8 or '')
                    print(f'diff: FINDING {name} (seed {s}): {findings_dir}/{name}.*', flush=True)
                    if kind == 'resume':
                        with open(os.path.join(findings_dir, name + '.resumed'), 'w') as f:
                            f.write(resumed)
                    elif s % 2 == 0:
                        with open(os.path.join(findings_dir, name + '.wat'), 'w') as f:
                            f.write(gen_stacky.Gen(s).module())
                        reduce_wat(findings_dir, name, args.engine)
                    else:
                        reduce_wasm(findings_dir, name, args.engine)
                for ext in ('', '.sig', '.v8'):
                    if os.path.exists(wasm + ext):
                        os.unlink(wasm + ext)
    elapsed = time.time() - start
    summary = (f"diff: {stats['modules']} modules ({stats['valid']} valid, {stats['calls']} export calls) in "
               f"{elapsed:.0f} s: {stats['agreed']} agreed with V8, {stats['inconclusive']} inconclusive, "
               f"{stats['resumed']} also suspended and resumed, "
               f"{stats['findings']} findings; next seed {seed}")
    print(summary)
    with open(os.path.join(args.out, 'summary.txt'), 'a') as f:
        f.write(time.strftime('%Y-%m-%d %H:%M:%S ') + summary + '\n')
    return 1 if stats['findings'] else 0


if __name__ == '__main__':
    sys.exit(main())
