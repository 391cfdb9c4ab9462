/**
 * A function as Lambda runs it: its esbuild bundle, built with the CDK stack's own options
 * (infra/bundling.ts: ESM for node24, minified, the runtime's AWS SDK v3 left external).
 *
 * The local stack runs the functions it isolates in processes of their own (HUB_LAMBDA_PROCESS_FUNCTIONS,
 * lambda-runtime.ts) from these bundles, not from the TypeScript sources through tsx: a process's peak
 * memory, the figure Lambda's REPORT line gives, then counts what Lambda's would (tsx and its compiler
 * add some 40 MB to a Node process here), and a bundling problem shows up locally.
 *
 * Bundles are kept under node_modules/.cache/hub-lambda-bundles, named by the hash of their content
 * (written to a temporary name and renamed, so concurrent stacks never read half a file). They sit in
 * the repository so that the external AWS SDK resolves from its node_modules, as the runtime's does.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { buildSync, type BuildOptions } from 'esbuild';
import { bundling } from '../bundling.js';

/** infra/bundling.ts as esbuild's own options: what NodejsFunction passes it (the source map aside). */
export const stackBuildOptions = {
  bundle: true,
  format: bundling.format,
  platform: bundling.platform,
  target: bundling.target,
  minify: bundling.minify,
  mainFields: [...bundling.mainFields],
  external: [...bundling.externalModules],
  banner: { js: bundling.banner },
} satisfies BuildOptions;

const repoRoot = resolve(import.meta.dirname, '../..');
export const BUNDLE_CACHE = join(repoRoot, 'node_modules', '.cache', 'hub-lambda-bundles');

/** The path of the bundle of a TypeScript (or JavaScript) entry, built now if its content is new. */
export function bundledModule(entry: string): string {
  const built = buildSync({
    ...stackBuildOptions,
    entryPoints: [entry],
    write: false,
    // The bundle's folder is not the entry's: the name comes from the hash below.
    outfile: join(BUNDLE_CACHE, 'bundle.mjs'),
    logLevel: 'silent',
  });
  const code = built.outputFiles[0]!.contents;
  // Named by the entry's folder and file (functions/batch-ingest/handler.ts: batch-ingest-handler-<hash>.mjs).
  const stem = `${basename(dirname(entry))}-${basename(entry).replace(/\.[cm]?[jt]s$/, '')}`;
  const name = `${stem}-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`;
  const path = join(BUNDLE_CACHE, name);
  if (!existsSync(path)) {
    mkdirSync(BUNDLE_CACHE, { recursive: true });
    const partial = `${path}.${process.pid}.partial`;
    writeFileSync(partial, code);
    renameSync(partial, path);
  }
  return path;
}
