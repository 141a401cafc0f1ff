;; A component that asks its host to "enrich" a person record (strings and a record
;; crossing the boundary both ways), and measures names. Used by the Rust host example
;; (`cargo run -p fact --example host`).
(component
  (type $person' (record (field "name" string) (field "age" u32)))
  (import "person" (type $person (eq $person')))
  (import "enrich" (func $enrich (param "p" $person) (result $person)))

  ;; Memory and a bump allocator.
  (core module $Mem
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and
        (i32.add (global.get $next) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
      (global.set $next (i32.add (local.get $p) (local.get $size)))
      (if (i32.gt_u (global.get $next) (i32.shl (memory.size) (i32.const 16)))
        (then (drop (memory.grow (i32.const 1)))))
      (if (local.get $old_size)
        (then (memory.copy (local.get $p) (local.get $old) (local.get $old_size))))
      (local.get $p)))
  (core instance $mem (instantiate $Mem))

  (core func $enrich (canon lower (func $enrich)
    (memory (core memory $mem "memory")) (realloc (core func $mem "realloc"))))

  (core module $Main
    (import "host" "enrich" (func $enrich (param i32 i32 i32 i32)))
    ;; introduce(p) = enrich(p), through a return area at 16
    (func (export "introduce") (param i32 i32 i32) (result i32)
      (call $enrich (local.get 0) (local.get 1) (local.get 2) (i32.const 16))
      (i32.const 16))
    ;; name-length(s) = its length in UTF-8 bytes
    (func (export "name-length") (param i32 i32) (result i32) (local.get 1)))
  (core instance $main (instantiate $Main
    (with "host" (instance (export "enrich" (func $enrich))))))

  (export $p "person" (type $person))
  (func (export "introduce") (param "p" $p) (result $p)
    (canon lift (core func $main "introduce")
      (memory (core memory $mem "memory")) (realloc (core func $mem "realloc"))))
  (func (export "name-length") (param "s" string) (result u32)
    (canon lift (core func $main "name-length")
      (memory (core memory $mem "memory")) (realloc (core func $mem "realloc")))))
