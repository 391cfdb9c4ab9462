/**
 * How each Lambda is bundled: the CDK stack passes these options to
 * NodejsFunction, and the benchmark bundles with the same ones to measure
 * bundle size and module-init time.
 */
export const bundling = {
  format: 'esm',
  platform: 'node',
  target: 'node24',
  minify: true,
  sourceMap: true,
  mainFields: ['module', 'main'],
  /** The nodejs24.x runtime ships the AWS SDK v3. */
  externalModules: ['@aws-sdk/*'],
  /** Lets bundled CommonJS dependencies call require() inside an ES module. */
  banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
} as const;
