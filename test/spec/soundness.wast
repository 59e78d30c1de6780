;; soundness.wast — the translator's fusions against values that were dropped (issue 12).
;;
;; The translator may rewrite the instruction that computed the top of the operand stack (make it
;; write a local directly, fuse it with a branch or a load) only while that value is still on top.
;; Before the fix, `drop` left the dropped value's producer "last", and the next local.set,
;; local.tee, br_if or if rewrote it onto the value below: a value of one type landed in a local of
;; another (a host address in an i64, an i64 called as a funcref).  Each function below drops a
;; computed value and then consumes the one beneath it; the expected results are V8's (node 20).

(module
  (type $v (func (result i32)))
  (memory 1)
  (table $t 2 funcref)
  (global $fake (mut i64) (i64.const 0x4141414141414141))
  (global $z (mut i64) (i64.const 0x1234567890))
  (global $g (mut i32) (i32.const 7))
  (func $good (type $v) (i32.const 42))
  (elem (table $t) (i32.const 0) func $good)

  ;; the escape: the i64 must not reach the funcref local
  (func (export "escape") (result i32) (local $r funcref)
    (table.get $t (i32.const 0))
    global.get $fake
    drop
    local.set $r
    (table.set $t (i32.const 1) (local.get $r))
    (call_indirect $t (type $v) (i32.const 1)))

  ;; the leak: the funcref must not reach the i64 local
  (func (export "leak") (result i64) (local $r i64)
    global.get $z
    (table.get $t (i32.const 0))
    drop
    local.set $r
    local.get $r)

  ;; a comparison dropped: its producer must not be retargeted onto the i32 below
  (func (export "eqz-drop") (result i32) (local $r i32)
    global.get $g
    global.get $g
    i32.eqz
    drop
    local.set $r
    local.get $r)

  ;; local.tee
  (func (export "tee-drop") (result i32) (local $r i32)
    global.get $g
    global.get $g
    i32.eqz
    drop
    local.tee $r
    local.get $r
    i32.add)

  ;; br_if: the condition is the value below the dropped comparison
  (func (export "br_if-drop") (param $a i32) (param $b i32) (result i32)
    (block $out (result i32)
      i32.const 10
      (i32.eqz (local.get $a))
      (i32.lt_s (local.get $a) (local.get $b))
      drop
      br_if $out
      drop
      i32.const 20))

  ;; if: the same
  (func (export "if-drop") (param $a i32) (param $b i32) (result i32)
    (i32.eqz (local.get $a))
    (i32.lt_s (local.get $a) (local.get $b))
    drop
    (if (result i32) (then (i32.const 1)) (else (i32.const 2))))

  ;; select: its result is computed; what it dropped must not be retargeted
  (func (export "select-drop") (param $c i32) (result i32) (local $r i32)
    (i32.add (global.get $g) (i32.const 1))
    (select (i32.const 100) (i32.const 200) (local.get $c))
    drop
    local.set $r
    local.get $r)

  ;; return: a dropped value is not a result
  (func (export "return-drop") (param $a i32) (result i32)
    (i32.mul (local.get $a) (i32.const 3))
    (i32.add (local.get $a) (i32.const 1))
    drop
    return)

  ;; a loop: the pattern inside a loop body, with a back edge
  (func (export "loop-drop") (param $n i32) (result i64) (local $r i64) (local $i i32)
    (loop $l
      global.get $z
      (i64.extend_i32_u (local.get $i))
      drop
      local.set $r
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    local.get $r)

  ;; multi-value: a block leaves two values, the top one is dropped
  (func (export "multi-drop") (result i32) (local $r i32)
    (block (result i32 i32)
      (i32.add (global.get $g) (i32.const 2))
      (i32.mul (global.get $g) (i32.const 3)))
    drop
    local.set $r
    local.get $r)

  ;; a load whose address computation was dropped: the add below must not fuse with it
  (func (export "load-drop") (param $i i32) (result i32)
    (i32.store (i32.const 16) (i32.const 0x11223344))
    (i32.store (i32.const 32) (i32.const 0x55667788))
    (i32.add (local.get $i) (i32.const 16))
    (i32.shl (local.get $i) (i32.const 2))
    drop
    i32.load)

  ;; an address computed by shl+add whose shl result was dropped between them
  (func (export "shl-drop") (param $i i32) (result i32)
    (i32.store (i32.const 8) (i32.const 0xabcdef))
    (i32.store (i32.const 64) (i32.const 0x123456))
    i32.const 64
    (i32.shl (local.get $i) (i32.const 3))
    drop
    (i32.mul (local.get $i) (i32.const 0))
    i32.add
    i32.load)
)

(assert_return (invoke "escape") (i32.const 42))
(assert_return (invoke "leak") (i64.const 0x1234567890))
(assert_return (invoke "eqz-drop") (i32.const 7))
(assert_return (invoke "tee-drop") (i32.const 14))
(assert_return (invoke "br_if-drop" (i32.const 0) (i32.const 5)) (i32.const 10))
(assert_return (invoke "br_if-drop" (i32.const 3) (i32.const 5)) (i32.const 20))
(assert_return (invoke "br_if-drop" (i32.const 9) (i32.const 5)) (i32.const 20))
(assert_return (invoke "if-drop" (i32.const 0) (i32.const 5)) (i32.const 1))
(assert_return (invoke "if-drop" (i32.const 3) (i32.const 5)) (i32.const 2))
(assert_return (invoke "select-drop" (i32.const 1)) (i32.const 8))
(assert_return (invoke "return-drop" (i32.const 5)) (i32.const 15))
(assert_return (invoke "loop-drop" (i32.const 4)) (i64.const 0x1234567890))
(assert_return (invoke "multi-drop") (i32.const 9))
(assert_return (invoke "load-drop" (i32.const 0)) (i32.const 0x11223344))
(assert_return (invoke "load-drop" (i32.const 16)) (i32.const 0x55667788))
(assert_return (invoke "shl-drop" (i32.const 1)) (i32.const 0x123456))
