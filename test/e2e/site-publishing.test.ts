/**
 * Publishing to the public site end to end over HTTP against the local stack (`npm start`'s stack): a department
 * pushes a licence (it waits for review: not on the site); the operator approves it (POST /v1/records/{id}/approve)
 * and the records stream's publisher puts its page into the site bucket at once — read back through the local S3 and
 * through the site on SITE_PORT, the person's identity number never in full; the operator withholds it and the page
 * is deleted; POST /v1/jobs/publish then runs to completed with its counts and finds nothing left to write.
 *
 * Polls have deadlines; no sleep is an assertion.
 */
import { randomUUID } from 'node:crypto';
import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buckets } from '../../infra/catalogue.js';
import { LOCAL_REGION, readDataFolderCredentials } from '../../infra/local/dynamodb-local.js';
import { s3ClientConfig } from '../../shared/aws/s3-client.js';
import { recordPath } from '../../shared/site/paths.js';
import { license, personLicense, PERSON_ID, SOURCE_USCC } from '../support/fixtures.js';
import { pause, registerSource, callStack as call } from '../support/hub-client.js';
import { startStackProcess, tempDataDir, type StackProcess } from '../support/local-stack-process.js';

const OPERATOR_KEY = `hub_${randomUUID().replaceAll('-', '')}e2esite`;
const SETTLE_MS = 60_000;
type Json = any;

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, stack: StackProcess): Promise<T> {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value).slice(0, 500)} after ${SETTLE_MS} ms\n${stack.output().slice(-3000)}`);
    await pause(300);
  }
}

describe('the public site follows review decisions', () => {
  let stack: StackProcess;
  let dataDir: string;
  let s3: S3Client;

  beforeAll(async () => {
    dataDir = tempDataDir('hub-e2e-site-');
    stack = await startStackProcess({ HUB_DATA_DIR: dataDir, HUB_OPERATOR_KEY: OPERATOR_KEY });
    const endpoint = /S3 \(s3rver\):\s+(\S+)/.exec(stack.output())?.[1];
    if (!endpoint) throw new Error(`the local stack did not say where S3 is\n${stack.output()}`);
    s3 = new S3Client(s3ClientConfig({ endpoint, region: LOCAL_REGION, credentials: readDataFolderCredentials(dataDir), forcePathStyle: true }));
  }, 120_000);

  afterAll(async () => {
    s3?.destroy();
    await stack?.stop('SIGINT');
  }, 60_000);

  /** The object's body, or undefined when the bucket does not have it. */
  async function object(key: string): Promise<string | undefined> {
    try {
      const out = await s3.send(new GetObjectCommand({ Bucket: buckets.site.localName, Key: key }));
      return await out.Body!.transformToString();
    } catch (e) {
      if (e instanceof S3ServiceException && (e.name === 'NoSuchKey' || e.$metadata.httpStatusCode === 404)) return undefined;
      throw e;
    }
  }

  it('approve → the record page is in the site bucket at once (no full identity number); withhold → it is deleted; a publish run completes with its counts', async () => {
    const key = await registerSource(stack.url, OPERATOR_KEY, { id: 'shi-scjgj', name: '市市场监督管理局', uscc: SOURCE_USCC, role: 'department', kinds: ['license'] });
    const pushed = await call(stack, 'POST', '/v1/submissions/license', key, { records: [personLicense('site-1'), license('site-2')] });
    expect(pushed.status, JSON.stringify(pushed.body)).toBe(200);
    const [personId, companyId] = pushed.body.results.map((r: Json) => r.id as string);

    // Waiting for review: the stream's publisher has nothing to show (the company's page never appears below).
    const approve = await call(stack, 'POST', `/v1/records/${personId}/approve`, OPERATOR_KEY, { note: '审核通过' });
    expect(approve.status, JSON.stringify(approve.body)).toBe(200);
    const page = await until('the approved record page', () => object(recordPath(personId)), (body) => body !== undefined, stack);
    expect(page).toContain('李四');
    expect(page).not.toContain(PERSON_ID);
    expect(page).not.toContain(PERSON_ID.slice(6, 14));
    // The same page on the site (SITE_PORT), linked from the index's sections.
    const served = await fetch(`${stack.siteUrl}/${recordPath(personId)}`);
    expect(served.status).toBe(200);
    expect(await served.text()).toBe(page);
    expect(await object(recordPath(companyId))).toBeUndefined();

    const withhold = await call(stack, 'POST', `/v1/records/${personId}/withhold`, OPERATOR_KEY, { reason: '信息有误，暂缓公示' });
    expect(withhold.status, JSON.stringify(withhold.body)).toBe(200);
    await until('the withheld record page gone', () => object(recordPath(personId)), (body) => body === undefined, stack);

    const started = await call(stack, 'POST', '/v1/jobs/publish', OPERATOR_KEY, {});
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const run = await until('the publish run', async () => (await call(stack, 'GET', `/v1/jobs/runs/${started.body.runId}`, OPERATOR_KEY)).body, (r) => r.status === 'completed' || r.status === 'failed', stack);
    expect(run).toMatchObject({ job: 'publish', status: 'completed', counts: { records: 2, published: 0, pagesDeleted: 0 } });
    // The site as the changes left it is what a run renders: only the pages a run alone writes (the fixed ones, the
    // empty sections) are new.
    expect(run.counts.pagesWritten).toBeLessThanOrEqual(8);
    expect(await object('index.html')).toContain('公共信用信息公示');
  }, 180_000);
});
