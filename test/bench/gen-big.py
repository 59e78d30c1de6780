#!/usr/bin/env python3
"""gen-big.py OUT.wasm MEGABYTES — writes a valid module with MEGABYTES of code, for load-time benchmarks.

The bodies mix what compilers emit: locals, arithmetic, loads and stores, blocks, loops, br_if and
calls to earlier functions, so decoding, validation and translation all do realistic work."""
import sys


def uleb(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def sleb(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if (n == 0 and not b & 0x40) or (n == -1 and b & 0x40):
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def section(sid, payload):
    return bytes([sid]) + uleb(len(payload)) + payload


def vec(items):
    return uleb(len(items)) + b"".join(items)


def body(i):
    code = bytearray()
    code += b"\x01\x02\x7f"                       # 2 extra i32 locals
    for k in range(12):
        code += b"\x20\x00" + b"\x41" + sleb(k * 7 + i % 13) + b"\x6a"        # local.get 0; i32.const; add
        code += b"\x20\x01\x6c\x21\x02"                                        # local.get 1; mul; local.set 2
        code += b"\x20\x02\x41" + sleb(1024) + b"\x70\x28\x02\x00"             # (local2 % 1024) i32.load
        code += b"\x20\x00\x6a\x21\x03"                                        # + local0 -> local3
        code += b"\x02\x40\x20\x03\x41\x00\x48\x0d\x00"                        # block; local3 < 0; br_if 0
        code += b"\x41\x10\x20\x03\x36\x02\x00\x0b"                            # store local3 at 16; end
    code += b"\x03\x40\x20\x00\x41\x01\x6b\x22\x00\x0d\x00\x0b"              # loop: local0 -= 1; br_if
    if i > 0:
        code += b"\x20\x02\x20\x03\x10" + uleb(i - 1) + b"\x1a"               # call i-1; drop
    code += b"\x20\x02\x20\x03\x6a\x0b"                                        # result; end
    return uleb(len(code)) + bytes(code)


def main():
    out, megabytes = sys.argv[1], float(sys.argv[2])
    target = int(megabytes * 1024 * 1024)
    bodies, size = [], 0
    while size < target:
        b = body(len(bodies))
        bodies.append(b)
        size += len(b)
    n = len(bodies)
    types = section(1, vec([b"\x60\x02\x7f\x7f\x01\x7f"]))
    funcs = section(3, vec([b"\x00"] * n))
    memory = section(5, vec([b"\x00\x01"]))
    exports = section(7, vec([uleb(5) + b"entry" + b"\x00" + uleb(n - 1)]))
    code = section(10, vec(bodies))
    with open(out, "wb") as f:
        f.write(b"\x00asm\x01\x00\x00\x00" + types + funcs + memory + exports + code)
    print(f"{out}: {n} functions, {size / 1048576:.1f} MiB of code")


main()
