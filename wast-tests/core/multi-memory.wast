;; Several memories in one instance (the adapter modules rely on these): loads and stores,
;; sizes and growth, data segments, and bulk operations between memories, with imported
;; and defined memories mixed.

(module $a (memory (export "shared") 1 3))
(register "a" $a)

(module
  (memory $imported (import "a" "shared") 1 3)
  (memory $small 1 1)
  (memory $big 2)
  (data (memory $small) (i32.const 0) "small")
  (data (memory $big) (i32.const 65536) "big!")
  (data $passive "passive")

  (func (export "load_small") (param i32) (result i32) (i32.load8_u $small (local.get 0)))
  (func (export "load_big") (param i32) (result i32) (i32.load8_u $big (local.get 0)))
  (func (export "load_imported") (param i32) (result i32) (i32.load8_u $imported (local.get 0)))
  (func (export "store_big") (param i32 i32) (i32.store $big (local.get 0) (local.get 1)))
  (func (export "sizes") (result i32 i32 i32)
    (memory.size $imported) (memory.size $small) (memory.size $big))
  (func (export "grow_big") (param i32) (result i32) (memory.grow $big (local.get 0)))
  (func (export "grow_small") (param i32) (result i32) (memory.grow $small (local.get 0)))
  (func (export "copy_small_to_big") (param i32 i32 i32)
    (memory.copy $big $small (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy_big_to_imported") (param i32 i32 i32)
    (memory.copy $imported $big (local.get 0) (local.get 1) (local.get 2)))
  (func (export "fill_big") (param i32 i32 i32)
    (memory.fill $big (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init_imported") (param i32 i32 i32)
    (memory.init $imported $passive (local.get 0) (local.get 1) (local.get 2)))
)

(assert_return (invoke "sizes") (i32.const 1) (i32.const 1) (i32.const 2))
(assert_return (invoke "load_small" (i32.const 0)) (i32.const 0x73))
(assert_return (invoke "load_big" (i32.const 65536)) (i32.const 0x62))
(assert_return (invoke "load_big" (i32.const 0)) (i32.const 0))

;; Copies between memories.
(invoke "copy_small_to_big" (i32.const 100) (i32.const 0) (i32.const 5))
(assert_return (invoke "load_big" (i32.const 104)) (i32.const 0x6c))
(invoke "copy_big_to_imported" (i32.const 7) (i32.const 65536) (i32.const 4))
(assert_return (invoke "load_imported" (i32.const 10)) (i32.const 0x21))
(assert_trap (invoke "copy_small_to_big" (i32.const 0) (i32.const 65535) (i32.const 2))
  "out of bounds memory access")
(assert_trap (invoke "copy_small_to_big" (i32.const 131071) (i32.const 0) (i32.const 2))
  "out of bounds memory access")

;; Each memory grows on its own, within its own limits.
(assert_return (invoke "grow_big" (i32.const 2)) (i32.const 2))
(assert_return (invoke "grow_small" (i32.const 1)) (i32.const -1))
(assert_return (invoke "sizes") (i32.const 1) (i32.const 1) (i32.const 4))
(invoke "store_big" (i32.const 262140) (i32.const 0x01020304))
(assert_return (invoke "load_big" (i32.const 262143)) (i32.const 1))
(assert_trap (invoke "store_big" (i32.const 262141) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "load_small" (i32.const 65536)) "out of bounds memory access")

;; fill and init.
(invoke "fill_big" (i32.const 1000) (i32.const 0xab) (i32.const 3))
(assert_return (invoke "load_big" (i32.const 1002)) (i32.const 0xab))
(assert_return (invoke "load_big" (i32.const 1003)) (i32.const 0))
(invoke "init_imported" (i32.const 200) (i32.const 2) (i32.const 3))
(assert_return (invoke "load_imported" (i32.const 200)) (i32.const 0x73))
(assert_trap (invoke "init_imported" (i32.const 0) (i32.const 5) (i32.const 3))
  "out of bounds memory access")

;; The imported memory is shared with its owner.
(module
  (memory (import "a" "shared") 1)
  (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0))))
(assert_return (invoke "peek" (i32.const 10)) (i32.const 0x21))
