/** What the batch-ingest function works with, built once per container from its environment (the catalogue's names). */
import { buckets, functionNameEnvVar } from '../../infra/catalogue.js';
import { dynamo } from '../../shared/aws/clients.js';
import { lambda } from '../../shared/aws/lambda-client.js';
import { s3 } from '../../shared/aws/s3-client.js';
import { LambdaContinuer } from '../../shared/batch/lambda-continuer.js';
import { S3ObjectSource } from '../../shared/batch/s3-object-source.js';
import { S3RejectSink } from '../../shared/batch/s3-reject-sink.js';
import { tableName } from '../../shared/config.js';
import { DynamoBatchesStore } from '../../shared/store/batches-store.js';

function required(variable: string): string {
  const value = process.env[variable];
  if (!value) throw new Error(`environment variable ${variable} is not set`);
  return value;
}

let ports: { store: DynamoBatchesStore; objects: S3ObjectSource; rejects: S3RejectSink; continuer: LambdaContinuer; bucket: string } | undefined;

/** The ingest's ports over AWS: the batches table, the batch bucket's uploads and rejects, and this function itself. */
export function batchPorts() {
  if (!ports) {
    const bucket = required(buckets.batches.envVar);
    ports = {
      bucket,
      store: new DynamoBatchesStore(dynamo(), tableName('batches')),
      objects: new S3ObjectSource(s3(), bucket),
      rejects: new S3RejectSink(s3(), bucket),
      continuer: new LambdaContinuer(lambda(), required(functionNameEnvVar('batchIngest'))),
    };
  }
  return ports;
}
