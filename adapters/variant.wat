;; The fused adapter of a call of this signature:
;;   (param "x" $v) (result $v)
;; type v: (variant (case "a" u8) (case "b" f32) (case "c" string) (case "d") (case "e" s64))
;; callee (lift) options: string-encoding=utf8 (memory (core memory $m "mem")) (realloc (core func $m "realloc")) (post-return (core func $m "post"))
;; caller (lower) options: string-encoding=utf8 (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))
(module
  (type (;0;) (func (param i32 i32 i32 i32) (result i32)))
  (type (;1;) (func (param i32 i64 i32) (result i32)))
  (type (;2;) (func (param i32)))
  (type (;3;) (func (param i32 i32 i32)))
  (type (;4;) (func (param i32 i32) (result i32 i32)))
  (type (;5;) (func (param i32 i32)))
  (type (;6;) (func (param i32 i64 i32 i32)))
  (import "memory" "i1:mem" (memory (;0;) 0))
  (import "realloc" "i1:realloc" (func (;0;) (type 0) (param i32 i32 i32 i32) (result i32)))
  (import "flags" "instance2" (global (;0;) (mut i32)))
  (import "memory" "i0:mem" (memory (;1;) 0))
  (import "realloc" "i0:realloc" (func (;1;) (type 0) (param i32 i32 i32 i32) (result i32)))
  (import "flags" "instance1" (global (;1;) (mut i32)))
  (import "callee" "i0:f" (func (;2;) (type 1) (param i32 i64 i32) (result i32)))
  (import "intrinsics" "trap" (func (;3;) (type 2) (param i32)))
  (import "intrinsics" "utf8-to-utf8 i1:mem -> i0:mem" (func (;4;) (type 3) (param i32 i32 i32)))
  (import "intrinsics" "utf8-to-utf8 i0:mem -> i1:mem" (func (;5;) (type 3) (param i32 i32 i32)))
  (import "post-return" "i0:post" (func (;6;) (type 2) (param i32)))
  (export "adapter0" (func 7))
  (func (;7;) (type 6) (param i32 i64 i32 i32)
    (local i32 i64 i32 i32 i32 i32 f32 f32 i32 i32 i32 i32 i64 i64 i32)
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
    local.tee 7
    i32.const 5
    i32.ge_u
    if ;; label = @1
      i32.const 36
      call 3
      unreachable
    end
    local.get 7
    local.set 4
    i64.const 0
    local.set 5
    i32.const 0
    local.set 6
    block ;; label = @1
      block ;; label = @2
        block ;; label = @3
          block ;; label = @4
            block ;; label = @5
              block ;; label = @6
                local.get 7
                br_table 0 (;@6;) 1 (;@5;) 2 (;@4;) 3 (;@3;) 4 (;@2;) 4 (;@2;)
              end
              local.get 1
              i32.wrap_i64
              local.set 8
              local.get 8
              i32.const 255
              i32.and
              local.set 9
              local.get 9
              i64.extend_i32_u
              local.set 5
              br 4 (;@1;)
            end
            local.get 1
            i32.wrap_i64
            f32.reinterpret_i32
            local.set 10
            local.get 10
            local.set 11
            local.get 11
            i32.reinterpret_f32
            i64.extend_i32_u
            local.set 5
            br 3 (;@1;)
          end
          local.get 1
          i32.wrap_i64
          local.set 12
          local.get 2
          local.set 13
          local.get 12
          local.get 13
          call 8
          local.set 15
          local.set 14
          local.get 14
          i64.extend_i32_u
          local.set 5
          local.get 15
          local.set 6
          br 2 (;@1;)
        end
        br 1 (;@1;)
      end
      local.get 1
      local.set 16
      local.get 16
      local.set 17
      local.get 17
      local.set 5
    end
    global.get 1
    i32.const 1
    i32.or
    global.set 1
    local.get 4
    local.get 5
    local.get 6
    call 2
    local.set 18
    global.get 0
    i32.const -2
    i32.and
    global.set 0
    local.get 18
    i32.const 7
    i32.and
    if ;; label = @1
      i32.const 32
      call 3
      unreachable
    end
    local.get 18
    i64.extend_i32_u
    i64.const 16
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
    local.get 3
    i32.const 7
    i32.and
    if ;; label = @1
      i32.const 32
      call 3
      unreachable
    end
    local.get 3
    i64.extend_i32_u
    i64.const 16
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
    local.get 18
    local.get 3
    call 9
    global.get 0
    i32.const 1
    i32.or
    global.set 0
    global.get 1
    i32.const -2
    i32.and
    global.set 1
    local.get 18
    call 6
    global.get 1
    i32.const 1
    i32.or
    global.set 1
  )
  (func (;8;) (type 4) (param i32 i32) (result i32 i32)
    (local i32 i32 i32 i64 i64 i32 i32)
    local.get 1
    local.set 2
    local.get 2
    i64.extend_i32_u
    local.tee 5
    i64.const 2147483647
    i64.gt_u
    if ;; label = @1
      i32.const 43
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
    local.get 2
    i64.extend_i32_u
    local.tee 6
    i64.const 2147483647
    i64.gt_u
    if ;; label = @1
      i32.const 43
      call 3
      unreachable
    end
    local.get 6
    i32.wrap_i64
    local.set 7
    i32.const 0
    i32.const 0
    i32.const 1
    local.get 7
    call 1
    local.set 8
    local.get 8
    i64.extend_i32_u
    local.get 7
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
    local.get 8
    call 4
    local.get 8
    local.set 3
    local.get 2
    local.set 4
    local.get 3
    local.get 4
  )
  (func (;9;) (type 5) (param i32 i32)
    (local i32 i32 i32 i32 i32)
    local.get 0
    i32.load8_u 1
    local.tee 2
    i32.const 5
    i32.ge_u
    if ;; label = @1
      i32.const 36
      call 3
      unreachable
    end
    local.get 1
    local.get 2
    i32.store8
    block ;; label = @1
      block ;; label = @2
        block ;; label = @3
          block ;; label = @4
            block ;; label = @5
              block ;; label = @6
                local.get 2
                br_table 0 (;@6;) 1 (;@5;) 2 (;@4;) 3 (;@3;) 4 (;@2;) 4 (;@2;)
              end
              local.get 1
              local.get 0
              i32.load8_u 1 offset=8
              i32.store8 offset=8
              br 4 (;@1;)
            end
            local.get 1
            local.get 0
            f32.load 1 offset=8
            f32.store offset=8
            br 3 (;@1;)
          end
          local.get 0
          i32.load 1 offset=8
          local.set 3
          local.get 0
          i32.load 1 offset=12
          local.set 4
          local.get 3
          local.get 4
          call 10
          local.set 6
          local.set 5
          local.get 1
          local.get 5
          i32.store offset=8
          local.get 1
          local.get 6
          i32.store offset=12
          br 2 (;@1;)
        end
        br 1 (;@1;)
      end
      local.get 1
      local.get 0
      i64.load 1 offset=8
      i64.store offset=8
    end
  )
  (func (;10;) (type 4) (param i32 i32) (result i32 i32)
    (local i32 i32 i32 i64 i64 i32 i32)
    local.get 1
    local.set 2
    local.get 2
    i64.extend_i32_u
    local.tee 5
    i64.const 2147483647
    i64.gt_u
    if ;; label = @1
      i32.const 43
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
    if ;; label = @1
      i32.const 33
      call 3
      unreachable
    end
    local.get 2
    i64.extend_i32_u
    local.tee 6
    i64.const 2147483647
    i64.gt_u
    if ;; label = @1
      i32.const 43
      call 3
      unreachable
    end
    local.get 6
    i32.wrap_i64
    local.set 7
    i32.const 0
    i32.const 0
    i32.const 1
    local.get 7
    call 0
    local.set 8
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
    if ;; label = @1
      i32.const 33
      call 3
      unreachable
    end
    local.get 0
    local.get 2
    local.get 8
    call 5
    local.get 8
    local.set 3
    local.get 2
    local.set 4
    local.get 3
    local.get 4
  )
)
