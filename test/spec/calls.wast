;; Calls: direct calls with many parameters and results, recursion deep enough to matter,
;; mutual recursion, call_indirect through several tables with its three traps (index past
;; the table, null element, signature mismatch — structural, not by type index), and call
;; stack exhaustion, which must be a trap and never a crash of the host.

(module
  (type $i2i (func (param i32) (result i32)))
  (type $i2i_again (func (param i32) (result i32)))
  (type $v2i (func (result i32)))
  (type $ll2l (func (param i64 i64) (result i64)))

  (table $main 6 funcref)
  (table $second 2 funcref)
  (elem (table $main) (i32.const 0) func $double $square $const7 $add64)
  (elem (table $second) (i32.const 1) func $square)

  (func $double (type $i2i) (i32.mul (local.get 0) (i32.const 2)))
  (func $square (type $i2i_again) (i32.mul (local.get 0) (local.get 0)))
  (func $const7 (type $v2i) (i32.const 7))
  (func $add64 (type $ll2l) (i64.add (local.get 0) (local.get 1)))

  (func $many (param i32 i64 f32 f64 i32 i64 f32 f64 i32 i32 i32 i32) (result f64)
    (f64.add
      (f64.add (f64.convert_i32_s (local.get 0)) (f64.convert_i64_s (local.get 1)))
      (f64.add
        (f64.add (f64.promote_f32 (local.get 2)) (local.get 3))
        (f64.add
          (f64.convert_i32_s (i32.add (local.get 4) (i32.wrap_i64 (local.get 5))))
          (f64.add
            (f64.add (f64.promote_f32 (local.get 6)) (local.get 7))
            (f64.convert_i32_s
              (i32.add (i32.add (local.get 8) (local.get 9)) (i32.add (local.get 10) (local.get 11)))))))))
  (func (export "many") (result f64)
    (call $many (i32.const 1) (i64.const 2) (f32.const 3) (f64.const 4) (i32.const 5) (i64.const 6)
                (f32.const 7) (f64.const 8) (i32.const 9) (i32.const 10) (i32.const 11) (i32.const 12)))
  (func $three (result i32 i64 f32) (i32.const 1) (i64.const 2) (f32.const 3.5))
  (func (export "three") (result i32 i64 f32) (call $three))
  (func (export "three_sum") (result f64)
    (local i64 f32)
    (call $three) (local.set 1) (local.set 0)
    (f64.add (f64.convert_i32_s) (f64.add (f64.convert_i64_s (local.get 0)) (f64.promote_f32 (local.get 1)))))

  (func $fac (export "fac") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 1))
      (else (i64.mul (local.get 0) (call $fac (i64.sub (local.get 0) (i64.const 1)))))))
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func $even (export "even") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 1))
      (else (call $odd (i32.sub (local.get 0) (i32.const 1))))))
  (func $odd (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
      (else (call $even (i32.sub (local.get 0) (i32.const 1))))))
  (func $count (export "count") (param i32) (result i32)
    ;; depth 1000 is well within any sane limit
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
      (else (i32.add (i32.const 1) (call $count (i32.sub (local.get 0) (i32.const 1)))))))

  (func (export "call_i2i") (param i32 i32) (result i32)
    (call_indirect $main (type $i2i) (local.get 1) (local.get 0)))
  (func (export "call_v2i") (param i32) (result i32)
    (call_indirect $main (type $v2i) (local.get 0)))
  (func (export "call_ll2l") (param i32) (result i64)
    (call_indirect $main (type $ll2l) (i64.const 40) (i64.const 2) (local.get 0)))
  (func (export "call_second") (param i32 i32) (result i32)
    (call_indirect $second (type $i2i) (local.get 1) (local.get 0)))

  (func $loop_forever (export "runaway") (call $loop_forever))
  (func $runaway_args (export "runaway_args") (param i64 i64 i64 i64) (result i64)
    (call $runaway_args (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func $runaway_indirect (export "runaway_indirect") (call_indirect $main (type $rec) (i32.const 4)))
  (type $rec (func))
  (elem (table $main) (i32.const 4) func $runaway_indirect)
)

(assert_return (invoke "many") (f64.const 78))
(assert_return (invoke "three") (i32.const 1) (i64.const 2) (f32.const 3.5))
(assert_return (invoke "three_sum") (f64.const 6.5))
(assert_return (invoke "fac" (i64.const 0)) (i64.const 1))
(assert_return (invoke "fac" (i64.const 20)) (i64.const 2432902008176640000))
(assert_return (invoke "fac" (i64.const 25)) (i64.const 7034535277573963776))
(assert_return (invoke "fib" (i32.const 20)) (i32.const 6765))
(assert_return (invoke "even" (i32.const 100)) (i32.const 1))
(assert_return (invoke "even" (i32.const 77)) (i32.const 0))
(assert_return (invoke "count" (i32.const 1000)) (i32.const 1000))

(assert_return (invoke "call_i2i" (i32.const 0) (i32.const 21)) (i32.const 42))
(assert_return (invoke "call_i2i" (i32.const 1) (i32.const 9)) (i32.const 81))
(assert_return (invoke "call_v2i" (i32.const 2)) (i32.const 7))
(assert_return (invoke "call_ll2l" (i32.const 3)) (i64.const 42))
(assert_trap (invoke "call_i2i" (i32.const 2) (i32.const 0)) "indirect call type mismatch")
(assert_trap (invoke "call_i2i" (i32.const 3) (i32.const 0)) "indirect call type mismatch")
(assert_trap (invoke "call_v2i" (i32.const 0)) "indirect call type mismatch")
(assert_trap (invoke "call_ll2l" (i32.const 1)) "indirect call type mismatch")
(assert_trap (invoke "call_i2i" (i32.const 5) (i32.const 0)) "uninitialized element")
(assert_trap (invoke "call_i2i" (i32.const 6) (i32.const 0)) "undefined element")
(assert_trap (invoke "call_i2i" (i32.const -1) (i32.const 0)) "undefined element")
(assert_trap (invoke "call_v2i" (i32.const 0x7fffffff)) "undefined element")
(assert_return (invoke "call_second" (i32.const 1) (i32.const 5)) (i32.const 25))
(assert_trap (invoke "call_second" (i32.const 0) (i32.const 5)) "uninitialized element")
(assert_trap (invoke "call_second" (i32.const 2) (i32.const 5)) "undefined element")

(assert_exhaustion (invoke "runaway") "call stack exhausted")
(assert_exhaustion (invoke "runaway_args" (i64.const 1) (i64.const 2) (i64.const 3) (i64.const 4)) "call stack exhausted")
(assert_exhaustion (invoke "runaway_indirect") "call stack exhausted")
;; the runtime is still usable after exhaustion
(assert_return (invoke "count" (i32.const 500)) (i32.const 500))

;; Validation of calls.
(assert_invalid (module (func $f (param i32)) (func (call $f))) "type mismatch")
(assert_invalid (module (func $f (param i32)) (func (call $f (i64.const 0)))) "type mismatch")
(assert_invalid (module (func $f (result i32)) (func (call $f))) "type mismatch")
(assert_invalid (module (func (call 5))) "unknown function")
(assert_invalid (module (type $t (func)) (func (call_indirect (type $t) (i32.const 0)))) "unknown table")
(assert_invalid (module (type $t (func)) (table 1 funcref) (func (call_indirect (type $t) (i64.const 0)))) "type mismatch")
(assert_invalid (module (type $t (func (param i32))) (table 1 funcref) (func (call_indirect (type $t) (i32.const 0)))) "type mismatch")
;; (wabt 1.0.32's own validator misses this one; the spec requires a funcref table)
(assert_invalid (module (type $t (func)) (table 1 externref) (func (call_indirect (type $t) (i32.const 0)))) "type mismatch")
