;; Traps inside callees and adapters, the reentrance rule, and `may_leave`.

;; A trap in the callee reaches the host through the adapter; the instance is then
;; unusable.
(component definition $Boom
  (component $Callee
    (core module $M (func (export "boom") (param i32) (result i32) unreachable))
    (core instance $m (instantiate $M))
    (func (export "boom") (param "x" u32) (result u32) (canon lift (core func $m "boom"))))
  (component $Caller
    (import "boom" (func $boom (param "x" u32) (result u32)))
    (core func $boom (canon lower (func $boom)))
    (core module $M
      (import "" "boom" (func $boom (param i32) (result i32)))
      (func (export "go") (result i32) (call $boom (i32.const 1)))
      (func (export "fine") (result i32) (i32.const 7)))
    (core instance $m (instantiate $M (with "" (instance (export "boom" (func $boom))))))
    (func (export "go") (result u32) (canon lift (core func $m "go")))
    (func (export "fine") (result u32) (canon lift (core func $m "fine"))))
  (instance $callee (instantiate $Callee))
  (instance $caller (instantiate $Caller (with "boom" (func $callee "boom"))))
  (export "go" (func $caller "go"))
  (export "fine" (func $caller "fine")))
(component instance $b $Boom)
(assert_return (invoke "fine") (u32.const 7))
(assert_trap (invoke "go") "unreachable")
(assert_trap (invoke "fine") "cannot enter component instance")
;; A fresh instance is unaffected.
(component instance $b2 $Boom)
(assert_return (invoke "fine") (u32.const 7))

;; Reentrance: a child calling a function its parent lifted enters an ancestor, which
;; traps when the call is made (statically known for fused adapters).
(component
  (core module $M (func (export "f") (result i32) (i32.const 1)))
  (core instance $m (instantiate $M))
  (func $f (result u32) (canon lift (core func $m "f")))
  (component $Child
    (import "f" (func $f (result u32)))
    (core func $f (canon lower (func $f)))
    (core module $N
      (import "" "f" (func $f (result i32)))
      (func (export "g") (result i32) (call $f)))
    (core instance $n (instantiate $N (with "" (instance (export "f" (func $f))))))
    (func (export "g") (result u32) (canon lift (core func $n "g"))))
  (instance $c (instantiate $Child (with "f" (func $f))))
  (export "g" (func $c "g")))
(assert_trap (invoke "g") "cannot enter component instance")

;; Siblings may call each other.
(component
  (component $A
    (core module $M (func (export "f") (result i32) (i32.const 41)))
    (core instance $m (instantiate $M))
    (func (export "f") (result u32) (canon lift (core func $m "f"))))
  (component $B
    (import "f" (func $f (result u32)))
    (core func $f (canon lower (func $f)))
    (core module $N
      (import "" "f" (func $f (result i32)))
      (func (export "g") (result i32) (i32.add (call $f) (i32.const 1))))
    (core instance $n (instantiate $N (with "" (instance (export "f" (func $f))))))
    (func (export "g") (result u32) (canon lift (core func $n "g"))))
  (instance $a (instantiate $A))
  (instance $b (instantiate $B (with "f" (func $a "f"))))
  (export "g" (func $b "g")))
(assert_return (invoke "g") (u32.const 42))

;; may_leave: a callee's `realloc` may not call out of its instance.
(component definition $LeavingRealloc
  (import "host-return-two" (func $two (result u32)))
  (component $Callee
    (import "two" (func $two (result u32)))
    (core func $two (canon lower (func $two)))
    (core module $M
      (import "" "two" (func $two (result i32)))
      (memory (export "mem") 1)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (drop (call $two))
        (i32.const 64))
      (func (export "len") (param i32 i32) (result i32) (local.get 1)))
    (core instance $m (instantiate $M (with "" (instance (export "two" (func $two))))))
    (func (export "len") (param "s" string) (result u32)
      (canon lift (core func $m "len") (memory (core memory $m "mem")) (realloc (core func $m "realloc")))))
  (component $Caller
    (import "len" (func $len (param "s" string) (result u32)))
    (core module $Mem (memory (export "mem") 1))
    (core instance $mem (instantiate $Mem))
    (core func $len (canon lower (func $len) (memory (core memory $mem "mem"))))
    (core module $M
      (import "" "len" (func $len (param i32 i32) (result i32)))
      (func (export "go") (result i32) (call $len (i32.const 0) (i32.const 3))))
    (core instance $m (instantiate $M (with "" (instance (export "len" (func $len))))))
    (func (export "go") (result u32) (canon lift (core func $m "go"))))
  (instance $callee (instantiate $Callee (with "two" (func $two))))
  (instance $caller (instantiate $Caller (with "len" (func $callee "len"))))
  (export "go" (func $caller "go")))
(component instance $l $LeavingRealloc)
(assert_trap (invoke "go") "cannot leave component instance")

;; Deep recursion inside a callee is a trap, not a crash.
(component
  (component $Callee
    (core module $M
      (func $r (export "r") (param i32) (result i32) (call $r (i32.add (local.get 0) (i32.const 1)))))
    (core instance $m (instantiate $M))
    (func (export "r") (param "x" u32) (result u32) (canon lift (core func $m "r"))))
  (component $Caller
    (import "r" (func $r (param "x" u32) (result u32)))
    (core func $r (canon lower (func $r)))
    (core module $M
      (import "" "r" (func $r (param i32) (result i32)))
      (func (export "go") (result i32) (call $r (i32.const 0))))
    (core instance $m (instantiate $M (with "" (instance (export "r" (func $r))))))
    (func (export "go") (result u32) (canon lift (core func $m "go"))))
  (instance $callee (instantiate $Callee))
  (instance $caller (instantiate $Caller (with "r" (func $callee "r"))))
  (export "go" (func $caller "go")))
(assert_trap (invoke "go") "call stack exhausted")
