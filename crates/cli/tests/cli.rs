//! The `fact` command, end to end.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fact(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fact"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("run fact")
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fact-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn run_the_example() {
    let o = fact(&["run", "examples/fib.wat", "--invoke", "fib", "20"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "6765");
}

#[test]
fn compile_then_run_the_artifact() {
    let out = temp("fib.cwasm");
    let o = fact(&["compile", "examples/fib.wat", "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = fact(&["run", out.to_str().unwrap(), "--invoke", "fib", "10"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "55");
}

#[test]
fn a_truncated_artifact_is_reported_as_one() {
    let out = temp("fib-truncated.cwasm");
    let o = fact(&["compile", "examples/fib.wat", "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(&out).unwrap();
    for len in [bytes.len() / 2, 64, 4] {
        std::fs::write(&out, &bytes[..len]).unwrap();
        let o = fact(&["run", out.to_str().unwrap(), "--invoke", "fib", "10"]);
        assert!(!o.status.success());
        assert!(
            stderr(&o).contains("truncated or damaged fact artifact"),
            "{len} bytes: {}",
            stderr(&o)
        );
    }
}

#[test]
fn compile_can_show_the_clif_of_every_function() {
    let dir = temp("clif");
    let out = temp("fib-clif.cwasm");
    let o = fact(&[
        "compile",
        "examples/fib.wat",
        "-o",
        out.to_str().unwrap(),
        "--emit-clif",
        dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["fib-0-fib.clif"]);
    let clif = std::fs::read_to_string(dir.join(&files[0])).unwrap();
    // The recursive call is a direct call, and the signature has the two vmctx parameters.
    assert!(
        clif.starts_with("function u0:0(i64 vmctx, i64, i32) -> i32"),
        "{clif}"
    );
    assert!(clif.contains("call fn0("), "{clif}");
}

#[test]
fn a_trap_prints_its_backtrace_and_fails() {
    let path = temp("trap.wat");
    std::fs::write(
        &path,
        r#"(module (func $inner unreachable) (func $outer (export "go") call $inner))"#,
    )
    .unwrap();
    let o = fact(&["run", path.to_str().unwrap(), "--invoke", "go"]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("unreachable") && err.contains("inner") && err.contains("outer"),
        "{err}"
    );
}

/// Runs `fact run FILE --invoke FUNC --timeout 0.1` and checks that it stops with the
/// interrupt trap. If the timeout fails to stop the program, the child is killed after
/// 60 s and the test fails, rather than hanging.
fn assert_interrupted_by_timeout(file: &Path, func: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fact"))
        .args([
            "run",
            file.to_str().unwrap(),
            "--invoke",
            func,
            "--timeout",
            "0.1",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run fact");
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > std::time::Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("`fact run --timeout 0.1` did not stop {}", file.display());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let o = child.wait_with_output().unwrap();
    assert!(!o.status.success());
    assert!(stderr(&o).contains("interrupt"), "{}", stderr(&o));
}

#[test]
fn an_infinite_loop_is_interrupted_by_the_timeout() {
    let path = temp("spin.wat");
    std::fs::write(&path, r#"(module (func (export "spin") (loop br 0)))"#).unwrap();
    assert_interrupted_by_timeout(&path, "spin");
}

#[test]
fn the_timeout_covers_a_start_function() {
    let path = temp("spin-start.wat");
    std::fs::write(
        &path,
        r#"(module (func $spin (loop br 0)) (start $spin) (func (export "f")))"#,
    )
    .unwrap();
    assert_interrupted_by_timeout(&path, "f");
}

#[test]
fn a_compiled_artifact_runs_under_the_timeout() {
    let wat = temp("spin-artifact.wat");
    std::fs::write(&wat, r#"(module (func (export "spin") (loop br 0)))"#).unwrap();
    let artifact = temp("spin-artifact.cwasm");
    let o = fact(&[
        "compile",
        wat.to_str().unwrap(),
        "-o",
        artifact.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_interrupted_by_timeout(&artifact, "spin");
}

#[test]
fn bad_arguments_are_errors() {
    let o = fact(&["run", "examples/fib.wat", "--invoke", "fib"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("takes 1 arguments"), "{}", stderr(&o));
    let o = fact(&["run", "examples/fib.wat", "--invoke", "nope", "1"]);
    assert!(stderr(&o).contains("no function `nope`"), "{}", stderr(&o));
}

#[test]
fn wast_reports_and_exit_codes() {
    let good = temp("good.wast");
    std::fs::write(&good, "(module (func (export \"f\") (result i32) i32.const 1))\n(assert_return (invoke \"f\") (i32.const 1))\n").unwrap();
    let bad = temp("bad.wast");
    std::fs::write(&bad, "(module (func (export \"f\") (result i32) i32.const 1))\n(assert_return (invoke \"f\") (i32.const 2))\n").unwrap();
    let o = fact(&["wast", good.to_str().unwrap()]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("2 passed, 0 failed, 0 skipped"));
    assert!(stdout(&o).trim_end().ends_with("2 passed, 0 failed"));
    let o = fact(&["wast", good.to_str().unwrap(), bad.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        stdout(&o).contains("bad.wast:2:2: assert_return failed"),
        "{}",
        stdout(&o)
    );
    let o = fact(&["wast", "--json", bad.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["failed"], 1);
    assert_eq!(v["files"][0]["failures"][0]["line"], 2);
}

const COMPONENT: &str = r#"(component
  (import "log" (func $log (param "msg" string)))
  (component $Callee
    (core module $M
      (memory (export "mem") 1)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 8)
      (func (export "double") (param i32) (result i32) local.get 0 i32.const 2 i32.mul))
    (core instance $m (instantiate $M))
    (func (export "double") (param "x" u32) (result u32) (canon lift (core func $m "double"))))
  (component $Caller
    (import "double" (func $d (param "x" u32) (result u32)))
    (core func $d' (canon lower (func $d)))
    (core module $Main (import "" "d" (func (param i32) (result i32)))
      (func (export "run") (result i32) i32.const 21 call 0))
    (core instance $main (instantiate $Main (with "" (instance (export "d" (func $d'))))))
    (func (export "run") (result u32) (canon lift (core func $main "run"))))
  (instance $callee (instantiate $Callee))
  (instance $caller (instantiate $Caller (with "double" (func $callee "double"))))
  (export "run" (func $caller "run"))
)"#;

#[test]
fn inspect_explains_a_component() {
    let path = temp("c.wat");
    std::fs::write(&path, COMPONENT).unwrap();
    let o = fact(&["inspect", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    for needle in [
        "log: func(msg: string)",
        "run: func() -> u32",
        "fuse adapter 0 (root/1 -> root/0): func(x: u32) -> u32",
        "adapter 0: root/1 -> root/0",
        "calls:  core instance 0 export \"double\"",
        "import \"\" \"d\" <- adapter 0",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
    let o = fact(&["inspect", "--json", path.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["adapters"][0]["signature"], "func(x: u32) -> u32");
    assert_eq!(v["core_modules"].as_array().unwrap().len(), 2);
    assert_eq!(v["component_instances"].as_array().unwrap().len(), 3);
}

#[test]
fn run_a_component_with_wave_values() {
    let o = fact(&[
        "run",
        "examples/strings.wat",
        "--invoke",
        "shout(\"hello, wörld\")",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "\"HELLO, WöRLD\"");
    let o = fact(&[
        "run",
        "examples/strings.wat",
        "--invoke",
        "stats([\"a\", \"bb\", \"ccc\"])",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "{count: 3, bytes: 6}");

    // Ill-typed arguments and unknown functions are errors, not crashes.
    let o = fact(&["run", "examples/strings.wat", "--invoke", "shout(1)"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("invalid arguments for `shout`"),
        "{}",
        stderr(&o)
    );
    let o = fact(&["run", "examples/strings.wat", "--invoke", "whisper(\"x\")"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("no function `whisper`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_component_with_imports_is_refused_before_running() {
    let o = fact(&[
        "run",
        "examples/greeter.wat",
        "--invoke",
        "name-length(\"x\")",
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("imports `enrich`") && stderr(&o).contains("cannot provide"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn compile_then_run_a_component() {
    let out = temp("strings.cwasm");
    let o = fact(&[
        "compile",
        "examples/strings.wat",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = fact(&["run", out.to_str().unwrap(), "--invoke", "shout(\"abc\")"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "\"ABC\"");
}

#[test]
fn adapters_are_written_for_polyfills() {
    let wat = temp("pair.wat");
    std::fs::write(
        &wat,
        r#"(component
  (component $Callee
    (core module $M
      (memory (export "mem") 1)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 64)
      (func (export "len") (param i32 i32) (result i32) (local.get 1)))
    (core instance $m (instantiate $M))
    (func (export "len") (param "s" string) (result u32)
      (canon lift (core func $m "len") (memory (core memory $m "mem"))
        (realloc (core func $m "realloc")))))
  (component $Caller
    (import "len" (func $len (param "s" string) (result u32)))
    (core module $Mem (memory (export "mem") 1))
    (core instance $m (instantiate $Mem))
    (core func $len (canon lower (func $len) (memory (core memory $m "mem"))))
    (core module $Main
      (import "" "len" (func $len (param i32 i32) (result i32)))
      (func (export "go") (result i32) (call $len (i32.const 0) (i32.const 6))))
    (core instance $main (instantiate $Main (with "" (instance (export "len" (func $len))))))
    (func (export "go") (result u32) (canon lift (core func $main "go"))))
  (instance $callee (instantiate $Callee))
  (instance $caller (instantiate $Caller (with "len" (func $callee "len"))))
  (export "go" (func $caller "go")))"#,
    )
    .unwrap();
    let dir = temp("adapters-out");
    let o = fact(&[
        "adapters",
        wat.to_str().unwrap(),
        "-o",
        dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let wasm = std::fs::read(dir.join("adapters0.wasm")).unwrap();
    assert!(wasm.starts_with(b"\0asm"));
    let text = std::fs::read_to_string(dir.join("adapters0.wat")).unwrap();
    assert!(text.contains("(export \"adapter0\""), "{text}");
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("plan.json")).unwrap()).unwrap();
    let module = &plan["adapter_modules"][0];
    assert_eq!(module["wasm"], "adapters0.wasm");
    let export = &module["exports"][0];
    assert_eq!(export["name"], "adapter0");
    assert_eq!(export["signature"], "func(s: string) -> u32");
    // The caller's main module imports the adapter as `"" "len"`.
    assert_eq!(export["imported_by"][0]["module"], "");
    assert_eq!(export["imported_by"][0]["name"], "len");
    let imports = module["imports"].as_array().unwrap();
    assert!(imports.iter().any(|i| i["module"] == "callee"));
    assert!(imports.iter().any(|i| i["kind"] == "memory"));
}

#[test]
fn keyed_artifacts_need_their_key() {
    let key = temp("key.hex");
    std::fs::write(&key, format!("{}\n", "5a".repeat(32))).unwrap();
    let raw_key = temp("key.bin");
    std::fs::write(&raw_key, [0x5a; 32]).unwrap();
    let other = temp("other.bin");
    std::fs::write(&other, [0x11; 32]).unwrap();
    let out = temp("fib-keyed.cwasm");
    let (out, key, raw_key, other) = (
        out.to_str().unwrap(),
        key.to_str().unwrap(),
        raw_key.to_str().unwrap(),
        other.to_str().unwrap(),
    );
    let o = fact(&[
        "compile",
        "examples/fib.wat",
        "-o",
        out,
        "--artifact-key-file",
        key,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The same key, in either spelling, loads it.
    for k in [key, raw_key] {
        let o = fact(&[
            "run",
            out,
            "--invoke",
            "fib",
            "10",
            "--artifact-key-file",
            k,
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(stdout(&o).trim(), "55");
    }
    let o = fact(&[
        "run",
        out,
        "--invoke",
        "fib",
        "10",
        "--artifact-key-file",
        other,
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("authentication failed"),
        "{}",
        stderr(&o)
    );
    let o = fact(&["run", out, "--invoke", "fib", "10"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("artifact is keyed"), "{}", stderr(&o));

    // A key file of any other shape is an error that says what a key file holds.
    let bad = temp("bad-key");
    std::fs::write(&bad, "not a key").unwrap();
    let o = fact(&[
        "run",
        out,
        "--invoke",
        "fib",
        "10",
        "--artifact-key-file",
        bad.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("exactly 32 bytes, or 64 hex digits"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn store_limits_are_set_with_w_options() {
    let wat = temp("grow.wat");
    std::fs::write(
        &wat,
        r#"(module (memory 1) (table 1 funcref)
          (func (export "m") (param i32) (result i32) (memory.grow (local.get 0)))
          (func (export "t") (param i32) (result i32) (table.grow (ref.null func) (local.get 0))))"#,
    )
    .unwrap();
    let wat = wat.to_str().unwrap();
    let run = |args: &[&str]| {
        let mut all = vec!["run", wat, "--invoke"];
        all.extend_from_slice(args);
        fact(&all)
    };
    let o = run(&["m", "10", "-W", "max-memory-size=131072"]);
    assert_eq!(stdout(&o).trim(), "-1", "{}", stderr(&o));
    let o = run(&["m", "1", "-W", "max-memory-size=131072"]);
    assert_eq!(stdout(&o).trim(), "1", "{}", stderr(&o));
    let o = run(&["t", "100", "-W", "max-table-elements=50"]);
    assert_eq!(stdout(&o).trim(), "-1", "{}", stderr(&o));
    let o = run(&[
        "t",
        "100",
        "-W",
        "max-table-elements=50",
        "-W",
        "trap-on-grow-failure=y",
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("forcing trap when growing table"),
        "{}",
        stderr(&o)
    );
    let o = run(&["t", "1", "-W", "max-tablets=5"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("unknown option `-W max-tablets`"),
        "{}",
        stderr(&o)
    );
}
