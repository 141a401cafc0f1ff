;; fact-config: max-wasm-stack=65536
;; Tail calls run in bounded stack: a million steps across two modules fit in the 64 KiB
;; of wasm stack this script runs with (its first line sets it), where a million ordinary
;; calls do not. A tail-call loop can still be interrupted.

;; `even` and `odd` call each other in tail position: `odd` through an import, `even`
;; through a table that the second module fills.
(module $Even
  (type $i64->i32 (func (param i64) (result i32)))
  (table (export "table") 1 funcref)
  (func $even (export "even") (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0))
      (then (i32.const 1))
      (else (return_call_indirect (type $i64->i32)
              (i64.sub (local.get 0) (i64.const 1)) (i32.const 0))))))
(register "even" $Even)

(module $Odd
  (import "even" "even" (func $even (param i64) (result i32)))
  (import "even" "table" (table 1 funcref))
  (elem (i32.const 0) $odd)
  (func $odd (export "odd") (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0))
      (then (i32.const 0))
      (else (return_call $even (i64.sub (local.get 0) (i64.const 1))))))
  ;; The same recursion without tail calls.
  (func $deep (export "deep") (param i64) (result i32)
    (if (result i32) (i64.eqz (local.get 0))
      (then (i32.const 0))
      (else (call $deep (i64.sub (local.get 0) (i64.const 1)))))))

(assert_return (invoke $Even "even" (i64.const 1000000)) (i32.const 1))
(assert_return (invoke $Even "even" (i64.const 1000001)) (i32.const 0))
(assert_return (invoke $Odd "odd" (i64.const 1000001)) (i32.const 1))
(assert_exhaustion (invoke $Odd "deep" (i64.const 1000000)) "call stack exhausted")

;; A function that tail-calls itself forever, advancing the epoch: the entry check of one
;; of its steps stops it.
(module
  (import "fact" "epoch_deadline" (func $deadline (param i64)))
  (import "fact" "tick" (func $tick))
  (func $spin (call $tick) (return_call $spin))
  (func (export "spin") (call $deadline (i64.const 5)) (return_call $spin)))
(assert_trap (invoke "spin") "interrupt")
