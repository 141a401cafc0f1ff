;; Epoch interruption: checks at function entries and loop headers stop code once the
;; epoch reaches the store's deadline (`fact.epoch_deadline` sets it, `fact.tick`
;; advances the epoch). The deadline is re-exported so that the script can reset it from
;; the host side: once it has passed, every wasm function traps on entry.

(module
  (import "fact" "epoch_deadline" (func $deadline (param i64)))
  (import "fact" "tick" (func $tick))
  (export "deadline" (func $deadline))
  (func $leaf)
  ;; An infinite loop that advances the epoch: the next loop header traps.
  (func (export "spin") (call $deadline (i64.const 3)) (loop (call $tick) (br 0)))
  ;; No loop: the entry check of the next call traps.
  (func (export "call_after_tick")
    (call $deadline (i64.const 1)) (call $tick) (call $leaf))
  ;; A finite loop with room to spare finishes.
  (func (export "count") (param i32) (result i32) (local i32)
    (loop
      (local.set 1 (i32.add (local.get 1) (i32.const 1)))
      (br_if 0 (i32.lt_u (local.get 1) (local.get 0))))
    (local.get 1))
)
(assert_return (invoke "count" (i32.const 1000)) (i32.const 1000))
(assert_trap (invoke "spin") "interrupt")
(assert_trap (invoke "count" (i32.const 1)) "interrupt")
(invoke "deadline" (i64.const 1000))
(assert_return (invoke "count" (i32.const 1000)) (i32.const 1000))
(assert_trap (invoke "call_after_tick") "interrupt")
