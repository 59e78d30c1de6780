#!/usr/bin/env python3
"""gen_stacky.py — a generator of valid modules shaped to break the translator (test/fuzz/diff.py).

binaryen's -ttf builds modules from an expression tree, so its code rarely keeps values on the
operand stack across other instructions.  The translator's fusions live exactly there: a value
computed, another computed above it and dropped, then local.set/tee, br_if, if, select, a load
through shifted and added addresses, block results and multi-value.  This generator writes such
code directly, as flat WebAssembly text, keeping a typed image of the operand stack so every
module validates; every value it can reach is made observable through the fuzzing-support log
imports, the locals are logged at each function's end, and loops are bounded by counters.

  gen_stacky.py SEED > module.wat          (wat2wasm turns it into the module)
"""
import random
import sys

NUM = ['i32', 'i64', 'f32', 'f64']
CONST = {'i32': lambda r: str(r.choice([0, 1, -1, 2, 7, 31, 32, 0x7fffffff, -0x80000000, r.randrange(-2**31, 2**31)])),
         'i64': lambda r: str(r.choice([0, 1, -1, 63, 64, 2**63 - 1, -2**63, r.randrange(-2**63, 2**63)])),
         'f32': lambda r: r.choice(['0', '-0', '1.5', '-2.25', 'nan', 'inf', '-inf', '0x1p-149', str(r.uniform(-1e6, 1e6))]),
         'f64': lambda r: r.choice(['0', '-0', '1.5', '-2.25', 'nan', 'inf', '-inf', '0x1p-1074', str(r.uniform(-1e9, 1e9))])}
# (name, operand types, result type)
UNARY = [('i32.eqz', ['i32'], 'i32'), ('i32.clz', ['i32'], 'i32'), ('i32.popcnt', ['i32'], 'i32'),
         ('i64.eqz', ['i64'], 'i32'), ('i64.ctz', ['i64'], 'i64'), ('i32.wrap_i64', ['i64'], 'i32'),
         ('i64.extend_i32_s', ['i32'], 'i64'), ('i64.extend_i32_u', ['i32'], 'i64'), ('i32.extend8_s', ['i32'], 'i32'),
         ('f32.neg', ['f32'], 'f32'), ('f64.abs', ['f64'], 'f64'), ('f64.sqrt', ['f64'], 'f64'),
         ('f32.demote_f64', ['f64'], 'f32'), ('f64.promote_f32', ['f32'], 'f64'), ('f64.convert_i32_s', ['i32'], 'f64'),
         ('f32.convert_i64_u', ['i64'], 'f32'), ('i32.trunc_sat_f64_s', ['f64'], 'i32'), ('i64.trunc_sat_f32_u', ['f32'], 'i64'),
         ('i32.reinterpret_f32', ['f32'], 'i32'), ('f64.reinterpret_i64', ['i64'], 'f64'), ('f32.nearest', ['f32'], 'f32'),
         ('i32.trunc_f32_s', ['f32'], 'i32'), ('i64.trunc_f64_u', ['f64'], 'i64'),   # these trap on NaN and overflow
         ('i64.extend32_s', ['i64'], 'i64'), ('f64.floor', ['f64'], 'f64')]
