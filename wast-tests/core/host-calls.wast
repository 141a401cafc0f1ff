;; Traps and host errors that cross host frames. `assert_trap` matches its message
;; against the whole error, which includes the wasm backtrace, so these scripts also check
;; that backtraces name the frames on both sides of a host call (`module!function`).

(module $m
  (import "fact" "call" (func $call (param funcref)))
  (import "fact" "fail" (func $fail (param i32)))
  (func $inner unreachable)
  (func $middle (call $call (ref.func $inner)))
  (func $outer (export "outer") (call $middle))
  (func $host_err (export "host_err") (call $fail (i32.const 7)))
  (func $nested_err (export "nested_err") (call $call (ref.func $host_err)))
  (func $fine (export "fine") (result i32) (i32.const 1))
  (elem declare func $inner $host_err)
)

;; The trap itself, and frames inside and outside the host call.
(assert_trap (invoke "outer") "unreachable")
(assert_trap (invoke "outer") "m!inner")
(assert_trap (invoke "outer") "m!middle")
(assert_trap (invoke "outer") "m!outer")

;; A host function's error comes back with the wasm frames that called it.
(assert_trap (invoke "host_err") "host failure 7")
(assert_trap (invoke "host_err") "m!host_err")
(assert_trap (invoke "nested_err") "host failure 7")
(assert_trap (invoke "nested_err") "m!nested_err")

;; Nothing is left behind: the instance keeps working.
(assert_return (invoke "fine") (i32.const 1))

;; A trap in a function reached through a table from another module.
(module $lib
  (table (export "t") 1 funcref)
  (func $boom (i32.div_u (i32.const 1) (i32.const 0)) drop)
  (elem (i32.const 0) $boom))
(register "lib" $lib)
(module $user
  (import "lib" "t" (table 1 funcref))
  (import "fact" "call" (func $call (param funcref)))
  (func $via_table (export "via_table") (call_indirect (i32.const 0)))
  (func $via_host (export "via_host") (call $call (table.get (i32.const 0)))))
(assert_trap (invoke "via_table") "integer divide by zero")
(assert_trap (invoke "via_table") "lib!boom")
(assert_trap (invoke "via_table") "user!via_table")
(assert_trap (invoke "via_host") "lib!boom")
(assert_trap (invoke "via_host") "user!via_host")
