import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ROOT } from "./cli.js";

/**
 * Copies modules of src/ into `outDir` with their types stripped, so a child process can run the
 * real code: Node 20 cannot run TypeScript (no --experimental-strip-types) and tsx is not
 * installed. Only for modules whose imports are node: built-ins, packages, and the files listed.
 */
export async function transpileForChild(files: string[], outDir: string): Promise<void> {
  const { default: ts } = await import("typescript");
  for (const file of files) {
    const source = readFileSync(join(ROOT, "src", file), "utf8");
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      fileName: file,
    });
    const out = join(outDir, file.replace(/\.ts$/, ".js"));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, outputText);
  }
  writeFileSync(join(outDir, "package.json"), '{"type":"module"}');
}
