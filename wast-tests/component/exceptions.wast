;; Exceptions may not leave a component instance: every place the canonical ABI calls
;; guest code — the lifted callee, `realloc`, `post-return`, from the host or from a fused
;; adapter — turns an exception that escapes into a trap. Inside an instance exceptions
;; work as in core wasm.

;; From the host: a lifted export throws, or catches its own exception.
(component
  (core module $M
    (tag $t (param i32))
    (func (export "throw") (throw $t (i32.const 1)))
    (func (export "catch") (result i32)
      (block $h (result i32)
        (try_table (catch $t $h) (throw $t (i32.const 6)))
        (i32.const -1))))
  (core instance $m (instantiate $M))
  (func (export "throw") (canon lift (core func $m "throw")))
  (func (export "catch") (result u32) (canon lift (core func $m "catch"))))
(assert_return (invoke "catch") (u32.const 6))
(assert_trap (invoke "throw") "uncaught exception leaving component instance")

;; Through a fused adapter: the callee's exception does not reach the caller's
;; `catch_all`, it traps in the adapter; an exception the callee catches itself is fine.
(component
  (component $Callee
    (core module $M
      (tag $t)
      (func (export "throw") (result i32) (throw $t))
      (func (export "catch") (result i32)
        (block $h (try_table (catch_all $h) (throw $t)))
        (i32.const 9)))
    (core instance $m (instantiate $M))
    (func (export "throw") (result u32) (canon lift (core func $m "throw")))
    (func (export "catch") (result u32) (canon lift (core func $m "catch"))))
  (component $Caller
    (import "throw" (func $throw (result u32)))
    (import "catch" (func $catch (result u32)))
    (core func $throw (canon lower (func $throw)))
    (core func $catch (canon lower (func $catch)))
    (core module $N
      (import "" "throw" (func $throw (result i32)))
      (import "" "catch" (func $catch (result i32)))
      (func (export "try-throw") (result i32)
        (block $h (try_table (catch_all $h) (return (call $throw))))
        (i32.const -1))
      (func (export "try-catch") (result i32)
        (block $h (try_table (catch_all $h) (return (call $catch))))
        (i32.const -1)))
    (core instance $n (instantiate $N
      (with "" (instance (export "throw" (func $throw)) (export "catch" (func $catch))))))
    (func (export "try-throw") (result u32) (canon lift (core func $n "try-throw")))
    (func (export "try-catch") (result u32) (canon lift (core func $n "try-catch"))))
  (instance $a (instantiate $Callee))
  (instance $b (instantiate $Caller (with "throw" (func $a "throw")) (with "catch" (func $a "catch"))))
  (export "try-throw" (func $b "try-throw"))
  (export "try-catch" (func $b "try-catch")))
(assert_return (invoke "try-catch") (u32.const 9))
(assert_trap (invoke "try-throw") "uncaught exception leaving component instance")

;; `realloc` throws while the host lowers a string argument.
(component
  (core module $M
    (tag $t)
    (memory (export "mem") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (throw $t))
    (func (export "len") (param i32 i32) (result i32) (local.get 1)))
  (core instance $m (instantiate $M))
  (func (export "len") (param "s" string) (result u32)
    (canon lift (core func $m "len")
      (memory (core memory $m "mem")) (realloc (core func $m "realloc")))))
(assert_trap (invoke "len" (str.const "hi")) "uncaught exception leaving component instance")

;; `realloc` throws while an adapter lowers a string into the callee.
(component
  (component $Callee
    (core module $M
      (tag $t)
      (memory (export "mem") 1)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) (throw $t))
      (func (export "len") (param i32 i32) (result i32) (local.get 1)))
    (core instance $m (instantiate $M))
    (func (export "len") (param "s" string) (result u32)
      (canon lift (core func $m "len")
        (memory (core memory $m "mem")) (realloc (core func $m "realloc")))))
  (component $Caller
    (import "len" (func $len (param "s" string) (result u32)))
    (core module $Mem (memory (export "mem") 1) (data (i32.const 0) "hello"))
    (core instance $mem (instantiate $Mem))
    (core func $len (canon lower (func $len) (memory (core memory $mem "mem"))))
    (core module $N
      (import "" "len" (func $len (param i32 i32) (result i32)))
      (func (export "go") (result i32) (call $len (i32.const 0) (i32.const 5))))
    (core instance $n (instantiate $N (with "" (instance (export "len" (func $len))))))
    (func (export "go") (result u32) (canon lift (core func $n "go"))))
  (instance $a (instantiate $Callee))
  (instance $b (instantiate $Caller (with "len" (func $a "len"))))
  (export "go" (func $b "go")))
(assert_trap (invoke "go") "uncaught exception leaving component instance")

;; `post-return` throws, called by the host and by an adapter.
(component
  (component $Callee
    (core module $M
      (tag $t)
      (func (export "five") (result i32) (i32.const 5))
      (func (export "post") (param i32) (throw $t)))
    (core instance $m (instantiate $M))
    (func (export "five") (result u32)
      (canon lift (core func $m "five") (post-return (core func $m "post")))))
  (component $Caller
    (import "five" (func $five (result u32)))
    (core func $five (canon lower (func $five)))
    (core module $N
      (import "" "five" (func $five (result i32)))
      (func (export "go") (result i32) (call $five)))
    (core instance $n (instantiate $N (with "" (instance (export "five" (func $five))))))
    (func (export "go") (result u32) (canon lift (core func $n "go"))))
  (instance $a (instantiate $Callee))
  (instance $b (instantiate $Caller (with "five" (func $a "five"))))
  (export "direct" (func $a "five"))
  (export "go" (func $b "go")))
(assert_trap (invoke "go") "uncaught exception leaving component instance")

(component
  (core module $M
    (tag $t)
    (func (export "five") (result i32) (i32.const 5))
    (func (export "post") (param i32) (throw $t)))
  (core instance $m (instantiate $M))
  (func (export "five") (result u32)
    (canon lift (core func $m "five") (post-return (core func $m "post")))))
(assert_trap (invoke "five") "uncaught exception leaving component instance")
