//! Functions at the limits wasmparser accepts: the translator keeps its control stack on
//! the heap and compiles on threads with room for Cranelift, so each of these compiles
//! and runs (or fails with an error), whatever its shape.

use fact::{Config, Engine, Instance, Module, Store};
use wasm_encoder::{
    BlockType, CodeSection, ExportKind, ExportSection, Function, FunctionSection, Instruction,
    Module as Encoder, TypeSection, ValType,
};

/// A module with one exported function `f: () -> i32` whose body is `body` (which must
/// leave one `i32`), with `locals` extra `i32` locals. Type 1, `(i32) -> i32`, is there for
/// blocks with a parameter.
fn module(locals: u32, body: impl FnOnce(&mut Function)) -> Vec<u8> {
    let mut m = Encoder::new();
    let mut types = TypeSection::new();
    types.ty().function([], [ValType::I32]);
    types.ty().function([ValType::I32], [ValType::I32]);
    m.section(&types);
    let mut funcs = FunctionSection::new();
    funcs.function(0);
    m.section(&funcs);
    let mut exports = ExportSection::new();
    exports.export("f", ExportKind::Func, 0);
    m.section(&exports);
    let mut code = CodeSection::new();
    let mut f = Function::new([(locals, ValType::I32)]);
    body(&mut f);
    f.instruction(&Instruction::End);
    code.function(&f);
    m.section(&code);
    m.finish()
}

/// Compiles `wasm` both in parallel and sequentially and calls `f`.
fn run(wasm: &[u8]) -> i32 {
    let mut result = None;
    for parallel in [true, false] {
        let mut config = Config::new();
        config.parallel_compilation(parallel);
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, wasm).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let f = instance.get_typed_func::<(), i32>(&mut store, "f").unwrap();
        let r = f.call(&mut store, ()).unwrap();
        assert_eq!(*result.get_or_insert(r), r);
    }
    result.unwrap()
}

const DEPTH: u32 = 100_000;

#[test]
fn deeply_nested_blocks_compile() {
    // block block … i32.const 7 br_if … end end: every level branches to the outermost.
    let wasm = module(0, |f| {
        for _ in 0..DEPTH {
            f.instruction(&Instruction::Block(BlockType::Result(ValType::I32)));
        }
        f.instruction(&Instruction::I32Const(7));
        for _ in 0..DEPTH {
            f.instruction(&Instruction::End);
        }
    });
    assert_eq!(run(&wasm), 7);
}

#[test]
fn deeply_nested_loops_and_ifs_compile() {
    let wasm = module(1, |f| {
        for i in 0..DEPTH {
            if i % 2 == 0 {
                f.instruction(&Instruction::Loop(BlockType::Empty));
            } else {
                f.instruction(&Instruction::LocalGet(0));
                f.instruction(&Instruction::I32Eqz);
                f.instruction(&Instruction::If(BlockType::Empty));
            }
        }
        f.instruction(&Instruction::LocalGet(0));
        f.instruction(&Instruction::I32Const(1));
        f.instruction(&Instruction::I32Add);
        f.instruction(&Instruction::LocalSet(0));
        for _ in 0..DEPTH {
            f.instruction(&Instruction::End);
        }
        f.instruction(&Instruction::LocalGet(0));
    });
    assert_eq!(run(&wasm), 1);
}

#[test]
fn deep_nesting_in_unreachable_code_compiles() {
    let wasm = module(0, |f| {
        f.instruction(&Instruction::I32Const(3));
        f.instruction(&Instruction::Return);
        for _ in 0..DEPTH {
            f.instruction(&Instruction::Block(BlockType::Empty));
        }
        for _ in 0..DEPTH {
            f.instruction(&Instruction::End);
        }
        f.instruction(&Instruction::Unreachable);
    });
    assert_eq!(run(&wasm), 3);
}

#[test]
fn the_most_locals_and_a_megabyte_body_compile() {
    // 50,000 locals (wasmparser's limit), each set and summed: about a megabyte of code.
    let locals = 49_999;
    let wasm = module(locals, |f| {
        for i in 0..locals {
            f.instruction(&Instruction::I32Const(1));
            f.instruction(&Instruction::LocalSet(i));
        }
        f.instruction(&Instruction::I32Const(0));
        for i in 0..locals {
            f.instruction(&Instruction::LocalGet(i));
            f.instruction(&Instruction::I32Add);
        }
    });
    assert!(wasm.len() > 500_000, "{}", wasm.len());
    assert_eq!(run(&wasm), locals as i32);
}

#[test]
fn a_huge_br_table_compiles() {
    let targets = 200_000u32;
    let wasm = module(0, |f| {
        f.instruction(&Instruction::Block(BlockType::Empty));
        f.instruction(&Instruction::Block(BlockType::Empty));
        f.instruction(&Instruction::I32Const(12_345));
        let table: Vec<u32> = (0..targets).map(|i| i % 2).collect();
        f.instruction(&Instruction::BrTable(table.into(), 0));
        f.instruction(&Instruction::End);
        f.instruction(&Instruction::I32Const(10));
        f.instruction(&Instruction::Return);
        f.instruction(&Instruction::End);
        f.instruction(&Instruction::I32Const(20));
    });
    // Index 12,345 is odd: the outer block, which returns 20.
    assert_eq!(run(&wasm), 20);
}

#[test]
fn a_long_dependency_chain_compiles() {
    // One expression 700,000 operations deep, in a body of several megabytes.
    let ops = 700_000;
    let wasm = module(0, |f| {
        f.instruction(&Instruction::I32Const(0));
        for i in 0..ops {
            f.instruction(&Instruction::I32Const(1));
            f.instruction(&if i % 2 == 0 {
                Instruction::I32Add
            } else {
                Instruction::I32Xor
            });
        }
    });
    assert!(wasm.len() > 2_000_000, "{}", wasm.len());
    assert_eq!(run(&wasm), 0);
}

#[test]
fn a_huge_br_table_carrying_values_out_of_a_loop_compiles() {
    // A loop whose locals all change, and whose `br_table` (200,000 entries, each carrying
    // one value) either loops again or leaves: SSA construction gives the loop header a
    // parameter per local, which must not multiply the table's size.
    let (targets, changing) = (200_000u32, 200u32);
    let wasm = module(changing + 1, |f| {
        f.instruction(&Instruction::I32Const(0));
        f.instruction(&Instruction::Block(BlockType::FunctionType(1)));
        f.instruction(&Instruction::Loop(BlockType::FunctionType(1)));
        f.instruction(&Instruction::I32Const(1));
        f.instruction(&Instruction::I32Add);
        for l in 1..=changing {
            f.instruction(&Instruction::LocalGet(l));
            f.instruction(&Instruction::I32Const(1));
            f.instruction(&Instruction::I32Add);
            f.instruction(&Instruction::LocalSet(l));
        }
        f.instruction(&Instruction::LocalTee(0));
        f.instruction(&Instruction::LocalGet(0));
        // Entries 0..5 loop again, the rest leave.
        let table: Vec<u32> = (0..targets).map(|i| u32::from(i >= 5)).collect();
        f.instruction(&Instruction::BrTable(table.into(), 1));
        f.instruction(&Instruction::End);
        f.instruction(&Instruction::End);
        f.instruction(&Instruction::LocalGet(changing));
        f.instruction(&Instruction::I32Add);
    });
    // Five iterations: the value and every changing local end at 5.
    assert_eq!(run(&wasm), 10);
}
