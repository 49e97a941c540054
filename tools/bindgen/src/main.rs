//! `portcullis-bindgen <input.wasm> <out-dir>`: writes `index.js` and `index_bg.wasm`, the
//! worker's JS bindings, exactly as `wasm-bindgen --target module --out-name index
//! --no-typescript --experimental-reset-state-function --force-enable-abort-handler` (the
//! options worker-build passed) would. src/worker/entry.mjs is the module that imports them.

use std::process::ExitCode;

fn generate(input: &str, out_dir: &str) -> anyhow::Result<()> {
    let mut b = wasm_bindgen_cli_support::Bindgen::new();
    b.module(true)?;
    b.input_path(input)
        .out_name("index")
        .typescript(false)
        .reset_state_function(true)
        .force_enable_abort_handler(true);
    b.generate(out_dir)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, out_dir] = args.as_slice() else {
        eprintln!("usage: portcullis-bindgen <input.wasm> <out-dir>");
        return ExitCode::from(2);
    };
    match generate(input, out_dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("portcullis-bindgen: {e:#}");
            ExitCode::FAILURE
        }
    }
}
