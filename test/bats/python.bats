#!/usr/bin/env bats
# python.tar end to end through zvsh (issue 7): CPython 3.11 for WASI from Debian's sources,
# built by `make images` into build/images/python.tar (cached there: only the first run of
# `make check` on a machine builds it, in about two minutes).

load image_helpers
setup_file() { image_setup_file; }
setup() {
    image_setup python.tar
}
teardown() { image_teardown; }

# py ARGS...: python ARGS in the image through zvsh, never for more than a minute.
py() { timeout 60 "$zvsh" --zvm-image "$image" python "$@"; }

@test "python prints the greeting" {
    run py -c "print('Hello from ZeroVM!')"
    [ "$status" -eq 0 ]
    [ "$output" = "Hello from ZeroVM!" ]
}

@test "sys.prefix is / and the standard library comes from the image" {
    run py -c "import sys, os; print(sys.prefix, sys.exec_prefix, os.__file__)"
    [ "$status" -eq 0 ]
    [ "$output" = "/ / /lib/python3.11/os.py" ]
}

@test "a script passed as @hello.py runs" {
    printf 'import sys\nprint("hello from", sys.argv[0])\n' > hello.py
    run py @hello.py
    [ "$status" -eq 0 ]
    [ "$output" = "hello from /dev/1.hello.py" ]
}

@test "a data file passed as @data.csv is read with csv" {
    printf 'import csv, sys\nrows = list(csv.DictReader(open(sys.argv[1])))\nprint(len(rows), sum(int(r["n"]) for r in rows))\n' > sum.py
    printf 'name,n\nx,1\ny,2\nz,39\n' > data.csv
    run py @sum.py @data.csv
    [ "$status" -eq 0 ]
    [ "$output" = "3 42" ]
}

@test "stdin piped in reaches the script" {
    run sh -c "printf 'line one\nline two\n' | timeout 60 '$zvsh' --zvm-image '$image' python -c 'import sys; print([l.upper() for l in sys.stdin.read().splitlines()])'"
    [ "$status" -eq 0 ]
    [ "$output" = "['LINE ONE', 'LINE TWO']" ]
}

@test "json re hashlib decimal datetime collections sqlite3 zlib import and work" {
    run py -c '
import json, re, hashlib, decimal, datetime, collections, sqlite3, zlib
db = sqlite3.connect(":memory:")
db.execute("create table t (k text, v integer)")
db.executemany("insert into t values (?, ?)", [("a", 1), ("b", 2), ("a", 3)])
blob = b"zerovm " * 1000
print(json.dumps({
    "rows": db.execute("select k, sum(v) from t group by k order by k").fetchall(),
    "zlib": zlib.decompress(zlib.compress(blob)) == blob and len(zlib.compress(blob)) < 100,
    "re": re.findall(r"\d+", "a1b22c333"),
    "sha256": hashlib.sha256(b"abc").hexdigest()[:16],
    "decimal": str(decimal.Decimal("0.1") + decimal.Decimal("0.2")),
    "days": (datetime.date(2024, 2, 28) - datetime.date(2024, 1, 1)).days,
    "counter": collections.Counter("abracadabra").most_common(1)}, sort_keys=True))'
    [ "$status" -eq 0 ]
    [ "$output" = '{"counter": [["a", 5]], "days": 58, "decimal": "0.3", "re": ["1", "22", "333"], "rows": [["a", 4], ["b", 2]], "sha256": "ba7816bf8f01cfea", "zlib": true}' ]
}

@test "a script writes and reads files under /tmp inside the sandbox" {
    name=zvm-python-bats-$$-$RANDOM
    run py -c '
import os, sys, sqlite3
d = "/tmp/" + sys.argv[1]
os.mkdir(d)
with open(d + "/notes.txt", "w") as f:
    f.write("one\ntwo\n")
os.rename(d + "/notes.txt", d + "/n.txt")
print(open(d + "/n.txt").read().split(), os.listdir(d))
db = sqlite3.connect(d + "/t.db")
db.execute("create table t (x)"); db.execute("insert into t values (42)"); db.commit(); db.close()
print(sqlite3.connect(d + "/t.db").execute("select x from t").fetchone()[0], sorted(os.listdir(d)))' "$name"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "['one', 'two'] ['n.txt']" ]
    [ "${lines[1]}" = "42 ['n.txt', 't.db']" ]
    [ ! -e "/tmp/$name" ]    # the guest's /tmp lives in the sandbox, not on the host
}

@test "sys.exit(3) gives exit status 3" {
    run py -c "import sys; sys.exit(3)"
    [ "$status" -eq 3 ]
    [ "$output" = "" ]
}

@test "an uncaught exception gives Python's traceback on stderr and status 1" {
    status=0
    py -c 'def f():
    return 1 / 0
f()' > out.txt 2> err.txt || status=$?
    [ "$status" -eq 1 ]
    [ ! -s out.txt ]
    [ "$(head -1 err.txt)" = "Traceback (most recent call last):" ]
    grep -q 'line 2, in f' err.txt
    [ "$(tail -1 err.txt)" = "ZeroDivisionError: division by zero" ]
}

@test "socket.create_connection fails cleanly: there is no network" {
    run py -c '
import socket
for target in [("192.0.2.1", 80), ("example.com", 80)]:
    try:
        socket.create_connection(target, timeout=5)
    except OSError as e:
        print(type(e).__name__, e.errno)'
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "OSError 58" ]      # WASI cannot make a socket (ENOTSUP)
    [ "${lines[1]}" = "gaierror -2" ]     # no name service: EAI_NONAME
}

@test "the save dir of a python run re-runs with zvm DIR/manifest.1" {
    run timeout 60 "$zvsh" --zvm-save-dir save --zvm-image "$image" python -c "print('again and again')"
    [ "$status" -eq 0 ]
    [ "$output" = "again and again" ]
    [ -f save/manifest.1 ] && [ -f save/nvram.1 ]
    run timeout 60 "$zvm" save/manifest.1
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "again and again" ]   # the guest's output, then zvm's report:
    [ "${lines[1]}" = "0" ]                 # valid
    [ "${lines[3]}" = "0" ]                 # the guest's exit code
    [ "${lines[6]}" = "ok" ]                # the exit state
}
