;; Exception handling across host frames, across modules, and in loops: what the spec
;; scripts cannot reach. The `fact` host module provides a tag `(param i32)`, a host
;; function that throws it, and one that calls wasm and catches it.

(module $m
  (import "fact" "tag" (tag $host (param i32)))
  (import "fact" "throw" (func $host_throw (param i32)))
  (import "fact" "catch" (func $host_catch (param funcref) (result i32)))
  (import "fact" "call" (func $call (param funcref)))
  (tag $own (export "own") (param i32))
  (tag $other (export "other"))

  (func $throw_own (throw $own (i32.const 3)))
  (func $throw_host (throw $host (i32.const 4)))
  (func $throw_other (throw $other))
  (func $via_host (call $host_throw (i32.const 5)))
  (func $nothing)
  (elem declare func $throw_own $throw_host $throw_other $via_host $nothing)

  ;; A host function throws into its wasm caller, which catches it.
  (func (export "host-throws") (result i32)
    (block $h (result i32)
      (try_table (catch $host $h) (call $host_throw (i32.const 11)))
      (i32.const -1)))

  ;; An exception thrown by wasm, called from the host, called from wasm: the host
  ;; function returns the error, which throws the exception on into the outer wasm.
  (func (export "through-host") (result i32)
    (block $h (result i32)
      (try_table (catch $own $h) (call $call (ref.func $throw_own)))
      (i32.const -1)))

  ;; The host catches what wasm throws, with its payload; a function that returns gives -1.
  (func (export "host-catches") (result i32)
    (call $host_catch (ref.func $throw_host)))
  (func (export "host-catches-host") (result i32)
    (call $host_catch (ref.func $via_host)))
  (func (export "host-catches-nothing") (result i32)
    (call $host_catch (ref.func $nothing)))

  ;; The host rethrows an exception of a tag it does not catch; wasm catches it again.
  (func (export "host-rethrows") (result i32)
    (block $h (result i32)
      (try_table (catch $own $h) (drop (call $host_catch (ref.func $throw_own))))
      (i32.const -1)))

  ;; Uncaught, the exception reaches the embedder as an error.
  (func (export "uncaught") (call $throw_other))
  (func (export "uncaught-from-host") (call $host_throw (i32.const 1)))

  ;; A trap is not an exception: catch_all does not catch it.
  (func (export "trap-not-caught") (result i32)
    (block $h
      (try_table (catch_all $h) (unreachable)))
    (i32.const 1))

  ;; Many exceptions thrown and caught in a loop: each `catch` frees its exception.
  (func (export "loop") (param $n i32) (result i32) (local $sum i32)
    (loop $l
      (block $h (result i32)
        (try_table (catch $own $h) (throw $own (local.get $n)))
        (i32.const 0))
      (local.set $sum (i32.add (local.get $sum)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $sum))

  ;; The first matching clause wins; an exception that no clause of an inner try_table
  ;; matches goes on to the outer one.
  (func (export "first-clause") (result i32)
    (block $all
      (return
        (block $own_h (result i32)
          (try_table (catch $own $own_h) (catch_all $all) (call $throw_own))
          (i32.const -1))))
    (i32.const -2))
  (func (export "outer-clause") (result i32)
    (block $outer (result i32)
      (try_table (result i32) (catch $own $outer)
        (block $inner
          (try_table (catch $other $inner) (call $throw_own))
          (unreachable))
        (i32.const -1))))
)

(assert_return (invoke "host-throws") (i32.const 11))
(assert_return (invoke "through-host") (i32.const 3))
(assert_return (invoke "host-catches") (i32.const 4))
(assert_return (invoke "host-catches-host") (i32.const 5))
(assert_return (invoke "host-catches-nothing") (i32.const -1))
(assert_return (invoke "host-rethrows") (i32.const 3))
(assert_exception (invoke "uncaught"))
(assert_exception (invoke "uncaught-from-host"))
(assert_trap (invoke "trap-not-caught") "unreachable")
(assert_return (invoke "loop" (i32.const 100000)) (i32.const 705082704))
(assert_return (invoke "first-clause") (i32.const 3))
(assert_return (invoke "outer-clause") (i32.const 3))

;; Tags are compared by identity: an imported tag is the exporter's tag, and a second
;; instance of the same module has tags of its own.
(register "m" $m)
(module $n
  (import "m" "own" (tag $own (param i32)))
  (tag $mine (param i32))
  (func (export "same") (result i32)
    (block $h (result i32)
      (try_table (catch $own $h) (throw $own (i32.const 21)))
      (i32.const -1)))
  (func (export "distinct") (result i32)
    (block $h (result i32)
      (try_table (catch $own $h)
        (block $mine_h (result i32)
          (try_table (catch $mine $mine_h) (throw $mine (i32.const 1)))
          (i32.const -1))
        (return))
      (i32.const -2)))
)
(assert_return (invoke "same") (i32.const 21))
(assert_return (invoke "distinct") (i32.const 1))

;; A tag import must have exactly the exporter's type.
(assert_unlinkable
  (module (import "m" "own" (tag (param i64))))
  "incompatible import type")
(assert_unlinkable
  (module (import "m" "own" (func)))
  "incompatible import type")

;; An interrupt is not an exception either: a handler around an interrupted loop does
;; not swallow it.
(module
  (import "fact" "epoch_deadline" (func $deadline (param i64)))
  (import "fact" "tick" (func $tick))
  (export "deadline" (func $deadline))
  (func $spin (loop (call $tick) (br 0)))
  (func (export "interrupt-not-caught") (result i32)
    (call $deadline (i64.const 3))
    (block $h (try_table (catch_all $h) (call $spin)))
    (i32.const 1)))
(assert_trap (invoke "interrupt-not-caught") "interrupt")
(invoke "deadline" (i64.const 1000000))
