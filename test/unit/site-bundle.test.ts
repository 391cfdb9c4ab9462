/**
 * The renderer goes into the publishing Lambda: esbuild must bundle it with the stack's
 * options (infra/bundling.ts) and no file loader (the templates are string constants), and
 * the bundle must render exactly what the source does.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { stackBuildOptions } from '../../infra/local/lambda-bundle.js';
import { renderFullSite } from '../../shared/site/full-site.js';
import { pageHash } from '../../shared/site/page.js';
import type { PublicRecord } from '../../shared/site/public-record.js';

const RECORD: PublicRecord = {
  id: 'pen_abcdefghijklmnopqrstuvwxyz',
  kind: 'penalty',
  title: '行政处罚决定书 沪市监罚〔2026〕1号',
  subjectName: '上海某某科技有限公司<b>',
  subjectSlug: 'abcdefghijklmnopqrstuvwxyz',
  subjectLabel: '91310115MA1K3BTP2B',
  decisionDate: '2026-03-02',
  underObjection: true,
  governmentIntegrity: true,
  from: '2026-03-02',
  until: '2027-03-02',
  fields: [{ code: 'CF_SY', label: '违法事实', value: '经查……' }],
};

describe('the site renderer in a Lambda bundle', () => {
  it('bundles with the stack options and renders the same pages', async () => {
    const result = await build({
      stdin: { contents: "export { renderFullSite } from './shared/site/full-site.ts'; export { pageHash } from './shared/site/page.ts';", resolveDir: process.cwd(), loader: 'ts' },
      ...stackBuildOptions,
      write: false,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const code = result.outputFiles[0]!.text;
    const dir = mkdtempSync(join(tmpdir(), 'hub-site-bundle-'));
    let bundled: { renderFullSite: typeof renderFullSite; pageHash: typeof pageHash };
    try {
      const file = join(dir, 'index.mjs');
      writeFileSync(file, code);
      bundled = (await import(pathToFileURL(file).href)) as typeof bundled;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const fromBundle = bundled.renderFullSite([RECORD]).map((p) => [p.path, bundled.pageHash(p)]);
    const fromSource = renderFullSite([RECORD]).map((p) => [p.path, pageHash(p)]);
    expect(fromBundle).toEqual(fromSource);
    expect(fromBundle.map(([path]) => path)).toContain('records/pen_abcdefghijklmnopqrstuvwxyz.html');
  });
});
