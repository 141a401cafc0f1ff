fn main() {
    println!("cargo:rerun-if-changed=src/helpers.c");
    cc::Build::new()
        .file("src/helpers.c")
        .warnings(true)
        .compile("fact-helpers");
}
