;; fact-config: max-wasm-stack=65536
;; Typed function references and the function-type part of the GC type system, written
;; for fact from the WebAssembly 3.0 specification: `call_ref`, `return_call_ref`,
;; `ref.as_non_null`, `br_on_null`, `br_on_non_null`, non-defaultable locals, tables of
;; typed references with initializers, `rec` groups with iso-recursive identity across
;; modules, and `sub` declarations checked by `call_indirect` and import matching.

(module $arith
  (type $binop (func (param i32 i32) (result i32)))
  (func $add (type $binop) (i32.add (local.get 0) (local.get 1)))
  (func $sub (type $binop) (i32.sub (local.get 0) (local.get 1)))
  (elem declare func $add $sub)

  ;; A table of non-nullable references needs an initializer; element 1 is replaced.
  (table $ops 2 2 (ref $binop) (ref.func $add))
  (elem (table $ops) (i32.const 1) (ref $binop) (ref.func $sub))

  (func (export "apply") (param $i i32) (param $a i32) (param $b i32) (result i32)
    (call_ref $binop (local.get $a) (local.get $b) (table.get $ops (local.get $i))))

  ;; `ref.as_non_null` passes a non-null reference through and traps on null.
  (func (export "as-non-null") (param $null i32) (result i32)
    (call_ref $binop (i32.const 7) (i32.const 5)
      (ref.as_non_null
        (select (result (ref null $binop))
          (ref.null $binop) (ref.func $sub) (local.get $null)))))

  (func (export "call-null") (result i32)
    (call_ref $binop (i32.const 1) (i32.const 2) (ref.null $binop)))

  ;; `br_on_null` branches when null (here dropping the operands pushed before it), else
  ;; leaves the reference, now non-null.
  (func (export "or-default") (param $null i32) (result i32)
    (local $f (ref null $binop))
    (local.set $f
      (select (result (ref null $binop))
        (ref.null $binop) (ref.func $add) (local.get $null)))
    (block $is_null
      (return
        (call_ref $binop (i32.const 40) (i32.const 2) (br_on_null $is_null (local.get $f)))))
    (i32.const -1))

  ;; `br_on_non_null` branches with the reference when it is not null.
  (func (export "non-null-or-zero") (param $null i32) (result i32)
    (i32.const 30)
    (i32.const 3)
    (block $has (result (ref $binop))
      (br_on_non_null $has
        (select (result (ref null $binop))
          (ref.null $binop) (ref.func $sub) (local.get $null)))
      (return (i32.const 0)))
    (call_ref $binop))

  ;; A non-defaultable local is readable once set, within the block that sets it.
  (func (export "local-init") (result i32)
    (local $f (ref $binop))
    (local.set $f (ref.func $add))
    (call_ref $binop (i32.const 20) (i32.const 22) (local.get $f)))
)

(assert_return (invoke "apply" (i32.const 0) (i32.const 3) (i32.const 4)) (i32.const 7))
(assert_return (invoke "apply" (i32.const 1) (i32.const 3) (i32.const 4)) (i32.const -1))
(assert_trap (invoke "apply" (i32.const 2) (i32.const 3) (i32.const 4)) "out of bounds table access")
(assert_return (invoke "as-non-null" (i32.const 0)) (i32.const 2))
(assert_trap (invoke "as-non-null" (i32.const 1)) "null reference")
(assert_trap (invoke "call-null") "null function reference")
(assert_return (invoke "or-default" (i32.const 0)) (i32.const 42))
(assert_return (invoke "or-default" (i32.const 1)) (i32.const -1))
(assert_return (invoke "non-null-or-zero" (i32.const 0)) (i32.const 27))
(assert_return (invoke "non-null-or-zero" (i32.const 1)) (i32.const 0))
(assert_return (invoke "local-init") (i32.const 42))

;; A non-defaultable local read before it is set is invalid.
(assert_invalid
  (module
    (type $t (func))
    (func (local $f (ref $t)) (drop (local.get $f))))
  "uninitialized local")

;; `return_call_ref` in a loop of a million calls runs in bounded stack.
(module
  (type $count (func (param i64) (result i64)))
  (elem declare func $down)
  (func $down (type $count)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 99))
      (else
        (return_call_ref $count
          (i64.sub (local.get 0) (i64.const 1))
          (ref.func $down)))))
  (func (export "down") (param i64) (result i64) (call $down (local.get 0)))
)
(assert_return (invoke "down" (i64.const 1000000)) (i64.const 99))

;; Recursion groups: two modules that declare the same group agree on its types, so a
;; function of one passes the other's `call_indirect` check and import matching.
(module $provider
  (rec
    (type $node (func (param (ref null $leaf)) (result i32)))
    (type $leaf (func (result i32))))
  (func (export "node") (type $node) (i32.const 11))
  (func (export "leaf") (type $leaf) (i32.const 12))
)
(register "provider" $provider)

(module
  (rec
    (type $node (func (param (ref null $leaf)) (result i32)))
    (type $leaf (func (result i32))))
  (import "provider" "node" (func $node (type $node)))
  (table 1 funcref)
  (elem (i32.const 0) func $node)
  (func (export "via-table") (result i32)
    (call_indirect (type $node) (ref.null $leaf) (i32.const 0)))
)
(assert_return (invoke "via-table") (i32.const 11))

;; The same function type outside the group is a different type.
(assert_unlinkable
  (module
    (type $leaf (func (result i32)))
    (import "provider" "leaf" (func (type $leaf))))
  "incompatible import type")

;; `sub` declarations: a function of a subtype passes the check of its supertype, in
;; `call_indirect` and in import matching; the reverse traps or fails to link.
(module $subs
  (type $base (sub (func (result i32))))
  (type $derived (sub $base (func (result i32))))
  (func $b (export "b") (type $base) (i32.const 1))
  (func $d (export "d") (type $derived) (i32.const 2))
  (table 2 funcref)
  (elem (i32.const 0) func $b $d)
  (func (export "as-base") (param i32) (result i32)
    (call_indirect (type $base) (local.get 0)))
  (func (export "as-derived") (param i32) (result i32)
    (call_indirect (type $derived) (local.get 0)))
)
(register "subs" $subs)
(assert_return (invoke "as-base" (i32.const 0)) (i32.const 1))
(assert_return (invoke "as-base" (i32.const 1)) (i32.const 2))
(assert_trap (invoke "as-derived" (i32.const 0)) "indirect call type mismatch")
(assert_return (invoke "as-derived" (i32.const 1)) (i32.const 2))

(module
  (type $base (sub (func (result i32))))
  (import "subs" "d" (func (type $base)))
)
(assert_unlinkable
  (module
    (type $base (sub (func (result i32))))
    (type $derived (sub $base (func (result i32))))
    (import "subs" "b" (func (type $derived))))
  "incompatible import type")

;; Constant expressions read earlier immutable globals, including defined ones; a table
;; of nullable typed references starts out with its initializer.
(module
  (type $f (func (result i32)))
  (func $seven (type $f) (i32.const 7))
  (table $t 3 (ref null $f) (ref.func $seven))
  (global $g (ref $f) (ref.func $seven))
  (global $h (ref null $f) (global.get $g))
  (func (export "from-table") (param i32) (result i32)
    (call_ref $f (ref.as_non_null (table.get $t (local.get 0)))))
  (func (export "from-global") (result i32)
    (call_ref $f (global.get $h)))
)
(assert_return (invoke "from-table" (i32.const 2)) (i32.const 7))
(assert_return (invoke "from-global") (i32.const 7))
