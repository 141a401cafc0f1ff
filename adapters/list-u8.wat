;; The fused adapter of a call of this signature:
;;   (param "x" (list u8)) (result (list u8))
;; callee (lift) options: string-encoding=utf8 (memory (core memory $m "mem")) (realloc (core func $m "realloc")) (post-return (core func $m "post"))
;; caller (lower) options: string-encoding=utf8 (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))
(module
  (type (;0;) (func (param i32 i32 i32 i32) (result i32)))
  (type (;1;) (func (param i32 i32) (result i32)))
  (type (;2;) (func (param i32)))
  (type (;3;) (func (param i32 i32) (result i32 i32)))
  (type (;4;) (func (param i32 i32 i32)))
  (import "memory" "i1:mem" (memory (;0;) 0))
  (import "realloc" "i1:realloc" (func (;0;) (type 0) (param i32 i32 i32 i32) (result i32)))
  (import "flags" "instance2" (global (;0;) (mut i32)))
  (import "memory" "i0:mem" (memory (;1;) 0))
  (import "realloc" "i0:realloc" (func (;1;) (type 0) (param i32 i32 i32 i32) (result i32)))
  (import "flags" "instance1" (global (;1;) (mut i32)))
  (import "callee" "i0:f" (func (;2;) (type 1) (param i32 i32) (result i32)))
  (import "intrinsics" "trap" (func (;3;) (type 2) (param i32)))
  (import "post-return" "i0:post" (func (;4;) (type 2) (param i32)))
  (export "adapter0" (func 5))
  (func (;5;) (type 4) (param i32 i32 i32)
    (local i32 i32 i32 i32 i32 i32 i32)
    global.get 0
    i32.const 1
    i32.and
    i32.eqz
    if ;; label = @1
      i32.const 37
      call 3
      unreachable
    end
    global.get 1
    i32.const -2
    i32.and
    global.set 1
    local.get 0
    local.get 1
    call 6
    local.set 4
    local.set 3
    global.get 1
    i32.const 1
    i32.or
    global.set 1
    local.get 3
    local.get 4
    call 2
    local.set 5
    global.get 0
    i32.const -2
    i32.and
    global.set 0
    local.get 5
    i32.const 3
    i32.and
    if ;; label = @1
      i32.const 32
      call 3
      unreachable
    end
    local.get 5
    i64.extend_i32_u
    i64.const 8
    i64.add
    memory.size 1
    i64.extend_i32_u
    i64.const 16
    i64.shl
    i64.gt_u
    if ;; label = @1
      i32.const 2
      call 3
      unreachable
    end
    local.get 2
    i32.const 3
    i32.and
    if ;; label = @1
      i32.const 32
      call 3
      unreachable
    end
    local.get 2
    i64.extend_i32_u
    i64.const 8
    i64.add
    memory.size
    i64.extend_i32_u
    i64.const 16
    i64.shl
    i64.gt_u
    if ;; label = @1
      i32.const 2
      call 3
      unreachable
    end
    local.get 5
    i32.load 1
    local.set 6
    local.get 5
    i32.load 1 offset=4
    local.set 7
    local.get 6
    local.get 7
    call 7
    local.set 9
    local.set 8
    local.get 2
    local.get 8
    i32.store
    local.get 2
    local.get 9
    i32.store offset=4
    global.get 0
    i32.const 1
    i32.or
    global.set 0
    global.get 1
    i32.const -2
    i32.and
    global.set 1
    local.get 5
    call 4
    global.get 1
    i32.const 1
    i32.or
    global.set 1
  )
  (func (;6;) (type 3) (param i32 i32) (result i32 i32)
    (local i64 i32 i32)
    local.get 1
    i64.extend_i32_u
    i64.const 1
    i64.mul
    local.set 2
    local.get 0
    i64.extend_i32_u
    local.get 2
    i64.add
    memory.size
    i64.extend_i32_u
    i64.const 16
    i64.shl
    i64.gt_u
    if ;; label = @1
      i32.const 34
      call 3
      unreachable
    end
    local.get 2
    i32.wrap_i64
    local.set 3
    i32.const 0
    i32.const 0
    i32.const 1
    local.get 3
    call 1
    local.set 4
    local.get 4
    i64.extend_i32_u
    local.get 3
    i64.extend_i32_u
    i64.add
    memory.size 1
    i64.extend_i32_u
    i64.const 16
    i64.shl
    i64.gt_u
    if ;; label = @1
      i32.const 34
      call 3
      unreachable
    end
    local.get 4
    local.get 0
    local.get 3
    memory.copy 1 0
    local.get 4
    local.get 1
  )
  (func (;7;) (type 3) (param i32 i32) (result i32 i32)
    (local i64 i32 i32)
    local.get 1
    i64.extend_i32_u
    i64.const 1
    i64.mul
    local.set 2
    local.get 0
    i64.extend_i32_u
    local.get 2
    i64.add
    memory.size 1
    i64.extend_i32_u
    i64.const 16
    i64.shl
    i64.gt_u
    if ;; label = @1
      i32.const 34
      call 3
      unreachable
    end
    local.get 2
    i32.wrap_i64
    local.set 3
    i32.const 0
    i32.const 0
    i32.const 1
    local.get 3
    call 0
    local.set 4
    local.get 4
    i64.extend_i32_u
    local.get 3
    i64.extend_i32_u
    i64.add
    memory.size
    i64.extend_i32_u
    i64.const 16
    i64.shl
    i64.gt_u
    if ;; label = @1
      i32.const 34
      call 3
      unreachable
    end
    local.get 4
    local.get 0
    local.get 3
    memory.copy 0 1
    local.get 4
    local.get 1
  )
)
