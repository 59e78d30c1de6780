;; exceptions.wast — the legacy exception-handling proposal as clang-19 emits it (features.h): the
;; tag section, tag imports and exports, try/catch/catch_all/delegate/throw/rethrow.  Our own tests;
;; the expected results are the proposal's semantics, checked with V8 (node 20).

(module $lib
  (tag $shared (export "shared") (param i32))
  (func (export "throw-shared") (param i32) (throw $shared (local.get 0))))
(register "lib")

(module
  (import "lib" "shared" (tag $shared (param i32)))
  (import "lib" "throw-shared" (func $throw-shared (param i32)))
  (tag $e0)
  (tag $e1 (param i32))
  (tag $e2 (param i64 f64 i32))
  (tag $e3 (param i32))
  (type $v-i (func (result i32)))
  (table $t 4 funcref)
  (elem (table $t) (i32.const 0) func $throw-e1 $id $throw-e0)

  (func $throw-e0 (throw $e0))
  (func $throw-e1 (param i32) (result i32) (throw $e1 (local.get 0)))
  (func $id (param i32) (result i32) (local.get 0))
  (func $throw-if (param i32) (if (local.get 0) (then (throw $e1 (local.get 0)))))

  ;; throw and catch in one function; the payload reaches the clause
  (func (export "catch-here") (param i32) (result i32)
    (try (result i32)
      (do (throw $e1 (i32.add (local.get 0) (i32.const 1))))
      (catch $e1 (i32.mul (i32.const 10)))))

  ;; no exception: the body's value; the clauses are skipped
  (func (export "no-throw") (result i32)
    (try (result i32) (do (i32.const 7)) (catch $e1) (catch_all (i32.const 9))))

  ;; a payload of three values of three types
  (func (export "multi-payload") (result f64) (local $b f64) (local $c i32)
    (try (result f64)
      (do (throw $e2 (i64.const -3) (f64.const 2.5) (i32.const 4)))
      (catch $e2                                  ;; -3 + 2.5 * 4
        (local.set $c) (local.set $b) (f64.convert_i64_s)
        (f64.add (f64.mul (local.get $b) (f64.convert_i32_s (local.get $c)))))))

  (func (export "multi-payload-values") (result i64 f64 i32)
    (try (result i64 f64 i32)
      (do (throw $e2 (i64.const -3) (f64.const 2.5) (i32.const 4)))
      (catch $e2)))

  ;; the first matching clause wins; catch_all takes what the others do not
  (func (export "select-clause") (param i32) (result i32)
    (try (result i32)
      (do
        (if (i32.eq (local.get 0) (i32.const 0)) (then (throw $e0)))
        (if (i32.eq (local.get 0) (i32.const 1)) (then (throw $e1 (i32.const 11))))
        (if (i32.eq (local.get 0) (i32.const 2)) (then (throw $e3 (i32.const 33))))
        (i32.const 99))
      (catch $e0 (i32.const 100))
      (catch $e1 (i32.add (i32.const 1000)))
      (catch_all (i32.const 3000))))

  ;; thrown two calls deep, caught here; locals set before the try survive, the frames between go
  (func $deep (param i32) (result i32)
    (call $throw-e1 (local.get 0)))
  (func (export "across-calls") (param i32) (result i32) (local $keep i32)
    (local.set $keep (i32.const 5))
    (try (result i32)
      (do (i32.add (i32.const 1) (call $deep (local.get 0))))
      (catch $e1 (i32.add (local.get $keep)))))

  ;; values below the try stay where they were
  (func (export "stack-below") (param i32) (result i32)
    (i32.add
      (i32.mul (local.get 0) (i32.const 100))
      (try (result i32)
        (do (call $throw-if (local.get 0)) (i32.const 1))
        (catch $e1))))

  ;; through call_indirect
  (func (export "indirect") (param i32) (result i32)
    (try (result i32)
      (do (call_indirect $t (param i32) (result i32) (local.get 0) (i32.const 0)))
      (catch $e1 (i32.mul (i32.const -1)))))

  ;; a tail call leaves the try: the callee's exception goes to our caller
  (func $tail-into-thrower (param i32) (result i32)
    (try (result i32)
      (do (return_call $throw-e1 (local.get 0)))
      (catch $e1 (drop) (i32.const -1))))
  (func (export "tail-call") (param i32) (result i32)
    (try (result i32)
      (do (call $tail-into-thrower (local.get 0)))
      (catch $e1 (i32.add (i32.const 100)))))
  (func $tail-indirect (param i32) (result i32)
    (try (result i32)
      (do (return_call_indirect $t (param i32) (result i32) (local.get 0) (i32.const 0)))
      (catch_all (i32.const -1))))
  (func (export "tail-call-indirect") (param i32) (result i32)
    (try (result i32)
      (do (call $tail-indirect (local.get 0)))
      (catch $e1 (i32.add (i32.const 200)))))

  ;; nested tries: the inner one catches what it names, the outer the rest
  (func (export "nested") (param i32) (result i32)
    (try (result i32)
      (do
        (try (result i32)
          (do (call $throw-if (local.get 0)) (throw $e0))
          (catch $e0 (i32.const 1))))
      (catch $e1 (drop) (i32.const 2))))

  ;; an exception thrown in a clause goes to the tries around the whole try, not its siblings
  (func (export "throw-in-clause") (result i32)
    (try (result i32)
      (do
        (try (result i32)
          (do (throw $e0))
          (catch $e0 (throw $e1 (i32.const 5)))
          (catch $e1 (drop) (i32.const -1))))
      (catch $e1 (i32.add (i32.const 40)))))

  ;; rethrow at depth 0 and at depth 1 (the outer clause's exception, from inside an inner one)
  (func (export "rethrow-0") (result i32)
    (try (result i32)
      (do (try (do (throw $e1 (i32.const 6))) (catch $e1 (drop) (rethrow 0))) (i32.const 0))
      (catch $e1)))
  (func (export "rethrow-1") (result i32)
    (try (result i32)
      (do
        (try
          (do (throw $e1 (i32.const 1)))
          (catch $e1
            (drop)
            (try (do (throw $e1 (i32.const 2))) (catch $e1 (drop) (rethrow 1)))))
        (i32.const 0))
      (catch $e1)))
  ;; rethrow from catch_all keeps the tag and payload
  (func (export "rethrow-all") (result i32)
    (try (result i32)
      (do (try (do (throw $e1 (i32.const 77))) (catch_all (rethrow 0))) (i32.const 0))
      (catch $e1)))
  ;; a rethrow through a block inside the clause
  (func (export "rethrow-block") (result i32)
    (try (result i32)
      (do (try (do (throw $e1 (i32.const 8))) (catch $e1 (drop) (block (rethrow 1)))) (i32.const 0))
      (catch $e1)))

  ;; delegate: to an outer try, to a block (the tries around it), to the caller
  (func (export "delegate-outer") (result i32)
    (try $outer (result i32)
      (do (try (do (throw $e1 (i32.const 3))) (delegate $outer)) (i32.const 0))
      (catch $e1 (i32.add (i32.const 20)))))
  (func (export "delegate-skips") (result i32)
    (try $outer (result i32)
      (do
        (try (result i32)
          (do (try (do (throw $e1 (i32.const 3))) (delegate $outer)) (i32.const 0))
          (catch $e1 (drop) (i32.const -1))))
      (catch $e1 (i32.add (i32.const 30)))))
  (func (export "delegate-block") (result i32)
    (try (result i32)
      (do (block (try (do (call $throw-if (i32.const 9))) (delegate 0))) (i32.const 0))
      (catch $e1)))
  (func $delegate-caller
    (try (do (try (do (throw $e1 (i32.const 4))) (delegate 1))) (catch_all)))
  (func (export "delegate-caller") (result i32)
    (try (result i32) (do (call $delegate-caller) (i32.const 0)) (catch $e1)))

  ;; a try without clauses is a block
  (func (export "try-end") (result i32)
    (try (result i32) (do (i32.const 12))))

  ;; try with parameters, branches out of the body and out of a clause
  (func (export "params-and-branches") (param i32) (result i32)
    (block $out (result i32)
      (i32.const 40)
      (try (param i32) (result i32)
        (do
          (br_if $out (i32.eqz (local.get 0)))
          (call $throw-if (local.get 0))
          (i32.const 1)
          (i32.add))
        (catch $e1 (br $out (i32.add (i32.const 500)))))))

  ;; an exception caught in a loop, many times: the store of caught exceptions stays small
  (func (export "loop") (param $n i32) (result i32) (local $sum i32)
    (loop $l
      (try
        (do (call $throw-if (local.get $n)))
        (catch $e1 (local.set $sum (i32.add (local.get $sum)))))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $sum))

  ;; exceptions between instances: a tag imported is the exporter's tag
  (func (export "cross-instance") (result i32)
    (try (result i32)
      (do (call $throw-shared (i32.const 21)) (i32.const 0))
      (catch $shared (i32.mul (i32.const 2)))))
  (func (export "cross-instance-other-tag") (result i32)
    (try (result i32)
      (do (call $throw-shared (i32.const 21)) (i32.const 0))
      (catch $e1 (drop) (i32.const -1))
      (catch_all (i32.const 1))))

  ;; uncaught
  (func (export "uncaught") (throw $e0))
  (func (export "uncaught-deep") (result i32) (call $throw-e1 (i32.const 1)))
  (func (export "uncaught-rethrow")
    (try (do (throw $e0)) (catch_all (rethrow 0))))
  (func (export "uncaught-delegate")
    (try (do (throw $e0)) (delegate 0)))
  ;; a trap is no exception: catch_all does not take it
  (func (export "trap-not-caught") (result i32)
    (try (result i32) (do (unreachable)) (catch_all (i32.const 1))))
)

(assert_return (invoke "catch-here" (i32.const 4)) (i32.const 50))
(assert_return (invoke "no-throw") (i32.const 7))
(assert_return (invoke "multi-payload") (f64.const 7))
(assert_return (invoke "multi-payload-values") (i64.const -3) (f64.const 2.5) (i32.const 4))
(assert_return (invoke "select-clause" (i32.const 0)) (i32.const 100))
(assert_return (invoke "select-clause" (i32.const 1)) (i32.const 1011))
(assert_return (invoke "select-clause" (i32.const 2)) (i32.const 3000))
(assert_return (invoke "select-clause" (i32.const 3)) (i32.const 99))
(assert_return (invoke "across-calls" (i32.const 37)) (i32.const 42))
(assert_return (invoke "stack-below" (i32.const 3)) (i32.const 303))
(assert_return (invoke "stack-below" (i32.const 0)) (i32.const 1))
(assert_return (invoke "indirect" (i32.const 8)) (i32.const -8))
(assert_return (invoke "tail-call" (i32.const 5)) (i32.const 105))
(assert_return (invoke "tail-call-indirect" (i32.const 5)) (i32.const 205))
(assert_return (invoke "nested" (i32.const 0)) (i32.const 1))
(assert_return (invoke "nested" (i32.const 1)) (i32.const 2))
(assert_return (invoke "throw-in-clause") (i32.const 45))
(assert_return (invoke "rethrow-0") (i32.const 6))
(assert_return (invoke "rethrow-1") (i32.const 1))
(assert_return (invoke "rethrow-all") (i32.const 77))
(assert_return (invoke "rethrow-block") (i32.const 8))
(assert_return (invoke "delegate-outer") (i32.const 23))
(assert_return (invoke "delegate-skips") (i32.const 33))
(assert_return (invoke "delegate-block") (i32.const 9))
(assert_return (invoke "delegate-caller") (i32.const 4))
(assert_return (invoke "try-end") (i32.const 12))
(assert_return (invoke "params-and-branches" (i32.const 0)) (i32.const 40))
(assert_return (invoke "params-and-branches" (i32.const 2)) (i32.const 502))
(assert_return (invoke "loop" (i32.const 100000)) (i32.const 705082704))
(assert_return (invoke "cross-instance") (i32.const 42))
(assert_return (invoke "cross-instance-other-tag") (i32.const 1))
(assert_exception (invoke "uncaught"))
(assert_exception (invoke "uncaught-deep"))
(assert_exception (invoke "uncaught-rethrow"))
(assert_exception (invoke "uncaught-delegate"))
(assert_exception (invoke $lib "throw-shared" (i32.const 1)))
(assert_trap (invoke "trap-not-caught") "unreachable")

;; tags: imported with the wrong type, or of the wrong kind
(assert_unlinkable
  (module (import "lib" "shared" (tag (param i64))))
  "incompatible import type")
(assert_unlinkable
  (module (import "lib" "throw-shared" (tag (param i32))))
  "incompatible import type")

;; validation
(assert_invalid (module (tag (result i32))) "non-empty tag result type")
(assert_invalid (module (func (throw 0))) "unknown tag")
(assert_invalid (module (tag (param i32)) (func (throw 0))) "type mismatch")
(assert_invalid (module (tag) (func (result i32) (try (result i32) (do (i32.const 0)) (catch 0)))) "type mismatch")
(assert_invalid (module (tag (param i64)) (func (result i32) (try (result i32) (do (i32.const 0)) (catch 0)))) "type mismatch")
(assert_invalid (module (tag) (func (try (do) (catch 1)))) "unknown tag")
(assert_invalid (module (func (rethrow 0))) "invalid rethrow label")
(assert_invalid (module (func (block (rethrow 0)))) "invalid rethrow label")
(assert_invalid (module (func (try (do (rethrow 0)) (catch_all)))) "invalid rethrow label")
(assert_invalid (module binary
  "\00asm" "\01\00\00\00"
  "\01\04\01\60\00\00" "\03\02\01\00"
  "\0a\09\01\07\00\06\40\19\19\0b\0b"     ;; try catch_all catch_all end
) "catch_all")
(assert_invalid (module binary
  "\00asm" "\01\00\00\00"
  "\01\04\01\60\00\00" "\03\02\01\00"
  "\0a\08\01\06\00\06\40\18\01\0b"         ;; try delegate 1: no label 1 outside the try
) "unknown label")
(assert_invalid (module (func (result i32) (try (result i32) (do)))) "type mismatch")
(assert_malformed (module binary
  "\00asm" "\01\00\00\00"
  "\01\04\01\60\00\00"          ;; type 0: [] -> []
  "\0d\03\01\01\00"             ;; tag section: attribute 1
) "malformed tag attribute")
(assert_malformed (module binary
  "\00asm" "\01\00\00\00"
  "\01\04\01\60\00\00"
  "\06\01\00"                   ;; global section (empty)
  "\0d\03\01\00\00"             ;; tag section after it: out of order
) "unexpected content after last section")
