;; The fused adapter of a call of this signature:
;;   (param "s" string) (result string)
;; callee (lift) options: string-encoding=latin1+utf16 (memory (core memory $m "mem")) (realloc (core func $m "realloc"))
;; caller (lower) options: string-encoding=utf16 (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))
(module
  (type (;0;) (func (param i32 i32 i32 i32) (result i32)))
  (type (;1;) (func (param i32 i32) (result i32)))
  (type (;2;) (func (param i32)))
  (type (;3;) (func (param i32 i32 i32) (result i64)))
  (type (;4;) (func (param i32 i32)))
  (type (;5;) (func (param i32 i32 i32)))
  (type (;6;) (func (param i32 i32) (result i32 i32)))
  (import "memory" "i1:mem" (memory (;0;) 0))
  (import "realloc" "i1:realloc" (func (;0;) (type 0) (param i32 i32 i32 i32) (result i32)))
  (import "flags" "instance2" (global (;0;) (mut i32)))
  (import "memory" "i0:mem" (memory (;1;) 0))
  (import "realloc" "i0:realloc" (func (;1;) (type 0) (param i32 i32 i32 i32) (result i32)))
  (import "flags" "instance1" (global (;1;) (mut i32)))
  (import "callee" "i0:f" (func (;2;) (type 1) (param i32 i32) (result i32)))
  (import "intrinsics" "trap" (func (;3;) (type 2) (param i32)))
  (import "intrinsics" "utf16-to-latin1 i1:mem -> i0:mem" (func (;4;) (type 3) (param i32 i32 i32) (result i64)))
  (import "intrinsics" "inflate-latin1 i0:mem -> i0:mem" (func (;5;) (type 4) (param i32 i32)))
  (import "intrinsics" "utf16-to-utf16 i1:mem -> i0:mem" (func (;6;) (type 5) (param i32 i32 i32)))
  (import "intrinsics" "utf16-to-utf16 i0:mem -> i1:mem" (func (;7;) (type 5) (param i32 i32 i32)))
  (import "intrinsics" "latin1-to-utf16 i0:mem -> i1:mem" (func (;8;) (type 5) (param i32 i32 i32)))
  (export "adapter0" (func 9))
  (func (;9;) (type 5) (param i32 i32 i32)
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
    call 10
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
    call 11
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
  )
  (func (;10;) (type 6) (param i32 i32) (result i32 i32)
    (local i32 i32 i32 i64 i32 i32 i32 i64 i32 i64 i32 i32 i32 i32 i32 i32)
    local.get 1
    local.set 2
    local.get 2
    i64.extend_i32_u
    i64.const 2
    i64.mul
    local.tee 5
    i64.const 2147483647
    i64.gt_u
    if ;; label = @1
      i32.const 43
      call 3
      unreachable
    end
    local.get 0
    i32.const 1
    i32.and
    if ;; label = @1
      i32.const 32
      call 3
      unreachable
    end
    local.get 0
    i64.extend_i32_u
    local.get 5
    i64.add
    memory.size
    i64.extend_i32_u
    i64.const 16
    i64.shl
    i64.gt_u
    if ;; label = @1
      i32.const 33
      call 3
      unreachable
    end
    i32.const 0
    i32.const 0
    i32.const 2
    local.get 2
    call 1
    local.set 6
    local.get 6
    i32.const 1
    i32.and
    if ;; label = @1
      i32.const 32
      call 3
      unreachable
    end
    local.get 6
    i64.extend_i32_u
    local.get 2
    i64.extend_i32_u
    i64.add
    memory.size 1
    i64.extend_i32_u
    i64.const 16
    i64.shl
    i64.gt_u
    if ;; label = @1
      i32.const 33
      call 3
      unreachable
    end
    local.get 0
    local.get 2
    local.get 6
    call 4
    local.tee 9
    i64.const 32
    i64.shr_u
    i32.wrap_i64
    local.set 7
    local.get 9
    i32.wrap_i64
    local.set 8
    local.get 7
    local.get 2
    i32.eq
    if ;; label = @1
      local.get 8
      local.get 2
      i32.lt_u
      if ;; label = @2
        local.get 6
        local.get 2
        i32.const 2
        local.get 8
        call 1
        local.set 10
        local.get 10
        i32.const 1
        i32.and
        if ;; label = @3
          i32.const 32
          call 3
          unreachable
        end
        local.get 10
        i64.extend_i32_u
        local.get 8
        i64.extend_i32_u
        i64.add
        memory.size 1
        i64.extend_i32_u
        i64.const 16
        i64.shl
        i64.gt_u
        if ;; label = @3
          i32.const 33
          call 3
          unreachable
        end
        local.get 10
        local.set 6
      end
      local.get 6
      local.set 3
      local.get 8
      local.set 4
    else
      local.get 2
      i64.extend_i32_u
      i64.const 2
      i64.mul
      local.tee 11
      i64.const 2147483647
      i64.gt_u
      if ;; label = @2
        i32.const 43
        call 3
        unreachable
      end
      local.get 11
      i32.wrap_i64
      local.set 12
      local.get 6
      local.get 2
      i32.const 2
      local.get 12
      call 1
      local.set 13
      local.get 13
      i32.const 1
      i32.and
      if ;; label = @2
        i32.const 32
        call 3
        unreachable
      end
      local.get 13
      i64.extend_i32_u
      local.get 12
      i64.extend_i32_u
      i64.add
      memory.size 1
      i64.extend_i32_u
      i64.const 16
      i64.shl
      i64.gt_u
      if ;; label = @2
        i32.const 33
        call 3
        unreachable
      end
      local.get 13
      local.set 6
      local.get 6
      local.get 8
      call 5
      local.get 2
      local.get 7
      i32.sub
      local.set 14
      local.get 0
      local.get 7
      i32.const 2
      i32.mul
      i32.add
      local.get 14
      local.get 6
      local.get 8
      i32.const 1
      i32.shl
      i32.add
      call 6
      local.get 14
      local.get 8
      i32.add
      local.set 15
      local.get 15
      i32.const 1
      i32.shl
      local.tee 16
      local.get 12
      i32.lt_u
      if ;; label = @2
        local.get 6
        local.get 12
        i32.const 2
        local.get 16
        call 1
        local.set 17
        local.get 17
        i32.const 1
        i32.and
        if ;; label = @3
          i32.const 32
          call 3
          unreachable
        end
        local.get 17
        i64.extend_i32_u
        local.get 16
        i64.extend_i32_u
        i64.add
        memory.size 1
        i64.extend_i32_u
        i64.const 16
        i64.shl
        i64.gt_u
        if ;; label = @3
          i32.const 33
          call 3
          unreachable
        end
        local.get 17
        local.set 6
      end
      local.get 6
      local.set 3
      local.get 15
      i32.const -2147483648
      i32.or
      local.set 4
    end
    local.get 3
    local.get 4
  )
  (func (;11;) (type 6) (param i32 i32) (result i32 i32)
    (local i32 i32 i32 i64 i64 i32 i32 i64 i64 i32 i32)
    local.get 1
    local.set 2
    local.get 1
    i32.const -2147483648
    i32.and
    if ;; label = @1
      local.get 1
      i32.const -2147483648
      i32.xor
      local.set 2
      local.get 2
      i64.extend_i32_u
      i64.const 2
      i64.mul
      local.tee 5
      i64.const 2147483647
      i64.gt_u
      if ;; label = @2
        i32.const 43
        call 3
        unreachable
      end
      local.get 0
      i32.const 1
      i32.and
      if ;; label = @2
        i32.const 32
        call 3
        unreachable
      end
      local.get 0
      i64.extend_i32_u
      local.get 5
      i64.add
      memory.size 1
      i64.extend_i32_u
      i64.const 16
      i64.shl
      i64.gt_u
      if ;; label = @2
        i32.const 33
        call 3
        unreachable
      end
      local.get 2
      i64.extend_i32_u
      i64.const 2
      i64.mul
      local.tee 6
      i64.const 2147483647
      i64.gt_u
      if ;; label = @2
        i32.const 43
        call 3
        unreachable
      end
      local.get 6
      i32.wrap_i64
      local.set 7
      i32.const 0
      i32.const 0
      i32.const 2
      local.get 7
      call 0
      local.set 8
      local.get 8
      i32.const 1
      i32.and
      if ;; label = @2
        i32.const 32
        call 3
        unreachable
      end
      local.get 8
      i64.extend_i32_u
      local.get 7
      i64.extend_i32_u
      i64.add
      memory.size
      i64.extend_i32_u
      i64.const 16
      i64.shl
      i64.gt_u
      if ;; label = @2
        i32.const 33
        call 3
        unreachable
      end
      local.get 0
      local.get 2
      local.get 8
      call 7
      local.get 8
      local.set 3
      local.get 2
      local.set 4
    else
      local.get 2
      i64.extend_i32_u
      local.tee 9
      i64.const 2147483647
      i64.gt_u
      if ;; label = @2
        i32.const 43
        call 3
        unreachable
      end
      local.get 0
      i32.const 1
      i32.and
      if ;; label = @2
        i32.const 32
        call 3
        unreachable
      end
      local.get 0
      i64.extend_i32_u
      local.get 9
      i64.add
      memory.size 1
      i64.extend_i32_u
      i64.const 16
      i64.shl
      i64.gt_u
      if ;; label = @2
        i32.const 33
        call 3
        unreachable
      end
      local.get 2
      i64.extend_i32_u
      i64.const 2
      i64.mul
      local.tee 10
      i64.const 2147483647
      i64.gt_u
      if ;; label = @2
        i32.const 43
        call 3
        unreachable
      end
      local.get 10
      i32.wrap_i64
      local.set 11
      i32.const 0
      i32.const 0
      i32.const 2
      local.get 11
      call 0
      local.set 12
      local.get 12
      i32.const 1
      i32.and
      if ;; label = @2
        i32.const 32
        call 3
        unreachable
      end
      local.get 12
      i64.extend_i32_u
      local.get 11
      i64.extend_i32_u
      i64.add
      memory.size
      i64.extend_i32_u
      i64.const 16
      i64.shl
      i64.gt_u
      if ;; label = @2
        i32.const 33
        call 3
        unreachable
      end
      local.get 0
      local.get 2
      local.get 12
      call 8
      local.get 12
      local.set 3
      local.get 2
      local.set 4
    end
    local.get 3
    local.get 4
  )
)
