;; The canonical ABI's string length limits trap before the destination's `realloc` is
;; called (the callee's `realloc` here is `unreachable`), in the order of
;; `load_string_from_range` and `store_string`: the source's byte length, then the
;; destination's size. Each caller's memory is 2 GiB and 64 KiB (reserved, not touched),
;; so the source strings lie inside it.

;; a utf8 source of 2^31 bytes
(component
  (component $Callee
    (core module $M
      (memory (export "mem") 1)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) unreachable)
      (func (export "len") (param i32 i32) (result i32) (local.get 1)))
    (core instance $m (instantiate $M))
    (func (export "len") (param "s" string) (result u32)
      (canon lift (core func $m "len") string-encoding=utf8
        (memory (core memory $m "mem")) (realloc (core func $m "realloc")))))
  (component $Caller
    (import "len" (func $len (param "s" string) (result u32)))
    (core module $Mem (memory (export "mem") 32769))
    (core instance $mem (instantiate $Mem))
    (core func $len (canon lower (func $len) string-encoding=utf8 (memory (core memory $mem "mem"))))
    (core module $N
      (import "" "len" (func $len (param i32 i32) (result i32)))
      (func (export "go") (result i32) (call $len (i32.const 0) (i32.const 0x80000000))))
    (core instance $n (instantiate $N (with "" (instance (export "len" (func $len))))))
    (func (export "go") (result u32) (canon lift (core func $n "go"))))
  (instance $a (instantiate $Callee))
  (instance $b (instantiate $Caller (with "len" (func $a "len"))))
  (export "go" (func $b "go")))
(assert_trap (invoke "go") "string length")

;; the same into latin1+utf16
(component
  (component $Callee
    (core module $M
      (memory (export "mem") 1)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) unreachable)
      (func (export "len") (param i32 i32) (result i32) (local.get 1)))
    (core instance $m (instantiate $M))
    (func (export "len") (param "s" string) (result u32)
      (canon lift (core func $m "len") string-encoding=latin1+utf16
        (memory (core memory $m "mem")) (realloc (core func $m "realloc")))))
  (component $Caller
    (import "len" (func $len (param "s" string) (result u32)))
    (core module $Mem (memory (export "mem") 32769))
    (core instance $mem (instantiate $Mem))
    (core func $len (canon lower (func $len) string-encoding=utf8 (memory (core memory $mem "mem"))))
    (core module $N
      (import "" "len" (func $len (param i32 i32) (result i32)))
      (func (export "go") (result i32) (call $len (i32.const 0) (i32.const 0x80000000))))
    (core instance $n (instantiate $N (with "" (instance (export "len" (func $len))))))
    (func (export "go") (result u32) (canon lift (core func $n "go"))))
  (instance $a (instantiate $Callee))
  (instance $b (instantiate $Caller (with "len" (func $a "len"))))
  (export "go" (func $b "go")))
(assert_trap (invoke "go") "string length")

;; a utf16 source of 2^30 code units (2^31 bytes)
(component
  (component $Callee
    (core module $M
      (memory (export "mem") 1)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) unreachable)
      (func (export "len") (param i32 i32) (result i32) (local.get 1)))
    (core instance $m (instantiate $M))
    (func (export "len") (param "s" string) (result u32)
      (canon lift (core func $m "len") string-encoding=utf8
        (memory (core memory $m "mem")) (realloc (core func $m "realloc")))))
  (component $Caller
    (import "len" (func $len (param "s" string) (result u32)))
    (core module $Mem (memory (export "mem") 32769))
    (core instance $mem (instantiate $Mem))
    (core func $len (canon lower (func $len) string-encoding=utf16 (memory (core memory $mem "mem"))))
    (core module $N
      (import "" "len" (func $len (param i32 i32) (result i32)))
      (func (export "go") (result i32) (call $len (i32.const 0) (i32.const 0x40000000))))
    (core instance $n (instantiate $N (with "" (instance (export "len" (func $len))))))
    (func (export "go") (result u32) (canon lift (core func $n "go"))))
  (instance $a (instantiate $Callee))
  (instance $b (instantiate $Caller (with "len" (func $a "len"))))
  (export "go" (func $b "go")))
