;; Lists across fused adapters: empty, large, nested, lists of records with strings, and
;; bounds and overflow checks. The host passes values to `$Caller`, which forwards them to
;; `$Callee`; the callee returns digests computed from what it received.

(component definition $Lists
  (component $Callee
    (core module $Mem
      (memory (export "mem") 1)
      (global $next (mut i32) (i32.const 1024))
      (func (export "realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
        (local $p i32)
        (local.set $p (i32.and (i32.add (global.get $next) (i32.sub (local.get $align) (i32.const 1)))
                               (i32.sub (i32.const 0) (local.get $align))))
        (global.set $next (i32.add (local.get $p) (local.get $size)))
        (if (i32.gt_u (global.get $next) (i32.shl (memory.size) (i32.const 16)))
          (then (drop (memory.grow (i32.shr_u (i32.add (local.get $size) (i32.const 65535)) (i32.const 16))))))
        (local.get $p)))
    (core instance $mem (instantiate $Mem))
    (core module $M
      (import "" "mem" (memory 1))
      ;; sum of a list<u16>
      (func (export "sum16") (param $p i32) (param $n i32) (result i64)
        (local $i i32) (local $s i64)
        (block $done (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $s (i64.add (local.get $s)
            (i64.load16_u (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 1))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
        (local.get $s))
      ;; count of inner elements of a list<list<u8>>
      (func (export "inner") (param $p i32) (param $n i32) (result i32)
        (local $i i32) (local $s i32)
        (block $done (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $s (i32.add (local.get $s)
            (i32.load offset=4 (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
        (local.get $s))
      ;; a list<record { name: string, n: u32 }>: total name bytes * 1000 + sum of n
      (func (export "people") (param $p i32) (param $n i32) (result i32)
        (local $i i32) (local $bytes i32) (local $sum i32) (local $e i32)
        (block $done (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $e (i32.add (local.get $p) (i32.mul (local.get $i) (i32.const 12))))
          (local.set $bytes (i32.add (local.get $bytes) (i32.load offset=4 (local.get $e))))
          (local.set $sum (i32.add (local.get $sum) (i32.load offset=8 (local.get $e))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
        (i32.add (i32.mul (local.get $bytes) (i32.const 1000)) (local.get $sum))))
    (core instance $m (instantiate $M (with "" (instance (export "mem" (memory $mem "mem"))))))
    (type $person' (record (field "name" string) (field "n" u32)))
    (export $person "person" (type $person'))
    (func (export "sum16") (param "l" (list u16)) (result u64)
      (canon lift (core func $m "sum16") (memory (core memory $mem "mem")) (realloc (core func $mem "realloc"))))
    (func (export "inner") (param "l" (list (list u8))) (result u32)
      (canon lift (core func $m "inner") (memory (core memory $mem "mem")) (realloc (core func $mem "realloc"))))
    (func (export "people") (param "l" (list $person)) (result u32)
      (canon lift (core func $m "people") (memory (core memory $mem "mem")) (realloc (core func $mem "realloc")))))

  (component $Caller
    (import "c" (instance $c
      (type $person' (record (field "name" string) (field "n" u32)))
      (export "person" (type $person (eq $person')))
      (export "sum16" (func (param "l" (list u16)) (result u64)))
      (export "inner" (func (param "l" (list (list u8))) (result u32)))
      (export "people" (func (param "l" (list $person)) (result u32)))))
    (alias export $c "person" (type $person))
    (core module $Mem
      (memory (export "mem") 1)
      (global $next (mut i32) (i32.const 1024))
      (func (export "realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
        (local $p i32)
        (local.set $p (i32.and (i32.add (global.get $next) (i32.sub (local.get $align) (i32.const 1)))
                               (i32.sub (i32.const 0) (local.get $align))))
        (global.set $next (i32.add (local.get $p) (local.get $size)))
        (if (i32.gt_u (global.get $next) (i32.shl (memory.size) (i32.const 16)))
          (then (drop (memory.grow (i32.shr_u (i32.add (local.get $size) (i32.const 65535)) (i32.const 16))))))
        (local.get $p)))
    (core instance $mem (instantiate $Mem))
    (core func $sum16 (canon lower (func $c "sum16") (memory (core memory $mem "mem"))))
    (core func $inner (canon lower (func $c "inner") (memory (core memory $mem "mem"))))
    (core func $people (canon lower (func $c "people") (memory (core memory $mem "mem"))))
    (core module $M
      (import "" "sum16" (func $sum16 (param i32 i32) (result i64)))
      (import "" "inner" (func $inner (param i32 i32) (result i32)))
      (import "" "people" (func $people (param i32 i32) (result i32)))
      (func (export "sum16") (param i32 i32) (result i64) (call $sum16 (local.get 0) (local.get 1)))
      (func (export "inner") (param i32 i32) (result i32) (call $inner (local.get 0) (local.get 1)))
      (func (export "people") (param i32 i32) (result i32) (call $people (local.get 0) (local.get 1)))
      ;; raw lists: out of bounds, and a length whose byte size overflows 32 bits
      (func (export "oob") (result i64) (call $sum16 (i32.const 65000) (i32.const 1000)))
      (func (export "huge") (result i64) (call $sum16 (i32.const 0) (i32.const 0x80000001))))
    (core instance $m (instantiate $M (with "" (instance
      (export "sum16" (func $sum16)) (export "inner" (func $inner)) (export "people" (func $people))))))
    (func (export "sum16") (param "l" (list u16)) (result u64)
      (canon lift (core func $m "sum16") (memory (core memory $mem "mem")) (realloc (core func $mem "realloc"))))
    (func (export "inner") (param "l" (list (list u8))) (result u32)
      (canon lift (core func $m "inner") (memory (core memory $mem "mem")) (realloc (core func $mem "realloc"))))
    (func (export "people") (param "l" (list $person)) (result u32)
      (canon lift (core func $m "people") (memory (core memory $mem "mem")) (realloc (core func $mem "realloc"))))
    (func (export "oob") (result u64) (canon lift (core func $m "oob")))
    (func (export "huge") (result u64) (canon lift (core func $m "huge"))))

  (instance $callee (instantiate $Callee))
  (instance $caller (instantiate $Caller (with "c" (instance $callee))))
  (export "sum16" (func $caller "sum16"))
  (export "inner" (func $caller "inner"))
  (export $p "person" (type $callee "person"))
  (export "people" (func $caller "people") (func (param "l" (list $p)) (result u32)))
  (export "oob" (func $caller "oob"))
  (export "huge" (func $caller "huge")))

(component instance $l $Lists)
(assert_return (invoke "sum16" (list.const)) (u64.const 0))
(assert_return (invoke "sum16" (list.const (u16.const 1) (u16.const 65535) (u16.const 2))) (u64.const 65538))
(assert_return (invoke "inner" (list.const)) (u32.const 0))
(assert_return (invoke "inner" (list.const (list.const) (list.const (u8.const 1) (u8.const 2)) (list.const (u8.const 3))))
  (u32.const 3))
(assert_return
  (invoke "people" (list.const
    (record.const (field "name" str.const "ada") (field "n" u32.const 1))
    (record.const (field "name" str.const "") (field "n" u32.const 2))
    (record.const (field "name" str.const "gr\u{e2}ce") (field "n" u32.const 3))))
  (u32.const 9006))
(assert_trap (invoke "oob") "list content out-of-bounds")
(component instance $l $Lists)
(assert_trap (invoke "huge") "list content out-of-bounds")
