#!/usr/bin/env node
import { setFlagsFromString } from "node:v8";
import { main } from "../dist/bin/main.js";

// undici parses HTTP with llhttp compiled to WebAssembly, and V8 soon recompiles its 33 KB parse
// function with its optimizing compiler: 86 ms on a background thread and some 40 MB, which a short
// command then waits for at exit (a one-case eval took 0.33 s instead of 0.26 s). The baseline
// compiler's code parses fast enough (no difference at 40,000 jobs); a budget 50 times the default
// leaves the optimizing compile to long runs. Set here, not in the library: it is process-wide.
setFlagsFromString("--wasm-tiering-budget=100000000");

process.exitCode = await main(process.argv.slice(2));
