//! Ships the WGSL kernels (`src/backend/gpu/*.wgsl`) without their comments, blank lines
//! and indentation: the sources keep their equations and notes, the page's wasm carries
//! only the code (about 16 KB less). `backend::gpu::kernels` includes the results from
//! `$OUT_DIR/wgsl/`.

use std::fs;
use std::path::Path;

fn main() {
    let src = Path::new("src/backend/gpu");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("wgsl");
    fs::create_dir_all(&out).expect("OUT_DIR/wgsl");
    println!("cargo:rerun-if-changed={}", src.display());
    for entry in fs::read_dir(src).expect("src/backend/gpu") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_some_and(|e| e == "wgsl") {
            println!("cargo:rerun-if-changed={}", path.display());
            let text = fs::read_to_string(&path).expect("a WGSL file");
            let name = path.file_name().expect("a file name");
            fs::write(out.join(name), strip(&text)).expect("OUT_DIR/wgsl/*.wgsl");
        }
    }
}

/// WGSL without `//` comments, surrounding whitespace and empty lines (WGSL has no
/// string literals, so `//` always starts a comment; line breaks are kept, so a
/// compiler's message still names a line of code).
fn strip(wgsl: &str) -> String {
    wgsl.lines()
        .map(|l| l.split("//").next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .flat_map(|l| [l, "\n"])
        .collect()
}
