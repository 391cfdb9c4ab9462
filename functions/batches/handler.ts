/**
 * POST /v1/batches (a court opens a batch: a presigned upload URL) and GET /v1/batches/{batchId} (its status,
 * counts and rejects: the court that opened it, or the operator). API.md "Court batches".
 */
import { BATCH_ID_PATTERN, BATCH_KINDS, createBatchSchema } from '../../contracts/batches.js';
import { authenticate, requireRole } from '../../shared/auth/authenticate.js';
import { s3 } from '../../shared/aws/s3-client.js';
import { statObject } from '../../shared/batch/s3-object-source.js';
import { rejectsUrl } from '../../shared/batch/s3-reject-sink.js';
import { presignedUploadUrl } from '../../shared/batch/s3-upload-url.js';
import { authDeps } from '../../shared/deps.js';
import { shorten } from '../../shared/domain/text.js';
import { jsonObjectBody } from '../../shared/http/body.js';
import { badRequest, forbidden, notFound } from '../../shared/http/errors.js';
import { onceForKey } from '../../shared/http/idempotency.js';
import { httpHandler } from '../../shared/http/middleware.js';
import { json } from '../../shared/http/response.js';
import { fieldErrors } from '../../shared/http/validation.js';
import { logger } from '../../shared/logger.js';
import { batchView, REJECTS_URL_SECONDS } from './batch-view.js';
import { batchBucket, batchesStore, uploadUrlSeconds } from './deps.js';
import { newBatchId, openBatch } from './new-batch.js';

const MAX_BODY = 16 * 1024;
/** How much of the requested id an error message quotes back. */
const QUOTED_ID_MAX = 64;

export const handler = httpHandler(async (event, context) => {
  const principal = await authenticate(event, authDeps());
  switch (event.routeKey) {
    case 'POST /v1/batches': {
      requireRole(principal, ['court']);
      if (principal.role === 'operator') throw forbidden('只有法院可以创建批次 (only a court opens batches)');
      const court = principal;
      // With an Idempotency-Key, a retry gets the first answer (the same batch and URL) and opens nothing.
      return onceForKey(event, context, `${court.sourceId}\u0000batches`, async () => {
        const parsed = createBatchSchema.safeParse(jsonObjectBody(event, MAX_BODY));
        if (!parsed.success) throw badRequest('批次信息有误 (invalid batch)', fieldErrors(parsed.error), 'invalid_batch');
        const { kind } = parsed.data;
        if (!court.kinds.includes(kind) || !BATCH_KINDS.includes(kind)) {
          throw forbidden(`本数据源不能以批次报送${kind} (this source may deliver batches of: ${court.kinds.filter((k) => BATCH_KINDS.includes(k)).join(', ') || 'nothing'})`);
        }
        const batch = openBatch(newBatchId(), court, parsed.data, new Date(), uploadUrlSeconds());
        const uploadUrl = await presignedUploadUrl(s3(), batchBucket(), batch.id, Math.round((Date.parse(batch.expiresAt) - Date.parse(batch.createdAt)) / 1000));
        await batchesStore().create(batch);
        logger.appendKeys({ batch: batch.id, format: batch.format, encoding: batch.encoding });
        return json(201, { batchId: batch.id, uploadUrl, expiresAt: batch.expiresAt });
      });
    }
    case 'GET /v1/batches/{batchId}': {
      const id = event.pathParameters?.batchId ?? '';
      const found = BATCH_ID_PATTERN.test(id) ? await batchesStore().get(id) : undefined;
      // Another court's batch answers exactly as an unknown id.
      const visible = found && (principal.role === 'operator' || principal.sourceId === found.source.sourceId);
      if (!visible) throw notFound(`没有批次${shorten(id, QUOTED_ID_MAX)} (unknown batch id)`);
      const bucket = batchBucket();
      const view = await batchView(found, new Date(), {
        download: (key) => rejectsUrl(s3(), bucket, key, REJECTS_URL_SECONDS),
        uploaded: async (key) => (await statObject(s3(), bucket, key)) !== undefined,
      });
      logger.appendKeys({ batch: id, status: view.status });
      return json(200, view);
    }
    default:
      throw notFound(`没有这个接口 (no route ${event.routeKey})`, 'no_route');
  }
});
