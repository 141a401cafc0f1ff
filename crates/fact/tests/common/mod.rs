//! Test components shared by the integration tests.

/// A core module with one page of memory and a bump allocator as `realloc`.
const MEMORY: &str = r#"
  (core module $Mem
    (memory (export "mem") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and
        (i32.add (global.get $next) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
      (global.set $next (i32.add (local.get $p) (local.get $size)))
      (if (i32.gt_u (global.get $next) (i32.const 65536)) (then unreachable))
      (if (local.get $old_size) (then
        (memory.copy (local.get $p) (local.get $old) (local.get $old_size))))
      (local.get $p)))
  (core instance $mem (instantiate $Mem))
"#;

/// A component exporting `echo: func(x: T) -> T`, where `T` is the last of `types`,
/// implemented by calling the host's `host-echo` of the same type. Each of `types` is a
/// `(name, definition)` imported as `$name` (so later definitions may use it) and
/// exported; `flat` is the core flattening of `T`.
pub fn echo_component(types: &[(&str, &str)], flat: &[&str]) -> String {
    let top = types.last().expect("a type to echo").0;
    let imports: String = types
        .iter()
        .map(|(n, def)| {
            format!("(type ${n}-def {def})\n  (import \"{n}\" (type ${n} (eq ${n}-def)))\n  ")
        })
        .collect();
    let exports: String = types
        .iter()
        .map(|(n, _)| format!("(export ${n}-out \"{n}\" (type ${n}))\n  "))
        .collect();
    // Over 16 flat parameters travel in memory; results over one always do (at 16).
    let params: &[&str] = if flat.len() > 16 { &["i32"] } else { flat };
    let decl: String = params.iter().map(|t| format!("(param {t}) ")).collect();
    let gets: String = (0..params.len())
        .map(|i| format!("local.get {i} "))
        .collect();
    let (lower_sig, lift_sig, body) = if flat.len() > 1 {
        (
            format!("{decl}(param i32)"),
            format!("{decl}(result i32)"),
            format!("{gets} i32.const 16 call $h i32.const 16"),
        )
    } else {
        (
            format!("{decl}(result {})", flat[0]),
            format!("{decl}(result {})", flat[0]),
            format!("{gets} call $h"),
        )
    };
    let opts = r#"(memory (core memory $mem "mem")) (realloc (core func $mem "realloc"))"#;
    format!(
        r#"(component
  {imports}(import "host-echo" (func $h (param "x" ${top}) (result ${top})))
  {MEMORY}
  (core func $hl (canon lower (func $h) {opts}))
  (core module $Glue
    (import "" "h" (func $h {lower_sig}))
    (func (export "echo") {lift_sig} {body}))
  (core instance $glue (instantiate $Glue (with "" (instance (export "h" (func $hl))))))
  {exports}(func (export "echo") (param "x" ${top}-out) (result ${top}-out)
    (canon lift (core func $glue "echo") {opts})))"#
    )
}
