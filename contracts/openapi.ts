/** The OpenAPI 3.1 document of the HTTP API, generated from the contracts. */
import * as z from 'zod';
import { createDocument } from 'zod-openapi';
import {
  createSourceSchema,
  errorSchema,
  healthSchema,
  keyCreatedSchema,
  licenseSubmissionSchema,
  penaltySubmissionSchema,
  recordViewSchema,
  sourceCreatedSchema,
  sourceIdSchema,
  sourceListSchema,
  submissionResponseSchema,
} from './api.js';
import { PUSH_KINDS } from './kinds.js';

const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } });
const error = (description: string) => ({ description, ...json(errorSchema) });
const authErrors = {
  '401': error('no or unknown key'),
  '403': error('not allowed for this key'),
  '429': error('too many requests'),
};
const secured = [{ bearer: [] }];

export function openApiDocument() {
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Credit exchange hub (公共信用信息交换枢纽)',
      version: '1.0.0',
      description:
        'Departments, courts and discipline bodies push public credit records; the credit office registers sources. ' +
        'Errors are JSON {"error":{"code","message","details":[{"field","message"}]}}. A client mistake never gets a 5xx. ' +
        'Empty strings and nulls in records mean "absent". Code fields accept full-width characters and lower case and are stored half-width upper case. ' +
        'Free text is stored as given (HTML is text, never interpreted). Unknown fields are rejected.',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API key from POST /v1/sources (or the operator key)' } } },
    paths: {
      '/health': { get: { summary: 'Ready to take requests', responses: { '200': { description: 'ready', ...json(healthSchema) } } } },
      '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } } },
      '/v1/sources': {
        post: {
          summary: 'Register a source (operator)',
          security: secured,
          requestBody: json(createSourceSchema),
          responses: { '201': { description: 'registered; the key is shown once', ...json(sourceCreatedSchema) }, '400': error('invalid body'), '409': error('id already taken'), ...authErrors },
        },
        get: {
          summary: 'List sources, without keys (operator)',
          security: secured,
          responses: { '200': { description: 'the sources, oldest id first', ...json(sourceListSchema) }, ...authErrors },
        },
      },
      '/v1/sources/{id}/keys': {
        post: {
          summary: 'Issue a new key for a source; the old key stops working (operator)',
          security: secured,
          requestParams: { path: z.object({ id: sourceIdSchema }) },
          responses: { '201': { description: 'new key, shown once', ...json(keyCreatedSchema) }, '404': error('unknown source'), ...authErrors },
        },
      },
      '/v1/submissions/{kind}': {
        post: {
          summary: '信息报送: push records (department, court, discipline)',
          description:
            'At most 1,000 records and 6 MB. Each record stands alone: a rejected record leaves nothing behind. ' +
            'Same content again is a duplicate; changed content is a new version (updated). Records of 双公示 kinds pushed more than 7 working days after their decision are accepted and flagged late. ' +
            'If the hub cannot finish writing (503), the whole request may be sent again: records already written come back as duplicates.',
          security: secured,
          requestParams: { path: z.object({ kind: z.enum(Object.keys(PUSH_KINDS) as [string, ...string[]]) }) },
          requestBody: { content: { 'application/json': { schema: z.union([licenseSubmissionSchema, penaltySubmissionSchema]) } } },
          responses: {
            '200': { description: 'per-record results, in the order sent', ...json(submissionResponseSchema) },
            '400': error('malformed JSON, not an object, no records or more than 1,000'),
            '404': error('unknown kind'),
            '413': error('body over 6 MB'),
            '503': error('temporarily unable to store; retry the whole request'),
            ...authErrors,
          },
        },
      },
      '/v1/records/{id}': {
        get: {
          summary: 'A record with its versions, publication and delivery state (owning source or operator)',
          security: secured,
          requestParams: { path: z.object({ id: z.string() }) },
          responses: { '200': { description: 'the record', ...json(recordViewSchema) }, '404': error('unknown id'), ...authErrors },
        },
      },
    },
  });
}
