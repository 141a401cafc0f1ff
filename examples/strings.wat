;; A component with no imports, for `fact run`:
;;   fact run examples/strings.wat --invoke 'shout("hello")'
;;   fact run examples/strings.wat --invoke 'stats(["a", "bb", "ccc"])'
(component
  (core module $M
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
      (global.set $next (i32.add (local.get $p) (local.get 3)))
      (local.get $p))
    ;; shout(s): ASCII letters to upper case, in place; returns (ptr, len) at 16
    (func (export "shout") (param $p i32) (param $n i32) (result i32)
      (local $i i32) (local $c i32)
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $c (i32.load8_u (i32.add (local.get $p) (local.get $i))))
          (if (i32.and (i32.ge_u (local.get $c) (i32.const 97)) (i32.le_u (local.get $c) (i32.const 122)))
            (then (i32.store8 (i32.add (local.get $p) (local.get $i)) (i32.sub (local.get $c) (i32.const 32)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (i32.store (i32.const 16) (local.get $p))
      (i32.store (i32.const 20) (local.get $n))
      (i32.const 16))
    ;; stats(list<string>) -> record { count: u32, bytes: u64 }
    (func (export "stats") (param $p i32) (param $n i32) (result i32)
      (local $i i32) (local $bytes i64)
      (block $done
        (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $bytes (i64.add (local.get $bytes)
            (i64.extend_i32_u (i32.load offset=4 (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3)))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
      (i32.store (i32.const 32) (local.get $n))
      (i64.store (i32.const 40) (local.get $bytes))
      (i32.const 32)))
  (core instance $m (instantiate $M))
  (type $stats' (record (field "count" u32) (field "bytes" u64)))
  (export $stats "stats-result" (type $stats'))
  (func (export "shout") (param "s" string) (result string)
    (canon lift (core func $m "shout") (memory (core memory $m "memory")) (realloc (core func $m "realloc"))))
  (func (export "stats") (param "words" (list string)) (result $stats)
    (canon lift (core func $m "stats") (memory (core memory $m "memory")) (realloc (core func $m "realloc")))))
