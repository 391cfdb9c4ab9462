/** Who sends the exchange packages: the city credit office, by its USCC (exchange.senderUsccEnvVar). */
import { exchange } from '../../infra/catalogue.js';
import { normaliseCode, usccProblem } from '../domain/identifiers.js';

/** The sender USCC is missing or not a valid GB 32100 code: a deployment fault, fixed by configuration. */
export class SenderConfigurationError extends Error {
  override name = 'SenderConfigurationError';
}

/** The sender's USCC from `env`, checked (GB 32100 check character included); throws a SenderConfigurationError naming the variable. */
export function senderUscc(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const variable = exchange.senderUsccEnvVar;
  const raw = env[variable];
  if (!raw || raw.trim() === '') throw new SenderConfigurationError(`environment variable ${variable} (the sender's USCC in exchange packages) is not set`);
  const code = normaliseCode(raw);
  const problem = usccProblem(code);
  if (problem) throw new SenderConfigurationError(`environment variable ${variable} is not a valid USCC: ${problem}`);
  return code;
}
