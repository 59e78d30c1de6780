;; Instantiation: the start function (runs once, after the segments, may trap), active data
;; and element segments (offsets from constants and imported globals, bounds checked as they
;; are applied, in order: elements first, then data, the effects of those before a trapping
;; one staying visible through shared memories and tables).

(module
  (memory 1)
  (global $runs (mut i32) (i32.const 0))
  (data (i32.const 16) "\2a")
  (func $start
    (global.set $runs (i32.add (global.get $runs) (i32.const 1)))
    ;; the data segment is already in place when start runs
    (i32.store (i32.const 0) (i32.load8_u (i32.const 16))))
  (start $start)
  (func (export "runs") (result i32) (global.get $runs))
  (func (export "word0") (result i32) (i32.load (i32.const 0)))
)
(assert_return (invoke "runs") (i32.const 1))
(assert_return (invoke "word0") (i32.const 42))

(assert_trap (module (func $s (unreachable)) (start $s)) "unreachable")
(assert_trap (module (memory 1) (func $s (drop (i32.load (i32.const 65536)))) (start $s)) "out of bounds memory access")
(assert_trap (module (func $s (drop (i32.div_u (i32.const 1) (i32.const 0)))) (start $s)) "integer divide by zero")
(assert_trap (module (func $s (call $s)) (start $s)) "call stack exhausted")

;; A start function may be imported.
(module $Counter
  (global $n (export "n") (mut i32) (i32.const 0))
  (func (export "bump") (global.set $n (i32.add (global.get $n) (i32.const 1))))
)
(register "counter" $Counter)
(module (import "counter" "bump" (func $bump)) (start $bump))
(module (import "counter" "bump" (func $bump)) (start $bump))
(assert_return (get $Counter "n") (i32.const 2))

;; Segment offsets: constants, imported globals, and the edges of memory and table.
(module
  (import "spectest" "global_i32" (global $g i32))
  (memory 1)
  (table 700 funcref)
  (data (global.get $g) "\01\02")
  (data (i32.const 0xfffe) "\ff\ee")
  (data (i32.const 0x10000) "")
  (elem (global.get $g) func $f)
  (elem (i32.const 699) func $f)
  (elem (i32.const 700) func)
  (func $f (result i32) (i32.const 55))
  (func (export "load16") (param i32) (result i32) (i32.load16_u (local.get 0)))
  (func (export "call") (param i32) (result i32) (call_indirect (result i32) (local.get 0)))
)
(assert_return (invoke "load16" (i32.const 666)) (i32.const 0x0201))
(assert_return (invoke "load16" (i32.const 0xfffe)) (i32.const 0xeeff))
(assert_return (invoke "call" (i32.const 666)) (i32.const 55))
(assert_return (invoke "call" (i32.const 699)) (i32.const 55))

;; Out-of-bounds segments trap at instantiation.
(assert_trap (module (memory 1) (data (i32.const 0xffff) "ab")) "out of bounds memory access")
(assert_trap (module (memory 1) (data (i32.const 0x10001) "")) "out of bounds memory access")
(assert_trap (module (memory 1) (data (i32.const -1) "a")) "out of bounds memory access")
(assert_trap (module (memory 0) (data (i32.const 0) "a")) "out of bounds memory access")
(assert_trap (module (table 1 funcref) (func $f) (elem (i32.const 1) func $f)) "out of bounds table access")
(assert_trap (module (table 1 funcref) (func $f) (elem (i32.const 2) func)) "out of bounds table access")
(assert_trap (module (table 0 funcref) (func $f) (elem (i32.const -1) func $f)) "out of bounds table access")

;; Partial initialisation: what was written before the trap stays.
(module $Shared
  (memory (export "mem") 1)
  (table (export "tab") 4 funcref)
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "call") (param i32) (result i32) (call_indirect (result i32) (local.get 0)))
)
(register "shared" $Shared)
(assert_trap
  (module
    (import "shared" "mem" (memory 1))
    (import "shared" "tab" (table 4 funcref))
    (func $g (result i32) (i32.const 77))
    (elem (i32.const 1) func $g)
    (data (i32.const 10) "x")
    (data (i32.const 0x10000) "y")
    (data (i32.const 11) "z"))
  "out of bounds memory access")
(assert_return (invoke $Shared "load8" (i32.const 10)) (i32.const 0x78))
(assert_return (invoke $Shared "load8" (i32.const 11)) (i32.const 0))
(assert_return (invoke $Shared "call" (i32.const 1)) (i32.const 77))
(assert_trap
  (module
    (import "shared" "mem" (memory 1))
    (import "shared" "tab" (table 4 funcref))
    (func $h (result i32) (i32.const 88))
    (elem (i32.const 2) func $h)
    (elem (i32.const 4) func $h)
    (data (i32.const 12) "w"))
  "out of bounds table access")
(assert_return (invoke $Shared "call" (i32.const 2)) (i32.const 88))
(assert_return (invoke $Shared "load8" (i32.const 12)) (i32.const 0))
(assert_trap
  (module
    (import "shared" "mem" (memory 1))
    (data (i32.const 13) "v")
    (func $s (unreachable))
    (start $s))
  "unreachable")
(assert_return (invoke $Shared "load8" (i32.const 13)) (i32.const 0x76))

;; Validation: the start function's type and index; segment offsets' types and constness.
(assert_invalid (module (func $s (param i32)) (start $s)) "start function")
(assert_invalid (module (func $s (result i32) (i32.const 0)) (start $s)) "start function")
(assert_invalid (module (start 0)) "unknown function")
(assert_invalid (module (memory 1) (data (i64.const 0) "")) "type mismatch")
(assert_invalid (module (memory 1) (data (i32.ctz (i32.const 0)) "")) "constant expression required")
(assert_invalid (module (memory 1) (global (mut i32) (i32.const 0)) (data (global.get 0) "")) "constant expression required")
(assert_invalid (module (data (i32.const 0) "")) "unknown memory")
(assert_invalid (module (func $f) (elem (i32.const 0) func $f)) "unknown table")
(assert_invalid (module (table 1 funcref) (func $f) (elem (f32.const 0) func $f)) "type mismatch")
(assert_invalid (module (table 1 funcref) (elem (i32.const 0) func 3)) "unknown function")
(assert_invalid (module (table 1 externref) (func $f) (elem (i32.const 0) func $f)) "type mismatch")
