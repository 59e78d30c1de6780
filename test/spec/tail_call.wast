;; tail_call.wast — return_call and return_call_indirect (the tail-call proposal, features.h).
;; Our own tests; the expected results are the proposal's semantics, checked with V8 (node 20).

(module
  (import "spectest" "print_i32" (func $print_i32 (param i32)))
  (type $ii (func (param i64 i64) (result i64)))
  (type $v (func (result i32)))
  (table $t 4 funcref)
  (elem (table $t) (i32.const 0) func $seven $sum-to-i64 $count)

  ;; constant stack: ten million frames deep would exhaust any call stack (ours allows 10000)
  (func $count (export "count") (param $n i64) (param $acc i64) (result i64)
    (if (result i64) (i64.eqz (local.get $n))
      (then (local.get $acc))
      (else (return_call $count (i64.sub (local.get $n) (i64.const 1))
                                (i64.add (local.get $acc) (i64.const 1))))))

  ;; mutual recursion
  (func $even (export "even") (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 1))
      (else (return_call $odd (i32.sub (local.get $n) (i32.const 1))))))
  (func $odd (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 0))
      (else (return_call $even (i32.sub (local.get $n) (i32.const 1))))))

  ;; the callee has more parameters and locals than the caller: the frame grows in place
  (func $wide (param i32 i32 i32 i32 i32) (result i32) (local i64 i64 i64 i64)
    (i32.add (i32.add (local.get 0) (local.get 1))
             (i32.add (i32.add (local.get 2) (local.get 3)) (local.get 4))))
  (func (export "narrow") (param $x i32) (result i32)
    (return_call $wide (local.get $x) (i32.const 1) (i32.const 2) (i32.const 3) (i32.const 4)))

  ;; values below the arguments are discarded; a tail call from inside blocks
  (func (export "deep-in-blocks") (param $x i32) (result i32)
    (i32.const 99)
    (block (result i32)
      (i32.const 98)
      (loop (result i32)
        (return_call $wide (local.get $x) (local.get $x) (i32.const 0) (i32.const 0) (i32.const 0)))
      (drop))
    (drop))

  ;; several results pass through
  (func $pair (param i32) (result i32 i64) (local.get 0) (i64.extend_i32_u (local.get 0)))
  (func (export "pair") (param i32) (result i32 i64) (return_call $pair (i32.add (local.get 0) (i32.const 1))))

  ;; through the table
  (func $seven (type $v) (i32.const 7))
  (func $sum-to-i64 (type $ii) (i64.add (local.get 0) (local.get 1)))
  (func (export "indirect") (param $i i32) (result i32)
    (return_call_indirect $t (type $v) (local.get $i)))
  (func (export "indirect-ii") (param $a i64) (param $b i64) (result i64)
    (return_call_indirect $t (type $ii) (local.get $a) (local.get $b) (i32.const 1)))
  (func (export "indirect-count") (param $n i64) (result i64)
    (return_call_indirect $t (type $ii) (local.get $n) (i64.const 0) (i32.const 2)))

  ;; a host function in tail position returns for us
  (func (export "host") (param $x i32)
    (return_call $print_i32 (local.get $x)))
)

(assert_return (invoke "count" (i64.const 10000000) (i64.const 0)) (i64.const 10000000))
(assert_return (invoke "count" (i64.const 0) (i64.const 5)) (i64.const 5))
(assert_return (invoke "even" (i32.const 1000001)) (i32.const 0))
(assert_return (invoke "even" (i32.const 1000000)) (i32.const 1))
(assert_return (invoke "narrow" (i32.const 10)) (i32.const 20))
(assert_return (invoke "deep-in-blocks" (i32.const 21)) (i32.const 42))
(assert_return (invoke "pair" (i32.const 41)) (i32.const 42) (i64.const 42))
(assert_return (invoke "indirect" (i32.const 0)) (i32.const 7))
(assert_trap (invoke "indirect" (i32.const 1)) "indirect call type mismatch")
(assert_trap (invoke "indirect" (i32.const 3)) "uninitialized element")
(assert_trap (invoke "indirect" (i32.const 4)) "undefined element")
(assert_return (invoke "indirect-ii" (i64.const 40) (i64.const 2)) (i64.const 42))
(assert_return (invoke "indirect-count" (i64.const 1000000)) (i64.const 1000000))
(assert_return (invoke "host" (i32.const 42)))

;; the callee's results must be the function's own
(assert_invalid
  (module (func $f (result i64) (i64.const 0)) (func (result i32) (return_call $f)))
  "type mismatch")
(assert_invalid
  (module (func $f (param i32)) (func (return_call $f)))
  "type mismatch")
(assert_invalid
  (module (type $t (func (result i64))) (table 1 funcref)
    (func (result i32) (return_call_indirect (type $t) (i32.const 0))))
  "type mismatch")
(assert_invalid
  (module (func (return_call 1)))
  "unknown function")
