;; Nesting, aliasing, re-exports and multiple instantiation, and the test host's items.

;; The test host: a root function, an instance with a nested instance, a core module.
(component
  (import "host-return-two" (func $two (result u32)))
  (import "host" (instance $host
    (export "return-three" (func (result u32)))
    (export "nested" (instance
      (export "return-four" (func (result u32)))))
    (export "simple-module" (core module
      (export "g" (global i32))
      (export "f" (func (result i32)))))))
  (alias export $host "nested" (instance $nested))
  (core func $two (canon lower (func $two)))
  (core func $three (canon lower (func $host "return-three")))
  (core func $four (canon lower (func $nested "return-four")))
  (alias export $host "simple-module" (core module $simple))
  (core instance $s (instantiate $simple))
  (core module $M
    (import "" "two" (func $two (result i32)))
    (import "" "three" (func $three (result i32)))
    (import "" "four" (func $four (result i32)))
    (import "simple" "f" (func $f (result i32)))
    (import "simple" "g" (global $g i32))
    (func (export "sum") (result i32)
      (i32.add (i32.add (call $two) (call $three)) (call $four)))
    (func (export "simple") (result i32) (i32.add (call $f) (global.get $g))))
  (core instance $m (instantiate $M
    (with "" (instance (export "two" (func $two)) (export "three" (func $three))
                       (export "four" (func $four))))
    (with "simple" (instance $s))))
  (func (export "sum") (result u32) (canon lift (core func $m "sum")))
  (func (export "simple") (result u32) (canon lift (core func $m "simple"))))
(assert_return (invoke "sum") (u32.const 9))
(assert_return (invoke "simple") (u32.const 201))

;; A counter component instantiated twice: separate state. Re-exported through an
;; intermediate component, and through an instance built from exports.
(component
  (component $Counter
    (core module $M
      (global $n (mut i32) (i32.const 0))
      (func (export "next") (result i32)
        (global.set $n (i32.add (global.get $n) (i32.const 1)))
        (global.get $n)))
    (core instance $m (instantiate $M))
    (func (export "next") (result u32) (canon lift (core func $m "next"))))
  (component $Wrapper
    (import "counter" (component $C (export "next" (func (result u32)))))
    (instance $inner (instantiate $C))
    (instance $bundle (export "next" (func $inner "next")))
    (export "bundle" (instance $bundle)))
  (instance $a (instantiate $Counter))
  (instance $b (instantiate $Counter))
  (instance $w (instantiate $Wrapper (with "counter" (component $Counter))))
  (alias export $w "bundle" (instance $wb))
  (export "a" (func $a "next"))
  (export "b" (func $b "next"))
  (export "w" (func $wb "next")))
(assert_return (invoke "a") (u32.const 1))
(assert_return (invoke "a") (u32.const 2))
(assert_return (invoke "b") (u32.const 1))
(assert_return (invoke "w") (u32.const 1))
(assert_return (invoke "a") (u32.const 3))

;; Outer aliases of types and of a core module from a nested component.
(component
  (core module $Shared (func (export "seven") (result i32) (i32.const 7)))
  (type $num u32)
  (component $Inner
    (alias outer 1 $Shared (core module $S))
    (alias outer 1 $num (type $n))
    (core instance $s (instantiate $S))
    (func (export "seven") (result $n) (canon lift (core func $s "seven"))))
  (instance $i (instantiate $Inner))
  (export "seven" (func $i "seven")))
(assert_return (invoke "seven") (u32.const 7))

;; Invalid and unlinkable components.
(assert_invalid
  (component (core module $M) (core instance (instantiate $M (with "x" (instance)))) (core instance (instantiate 5)))
  "unknown")
(assert_unlinkable
  (component (import "no-such-import" (func)))
  "no-such-import")
(assert_unlinkable
  (component (import "host-return-two" (func (result string))))
  "host-return-two")
