;; fuzz_found.wast — modules the differential fuzzer (test/fuzz/diff.py) found, minimised and made
;; to return what they used to log; the expected results are V8's (node 20).
;;
;; Seed 1014 of gen_stacky.py, on the translator before issue 12's fix: a value dropped after a
;; block with parameters, then select, drop and local.set.  The old engine stored the wrong
;; value into local 2 (V8 and the fixed engine agree on the result below).  select-drop is the
;; same shape written by hand: the select's producer must not be retargeted onto local 0.
(module
  (memory 1)
  (global $g_i32 (mut i32) (i32.const 2))
  (func (export "f0") (param f32) (result i64) (local f64) (local i64) (local f64) (local f64) (local f32) (local f64)
    local.get 1
    i32.const 47471
    i64.load offset=4
    i64.const 9223372036854775807
    local.get 2
    i32.const 35020
    i32.const 3284
    i64.load8_u offset=100
    block (param i32) (param i64)
      global.get $g_i32
      global.get $g_i32
      f64.const inf
      global.get $g_i32
      br_if 0
      i32.const -1
      drop
      drop
      drop
      drop
      drop
      drop
    end
    global.get $g_i32
    select
    drop
    local.set 2
    drop
    local.get 2)
  (func (export "select-drop") (result i64) (local i64)
    (local.set 0 (i64.const 5))
    i64.const 3
    local.get 0
    i64.const 1
    i64.add
    i64.const 7
    i64.const 9
    i32.const 1
    select
    drop
    local.set 0
    drop
    local.get 0)
)

(assert_return (invoke "f0" (f32.const 0)) (i64.const 0))
(assert_return (invoke "select-drop") (i64.const 6))