BINARY = []
for t in ('i32', 'i64'):
    BINARY += [(f'{t}.{op}', [t, t], t) for op in ('add', 'sub', 'mul', 'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u',
                                                    'rotl', 'div_s', 'div_u', 'rem_s', 'rem_u')]
    BINARY += [(f'{t}.{op}', [t, t], 'i32') for op in ('eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'le_u', 'ge_s')]
for t in ('f32', 'f64'):
    BINARY += [(f'{t}.{op}', [t, t], t) for op in ('add', 'sub', 'mul', 'div', 'min', 'max', 'copysign')]
    BINARY += [(f'{t}.{op}', [t, t], 'i32') for op in ('eq', 'ne', 'lt', 'ge')]
LOADS = {'i32': ['i32.load', 'i32.load8_s', 'i32.load16_u'], 'i64': ['i64.load', 'i64.load32_s', 'i64.load8_u'],
         'f32': ['f32.load'], 'f64': ['f64.load']}
STORES = {'i32': ['i32.store', 'i32.store8'], 'i64': ['i64.store', 'i64.store16'], 'f32': ['f32.store'], 'f64': ['f64.store']}


class Func:
    def __init__(self, index, params, results, local_types):
        self.index, self.params, self.results = index, params, results
        self.locals = params + local_types          # index -> type
        self.counters = []                          # loop counters (extra i32 locals)
        base = len(self.locals)
        self.nan_temp = {'f32': base, 'f64': base + 1}   # scratch locals of denan()


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.funcs = []
        self.out = []
        self.budget = 0

    def emit(self, line):
        self.out.append('    ' + '  ' * self.depth + line)
        self.budget -= 1

    def denan(self, f, t):
        """The float on top becomes 0 if it is a NaN.  Where a float's bits become visible to
        integer code (stored to memory, reinterpreted), its NaN payload would be compared, and
        the spec lets engines differ there; the values themselves are logged as "nan"."""
        tmp = f.nan_temp[t]
        for line in (f'local.tee {tmp}', f'{t}.const 0', f'local.get {tmp}', f'local.get {tmp}', f'{t}.eq', 'select'):
            self.emit(line)

    def reveal_bits(self, f, name):
        """Before an instruction that shows its top operand's NaN bits (reinterpret) or sign
        (copysign takes the sign of a NaN), that operand loses any NaN."""
        if name == 'i32.reinterpret_f32':
            self.denan(f, 'f32')
        elif name.endswith('.copysign'):
            self.denan(f, name[:3])

    # ---- values ----
    def push_value(self, f, stack, t):
        """Pushes one value of type t, by the cheapest of several shapes."""
        r = self.r
        choice = r.random()
        locs = [i for i, lt in enumerate(f.locals) if lt == t]
        if choice < 0.3 or self.budget < 0:
            self.emit(f'{t}.const {CONST[t](r)}')
        elif choice < 0.6 and locs:
            self.emit(f'local.get {r.choice(locs)}')
        elif choice < 0.7:
            self.emit(f'global.get $g_{t}')
        elif choice < 0.85:
            self.emit_load(f, stack, t)
            return
        else:
            ops = [o for o in UNARY + BINARY if o[2] == t]
            name, args, _ = r.choice(ops)
            for a in args:
                self.push_value(f, stack, a)
            for _ in args:
                stack.pop()
            self.reveal_bits(f, name)
            self.emit(name)
        stack.append(t)

    def emit_address(self, f, stack):
        """An i32 address in the first 64 KiB, often as base + (index << k), the fused shape."""
        r = self.r
        i32s = [i for i, lt in enumerate(f.locals) if lt == 'i32']
        if i32s and r.random() < 0.6:
            self.emit(f'i32.const {r.choice([0, 16, 256, 4096])}')
            self.emit(f'local.get {r.choice(i32s)}')
            self.emit('i32.const 255')
            self.emit('i32.and')
            self.emit(f'i32.const {r.choice([0, 1, 2, 3])}')
            self.emit('i32.shl')
            self.emit('i32.add')
        else:
            self.emit(f'i32.const {r.randrange(0, 60000)}')
            if i32s and r.random() < 0.5:
                self.emit(f'local.get {r.choice(i32s)}')
                self.emit('i32.const 4095')
                self.emit('i32.and')
                self.emit('i32.add')

    def emit_load(self, f, stack, t):
        self.emit_address(f, stack)
        self.emit(f'{self.r.choice(LOADS[t])} offset={self.r.choice([0, 4, 8, 100])}')
        stack.append(t)

    # ---- statements: each leaves the stack with more values or fewer, always typed ----
    def statement(self, f, stack, labels):
        r = self.r
        k = r.random()
        if k < 0.22 or not stack:
            self.push_value(f, stack, r.choice(NUM))
        elif k < 0.32:
            self.emit('drop')
            stack.pop()
        elif k < 0.42:
            t = stack[-1]
            locs = [i for i, lt in enumerate(f.locals) if lt == t]
            if locs:
                op = r.choice(['set', 'tee'])
                self.emit(f'local.{op} {r.choice(locs)}')
                if op == 'set':
                    stack.pop()
            else:
                self.emit(f'call $log_{t}')
                stack.pop()
        elif k < 0.50:
            t = stack[-1]
            self.emit(f'call $log_{t}')
            stack.pop()
        elif k < 0.58:
            ops = [o for o in UNARY + BINARY if o[1][-1] == stack[-1] and
                   (len(o[1]) == 1 or (len(stack) >= 2 and stack[-2] == o[1][0]))]
            if ops:
                name, args, res = r.choice(ops)
                self.reveal_bits(f, name)
                self.emit(name)
                del stack[len(stack) - len(args):]
                stack.append(res)
        elif k < 0.63:
            t = stack[-1]
            if len(stack) >= 2 and stack[-2] == t and t in NUM:
                self.push_value(f, stack, 'i32')
                self.emit('select')
                stack.pop()
                stack.pop()
        elif k < 0.68:
            t = r.choice(NUM)
            self.emit_address(f, stack)
            self.push_value(f, stack, t)
            stack.pop()
            if t in ('f32', 'f64'):
                self.denan(f, t)
            self.emit(f'{r.choice(STORES[t])} offset={r.choice([0, 8, 64])}')
        elif k < 0.71:
            t = stack[-1]
            self.emit(f'global.set $g_{t}')
            stack.pop()
        elif k < 0.82 and self.depth < 4 and self.budget > 0:
            self.block(f, stack, labels)
        elif k < 0.90 and labels:
            self.branch(f, stack, labels)
        elif k < 0.91:
            self.call(f, stack)
        elif k < 0.93:
            self.memory_op(f, stack)
        elif k < 0.95:
            self.tail_call(f, stack)
        else:
            self.push_value(f, stack, r.choice(NUM))

    def block(self, f, stack, labels):
        r = self.r
        kind = r.choice(['block', 'block', 'loop', 'if'])
        if kind == 'loop' and self.depth >= 2:  # iterations multiply through nesting and calls: keep runs short
            kind = 'block'
        nparams = r.randrange(0, min(len(stack), 2) + 1)
        params = stack[len(stack) - nparams:]
        results = [r.choice(NUM) for _ in range(r.choice([0, 1, 1, 2]))]
        arms = 2 if kind == 'if' and r.random() < 0.7 else 1
        if kind == 'if' and arms == 1:           # no else: the parameters pass through it
            results = list(params)
        if kind == 'if':
            self.push_value(f, stack, 'i32')
            stack.pop()
        del stack[len(stack) - nparams:]
        sig = ''.join(f' (param {p})' for p in params) + ''.join(f' (result {t})' for t in results)
        counter = None
        if kind == 'loop':                       # bounded: a counter local, checked at the end
            counter = len(f.locals) + 2 + len(f.counters)
            f.counters.append(counter)
            self.emit(f'i32.const 0')
            self.emit(f'local.set {counter}')
        self.emit(f'{kind}{sig}')
        self.depth += 1
        if counter is not None:                  # every entry counts, branches back included
            for line in (f'local.get {counter}', 'i32.const 1', 'i32.add', f'local.tee {counter}', 'i32.const 4',
                         'i32.gt_u', 'if', '  unreachable', 'end'):
                self.emit(line)
        label_types = params if kind == 'loop' else results
        inner = list(params)
        for arm in range(arms):
            if arm == 1:
                self.depth -= 1
                self.emit('else')
                self.depth += 1
                inner = list(params)
            self.body(f, inner, labels + [label_types], r.randrange(1, 8))
            if counter is not None:              # loop: count, maybe go round again with its params
                self.fit(f, inner, params)
                self.emit(f'local.get {counter}')
                self.emit('i32.const 1')
                self.emit('i32.add')
                self.emit(f'local.tee {counter}')
                self.emit(f'i32.const {r.randrange(1, 4)}')
                self.emit('i32.lt_u')
                self.emit('br_if 0')
            self.fit(f, inner, results)
        self.depth -= 1
        self.emit('end')
        stack.extend(results)

    def branch(self, f, stack, labels):
        r = self.r
        depth = r.randrange(len(labels))
        types = labels[len(labels) - 1 - depth]
        if r.random() < 0.15:                    # br_table over labels that take the same values
            same = [d for d in range(len(labels)) if labels[len(labels) - 1 - d] == types]
            for t in types:
                self.push_value(f, stack, t)
            self.push_value(f, stack, 'i32')
            targets = ' '.join(str(r.choice(same)) for _ in range(r.randrange(1, 5)))
            self.emit(f'br_table {targets} {r.choice(same)}')
            stack.clear()
            stack.append('dead')
        elif r.random() < 0.8:                   # br_if: the label's values stay when not taken
            for t in types:
                self.push_value(f, stack, t)
            self.push_value(f, stack, 'i32')
            stack.pop()
            self.emit(f'br_if {depth}')
        else:                                    # unconditional: the rest of the block is dead
            for t in types:
                self.push_value(f, stack, t)
            self.emit(f'br {depth}')
            stack.clear()
            stack.append('dead')

    def call(self, f, stack):
        r = self.r
        callees = self.funcs[:f.index]           # only earlier functions: no recursion
        if not callees:
            return
        g = r.choice(callees)
        for t in g.params:
            self.push_value(f, stack, t)
        del stack[len(stack) - len(g.params):]
        if r.random() < 0.3:                     # now and then an index that traps (range or type)
            self.emit(f'i32.const {g.index if r.random() < 0.9 else r.randrange(len(self.funcs) + 2)}')
            self.emit(f'call_indirect (type $t{g.index})')
        else:
            self.emit(f'call $f{g.index}')
        stack.extend(g.results)

    def memory_op(self, f, stack):
        """memory.size/grow, memory.fill/copy (now and then out of bounds: a trap both must see)."""
        r = self.r
        k = r.random()
        if k < 0.3:
            self.emit('memory.size')
            stack.append('i32')
        elif k < 0.45:
            self.emit(f'i32.const {r.choice([0, 0, 1])}')
            self.emit('memory.grow')
            stack.append('i32')
        else:
            dst, n = r.randrange(0, 65536), r.choice([0, 1, 16, 300, 70000])
            self.emit(f'i32.const {dst}')
            if k < 0.7:
                self.push_value(f, stack, 'i32')
                stack.pop()
                self.emit(f'i32.const {n}')
                self.emit('memory.fill')
            else:
                self.emit(f'i32.const {r.randrange(0, 65536)}')
                self.emit(f'i32.const {n}')
                self.emit('memory.copy')

    def tail_call(self, f, stack):
        """return_call(_indirect) of an earlier function returning what this one returns."""
        r = self.r
        callees = [g for g in self.funcs[:f.index] if g.results == f.results]
        if not callees:
            return
        g = r.choice(callees)
        for t in g.params:
            self.push_value(f, stack, t)
        if r.random() < 0.3:
            self.emit(f'i32.const {g.index}')
            self.emit(f'return_call_indirect (type $t{g.index})')
        else:
            self.emit(f'return_call $f{g.index}')
        stack.clear()
        stack.append('dead')

    def fit(self, f, stack, want):
        """Makes the stack exactly `want`: drops what does not fit, pushes what is missing."""
        if stack == ['dead']:
            stack[:] = list(want)
            return
        keep = 0
        while keep < min(len(stack), len(want)) and stack[keep] == want[keep]:
            keep += 1
        while len(stack) > keep:
            t = stack.pop()
            self.emit('drop' if self.r.random() < 0.7 else f'call $log_{t}')
        for t in want[keep:]:
            self.push_value(f, stack, t)

    def body(self, f, stack, labels, n):
        for _ in range(n):
            if stack == ['dead']:
                break
            self.statement(f, stack, labels)

    def function(self, index):
        r = self.r
        params = [r.choice(NUM) for _ in range(r.randrange(0, 4))]
        results = [r.choice(NUM) for _ in range(r.choice([0, 1, 1, 2, 3]))]
        local_types = [r.choice(NUM) for _ in range(r.randrange(1, 6))]
        f = Func(index, params, results, local_types)
        self.funcs.append(f)
        self.out = []
        self.depth = 0
        self.budget = 120
        stack = []
        self.body(f, stack, [results], r.randrange(10, 40))
        self.fit(f, stack, results)
        if stack != ['dead']:
            for i, t in enumerate(f.locals):     # every local observable at the end
                self.emit(f'local.get {i}')
                self.emit(f'call $log_{t}')
        body = self.out
        sig = ''.join(f' (param {p})' for p in params) + ''.join(f' (result {t})' for t in results)
        locs = ''.join(f' (local {t})' for t in local_types) + ' (local f32) (local f64)' + \
            ' (local i32)' * len(f.counters)
        head = f'  (func $f{index} (export "f{index}") (type $t{index}){locs}'
        return f'  (type $t{index} (func{sig}))', head + '\n' + '\n'.join(body) + '\n  )'

    def module(self):
        types, funcs = [], []
        for i in range(self.r.randrange(2, 6)):
            t, fn = self.function(i)
            types.append(t)
            funcs.append(fn)
        imports = '\n'.join(f'  (import "fuzzing-support" "log-{t}" (func $log_{t} (param {t})))' for t in NUM)
        globals_ = '\n'.join(f'  (global $g_{t} (mut {t}) ({t}.const {CONST[t](self.r)}))' for t in NUM)
        n = len(funcs)
        table = f'  (table {n} funcref)\n  (elem (i32.const 0) ' + ' '.join(f'$f{i}' for i in range(n)) + ')'
        data = '  (data (i32.const 0) "' + ''.join(f'\\{self.r.randrange(256):02x}' for _ in range(64)) + '")'
        return '(module\n' + '\n'.join(types) + '\n' + imports + '\n  (memory (export "memory") 1)\n' + globals_ + '\n' + table + \
            '\n' + data + '\n' + '\n'.join(funcs) + '\n)\n'


if __name__ == '__main__':
    sys.stdout.write(Gen(int(sys.argv[1])).module())
