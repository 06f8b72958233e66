import { existsSync } from "node:fs";
import { copyFile, mkdir, readdir } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { UserError, unwritableFileError } from "../errors.js";

/** Options of initProject(). */
export interface InitProjectOptions {
  /** Target directory, relative to cwd; created if missing. */
  dir: string;
  cwd?: string;
  /** Overwrite files that already exist. */
  force?: boolean;
}

/** The package's example project, copied by `promptsmith init`. */
const TEMPLATE_DIR = fileURLToPath(new URL("../../init-template/", import.meta.url));
/** The bundled templates of the four prompt forms, copied into the project's templates/. */
const BUNDLED_TEMPLATES = fileURLToPath(new URL("../../templates/", import.meta.url));

/** Copies the example project into dir; refuses to overwrite anything unless forced. */
export async function initProject(options: InitProjectOptions): Promise<{ dir: string; files: string[] }> {
  const target = resolve(options.cwd ?? process.cwd(), options.dir);
  const sources = new Map<string, string>();
  for (const file of await listFiles(BUNDLED_TEMPLATES)) {
    if (file.endsWith(".hbs")) sources.set(`templates/${file}`, join(BUNDLED_TEMPLATES, file));
  }
  for (const file of await listFiles(TEMPLATE_DIR)) sources.set(file, join(TEMPLATE_DIR, file));
  const files = [...sources.keys()].sort();
  const clashes = files.filter((file) => existsSync(join(target, file)));
  if (clashes.length > 0 && !options.force) {
    throw new UserError({
      code: "usage",
      message: `${relative(options.cwd ?? process.cwd(), target) || "."} already has ${clashes.join(", ")}`,
      hint: "choose an empty directory (promptsmith init my-evals), or pass --force to overwrite",
    });
  }
  for (const file of files) {
    try {
      await mkdir(dirname(join(target, file)), { recursive: true });
      await copyFile(sources.get(file)!, join(target, file));
    } catch (error) {
      throw unwritableFileError(error, {
        file: target,
        what: "create the project here",
        hint: "choose a folder you can write to: promptsmith init <dir>",
      });
    }
  }
  return { dir: target, files };
}

async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const entries = await readdir(join(dir, prefix), { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...(await listFiles(dir, path)));
    else files.push(path);
  }
  return files;
}
