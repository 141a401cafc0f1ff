;; Resources: guest-defined resources across components (moves, loans, destructors), the
;; test host's `resource1`, and the handle-table traps.

(component definition $Guest
  (component $Maker
    (core module $Dtor
      (table (export "t") 1 funcref)
      (func (export "dtor") (param i32) (call_indirect (param i32) (local.get 0) (i32.const 0))))
    (core instance $dtor (instantiate $Dtor))
    (type $R (resource (rep i32) (dtor (core func $dtor "dtor"))))
    (export $r "r" (type $R))
    (core func $new (canon resource.new $R))
    (core module $M
      (import "" "t" (table 1 funcref))
      (import "" "new" (func $new (param i32) (result i32)))
      (global $live (mut i32) (i32.const 0))
      (global $last (mut i32) (i32.const 0))
      (func (export "make") (param i32) (result i32)
        (global.set $live (i32.add (global.get $live) (i32.const 1)))
        (call $new (local.get 0)))
      (func (export "rep") (param i32) (result i32) (local.get 0))
      (func (export "live") (result i32) (global.get $live))
      (func (export "last") (result i32) (global.get $last))
      (func $dtor (param i32)
        (global.set $live (i32.sub (global.get $live) (i32.const 1)))
        (global.set $last (local.get 0)))
      (elem (i32.const 0) $dtor))
    (core instance $m (instantiate $M
      (with "" (instance (export "t" (table $dtor "t")) (export "new" (func $new))))))
    (func (export "make") (param "rep" u32) (result (own $r)) (canon lift (core func $m "make")))
    (func (export "rep") (param "x" (borrow $r)) (result u32) (canon lift (core func $m "rep")))
    (func (export "live") (result u32) (canon lift (core func $m "live")))
    (func (export "last") (result u32) (canon lift (core func $m "last"))))

  (component $User
    (import "maker" (instance $maker
      (export "r" (type $R (sub resource)))
      (export "make" (func (param "rep" u32) (result (own $R))))
      (export "rep" (func (param "x" (borrow $R)) (result u32)))))
    (alias export $maker "r" (type $R))
    (core func $make (canon lower (func $maker "make")))
    (core func $rep (canon lower (func $maker "rep")))
    (core func $drop (canon resource.drop $R))
    (core module $M
      (import "" "make" (func $make (param i32) (result i32)))
      (import "" "rep" (func $rep (param i32) (result i32)))
      (import "" "drop" (func $drop (param i32)))
      (global $h (mut i32) (i32.const 0))
      ;; make(rep): keeps the handle; returns its index in this instance's table
      (func (export "make") (param i32) (result i32)
        (global.set $h (call $make (local.get 0)))
        (global.get $h))
      (func (export "rep") (result i32) (call $rep (global.get $h)))
      (func (export "drop") (call $drop (global.get $h)))
      (func (export "drop-index") (param i32) (call $drop (local.get 0))))
    (core instance $m (instantiate $M (with "" (instance
      (export "make" (func $make)) (export "rep" (func $rep)) (export "drop" (func $drop))))))
    (func (export "make") (param "rep" u32) (result u32) (canon lift (core func $m "make")))
    (func (export "rep") (result u32) (canon lift (core func $m "rep")))
    (func (export "drop") (canon lift (core func $m "drop")))
    (func (export "drop-index") (param "i" u32) (canon lift (core func $m "drop-index"))))

  (instance $maker (instantiate $Maker))
  (instance $user (instantiate $User (with "maker" (instance $maker))))
  (export "make" (func $user "make"))
  (export "rep" (func $user "rep"))
  (export "drop" (func $user "drop"))
  (export "drop-index" (func $user "drop-index"))
  (export "live" (func $maker "live"))
  (export "last" (func $maker "last")))

(component instance $g $Guest)
;; The first handle in the user's table is index 1; freed slots are reused.
(assert_return (invoke "make" (u32.const 100)) (u32.const 1))
(assert_return (invoke "rep") (u32.const 100))
(assert_return (invoke "live") (u32.const 1))
(invoke "drop")
(assert_return (invoke "live") (u32.const 0))
(assert_return (invoke "last") (u32.const 100))
(assert_return (invoke "make" (u32.const 200)) (u32.const 1))
(assert_return (invoke "make" (u32.const 300)) (u32.const 2))
(invoke "drop-index" (u32.const 1))
(assert_return (invoke "last") (u32.const 200))
(assert_return (invoke "make" (u32.const 400)) (u32.const 1))
(assert_trap (invoke "drop-index" (u32.const 9)) "unknown handle index 9")
(component instance $g $Guest)
(assert_trap (invoke "drop-index" (u32.const 0)) "unknown handle index 0")

;; The test host's resource: constructed by the host, borrowed and owned by the guest,
;; dropped by the guest (the host destructor counts drops).
(component
  (import "host" (instance $host
    (export "resource1" (type $r (sub resource)))
    (export "[constructor]resource1" (func (param "r" u32) (result (own $r))))
    (export "[static]resource1.assert" (func (param "r" (own $r)) (param "rep" u32)))
    (export "[static]resource1.last-drop" (func (result u32)))
    (export "[static]resource1.drops" (func (result u32)))
    (export "[method]resource1.simple" (func (param "self" (borrow $r)) (param "rep" u32)))))
  (alias export $host "resource1" (type $r))
  (core func $new (canon lower (func $host "[constructor]resource1")))
  (core func $assert (canon lower (func $host "[static]resource1.assert")))
  (core func $last (canon lower (func $host "[static]resource1.last-drop")))
  (core func $drops (canon lower (func $host "[static]resource1.drops")))
  (core func $simple (canon lower (func $host "[method]resource1.simple")))
  (core func $drop (canon resource.drop $r))
  (core module $M
    (import "" "new" (func $new (param i32) (result i32)))
    (import "" "assert" (func $assert (param i32 i32)))
    (import "" "last" (func $last (result i32)))
    (import "" "drops" (func $drops (result i32)))
    (import "" "simple" (func $simple (param i32 i32)))
    (import "" "drop" (func $drop (param i32)))
    (func (export "go") (result i32)
      (local $a i32) (local $b i32)
      (local.set $a (call $new (i32.const 7)))
      (local.set $b (call $new (i32.const 8)))
      (call $simple (local.get $a) (i32.const 7))
      ;; moving `b` to the host
      (call $assert (local.get $b) (i32.const 8))
      (call $drop (local.get $a))
      ;; drops * 100 + last dropped rep
      (i32.add (i32.mul (call $drops) (i32.const 100)) (call $last))))
  (core instance $m (instantiate $M (with "" (instance
    (export "new" (func $new)) (export "assert" (func $assert)) (export "last" (func $last))
    (export "drops" (func $drops)) (export "simple" (func $simple)) (export "drop" (func $drop))))))
  (func (export "go") (result u32) (canon lift (core func $m "go"))))
(assert_return (invoke "go") (u32.const 107))
