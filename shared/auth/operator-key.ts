/**
 * Where the operator's (the credit office's) key hash comes from: the local
 * stack passes it as HUB_OPERATOR_KEY_HASH; on AWS the key is a Secrets
 * Manager secret, read once and re-read every five minutes so a rotation
 * takes effect without a deployment.
 */
import { environment } from '../../infra/catalogue.js';
import { awsClientConfig } from '../aws/client-config.js';
import { hashApiKey } from './api-keys.js';

export type OperatorKeyHash = () => Promise<string | undefined>;

const TTL_MS = 5 * 60_000;
let cached: { hash: Promise<string | undefined>; at: number } | undefined;

export const operatorKeyHash: OperatorKeyHash = () => {
  const fromEnv = process.env[environment.operatorKeyHash];
  if (fromEnv) return Promise.resolve(fromEnv);
  const arn = process.env[environment.operatorKeySecretArn];
  if (!arn) return Promise.resolve(undefined);
  if (!cached || Date.now() - cached.at > TTL_MS) {
    const hash = (async () => {
      const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
      const out = await new SecretsManagerClient(awsClientConfig()).send(new GetSecretValueCommand({ SecretId: arn }));
      return out.SecretString ? hashApiKey(out.SecretString) : undefined;
    })();
    cached = { hash, at: Date.now() };
    hash.catch(() => (cached = undefined));
  }
  return cached.hash;
};
