;; The fused adapter of a call of this signature:
;;   (param "x" f64) (result f64)
;; callee (lift) options: string-encoding=utf8 (memory (core memory $m "mem")) (realloc (core func $m "realloc")) (post-return (core func $m "post"))
;; caller (lower) options: string-encoding=utf8 (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))
(module
  (type (;0;) (func (param i32 i32 i32 i32) (result i32)))
  (type (;1;) (func (param f64) (result f64)))
  (type (;2;) (func (param i32)))
  (type (;3;) (func (param f64)))
  (import "memory" "i1:mem" (memory (;0;) 0))
  (import "realloc" "i1:realloc" (func (;0;) (type 0) (param i32 i32 i32 i32) (result i32)))
  (import "flags" "instance2" (global (;0;) (mut i32)))
  (import "memory" "i0:mem" (memory (;1;) 0))
  (import "realloc" "i0:realloc" (func (;1;) (type 0) (param i32 i32 i32 i32) (result i32)))
  (import "flags" "instance1" (global (;1;) (mut i32)))
  (import "callee" "i0:f" (func (;2;) (type 1) (param f64) (result f64)))
  (import "intrinsics" "trap" (func (;3;) (type 2) (param i32)))
  (import "post-return" "i0:post" (func (;4;) (type 3) (param f64)))
  (export "adapter0" (func 5))
  (func (;5;) (type 1) (param f64) (result f64)
    (local f64 f64 f64)
    global.get 0
    i32.const 1
    i32.and
    i32.eqz
    if ;; label = @1
      i32.const 37
      call 3
      unreachable
    end
    local.get 0
    local.set 1
    local.get 1
    call 2
    local.set 2
    local.get 2
    local.set 3
    global.get 1
    i32.const -2
    i32.and
    global.set 1
    local.get 2
    call 4
    global.get 1
    i32.const 1
    i32.or
    global.set 1
    local.get 3
  )
)