(assert_trap (invoke "go") "string length")

;; a tagged latin1+utf16 source of 2^30 utf16 units
(component
  (component $Callee
    (core module $M
      (memory (export "mem") 1)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) unreachable)
      (func (export "len") (param i32 i32) (result i32) (local.get 1)))
    (core instance $m (instantiate $M))
    (func (export "len") (param "s" string) (result u32)
      (canon lift (core func $m "len") string-encoding=utf8
        (memory (core memory $m "mem")) (realloc (core func $m "realloc")))))
  (component $Caller
    (import "len" (func $len (param "s" string) (result u32)))
    (core module $Mem (memory (export "mem") 32769))
    (core instance $mem (instantiate $Mem))
    (core func $len (canon lower (func $len) string-encoding=latin1+utf16 (memory (core memory $mem "mem"))))
    (core module $N
      (import "" "len" (func $len (param i32 i32) (result i32)))
      (func (export "go") (result i32) (call $len (i32.const 0) (i32.const 0xc0000000))))
    (core instance $n (instantiate $N (with "" (instance (export "len" (func $len))))))
    (func (export "go") (result u32) (canon lift (core func $n "go"))))
  (instance $a (instantiate $Callee))
  (instance $b (instantiate $Caller (with "len" (func $a "len"))))
  (export "go" (func $b "go")))
(assert_trap (invoke "go") "string length")

;; utf8 into utf16: a worst case of 2^31 bytes
(component
  (component $Callee
    (core module $M
      (memory (export "mem") 1)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) unreachable)
      (func (export "len") (param i32 i32) (result i32) (local.get 1)))
    (core instance $m (instantiate $M))
    (func (export "len") (param "s" string) (result u32)
      (canon lift (core func $m "len") string-encoding=utf16
        (memory (core memory $m "mem")) (realloc (core func $m "realloc")))))
  (component $Caller
    (import "len" (func $len (param "s" string) (result u32)))
    (core module $Mem (memory (export "mem") 32769))
    (core instance $mem (instantiate $Mem))
    (core func $len (canon lower (func $len) string-encoding=utf8 (memory (core memory $mem "mem"))))
    (core module $N
      (import "" "len" (func $len (param i32 i32) (result i32)))
      (func (export "go") (result i32) (call $len (i32.const 0) (i32.const 0x40000000))))
    (core instance $n (instantiate $N (with "" (instance (export "len" (func $len))))))
    (func (export "go") (result u32) (canon lift (core func $n "go"))))
  (instance $a (instantiate $Callee))
  (instance $b (instantiate $Caller (with "len" (func $a "len"))))
  (export "go" (func $b "go")))
(assert_trap (invoke "go") "string length")

;; latin1 into utf16: 2^31 bytes
(component
  (component $Callee
    (core module $M
      (memory (export "mem") 1)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) unreachable)
      (func (export "len") (param i32 i32) (result i32) (local.get 1)))
    (core instance $m (instantiate $M))
    (func (export "len") (param "s" string) (result u32)
      (canon lift (core func $m "len") string-encoding=utf16
        (memory (core memory $m "mem")) (realloc (core func $m "realloc")))))
  (component $Caller
    (import "len" (func $len (param "s" string) (result u32)))
    (core module $Mem (memory (export "mem") 32769))
    (core instance $mem (instantiate $Mem))
    (core func $len (canon lower (func $len) string-encoding=latin1+utf16 (memory (core memory $mem "mem"))))
    (core module $N
      (import "" "len" (func $len (param i32 i32) (result i32)))
      (func (export "go") (result i32) (call $len (i32.const 0) (i32.const 0x40000000))))
    (core instance $n (instantiate $N (with "" (instance (export "len" (func $len))))))
    (func (export "go") (result u32) (canon lift (core func $n "go"))))
  (instance $a (instantiate $Callee))
  (instance $b (instantiate $Caller (with "len" (func $a "len"))))
  (export "go" (func $b "go")))
(assert_trap (invoke "go") "string length")
