/**
 * The OpenAPI document describes what the server does:
 * 1. it lints clean with Redocly's recommended ruleset;
 * 2. every error code the handlers, the shared HTTP layer and the local
 *    gateway can answer with is in ERROR_CODES (with its status) and is
 *    documented on an operation served by the code that raises it; every
 *    ERROR_CODES entry is raised somewhere, so the list cannot rot;
 * 3. every catalogue route has an operation (with an operationId), and every
 *    operation is a catalogue route;
 * 4. what the server accepts in normalised fields (lower case, full-width)
 *    is not refused by a documented pattern.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '../../contracts/errors.js';
import { date, certificateNumber, uscc } from '../../contracts/fields.js';
import { openApiDocument } from '../../contracts/openapi.js';
import { routes, type FunctionName } from '../../infra/catalogue.js';
import { todayInChina } from '../../shared/domain/dates.js';
import { residentIdProblem } from '../../shared/domain/identifiers.js';

const ROOT = join(import.meta.dirname, '../..');
const SCANNED_FOLDERS = ['functions', 'shared', 'infra/local'];
/**
 * Local stand-ins of other AWS services answer in those services' own error vocabulary
 * (Lambda's ValidationException, S3's …), not the hub API's: they are not part of this document.
 */
const OTHER_SERVICES = new Set(['infra/local/lambda-api.ts', 'infra/local/s3rver-process.mjs', 'infra/local/s3-local.ts', 'infra/local/s3-events.ts', 'infra/local/lambda-async.ts']);

// ---- Reading the document -----------------------------------------------------------------------

/** A parsed JSON document: the tests read it by path. */
type Json = Record<string, any>;
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

const document = JSON.parse(JSON.stringify(openApiDocument())) as Json;

interface DocumentedOperation {
  method: string;
  path: string;
  routeKey: string;
  operation: Json;
}

function operations(doc: Json): DocumentedOperation[] {
  return Object.entries(doc.paths as Json).flatMap(([path, item]) =>
    HTTP_METHODS.filter((m) => item[m]).map((method) => ({ method, path, routeKey: `${method.toUpperCase()} ${path}`, operation: item[method] as Json })),
  );
}

/** The error codes each status of an operation documents: its x-error-codes. */
function documentedCodes(operation: Json): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const [status, response] of Object.entries(operation.responses as Json)) {
    if (response['x-error-codes']) out.set(Number(status), response['x-error-codes'] as string[]);
  }
  return out;
}

/** The enum of `error.code` in an error response's JSON schema (allOf Error + the narrowing enum; maybe anyOf with API Gateway's own body). */
function codeEnum(response: Json): string[] | undefined {
  const schema = response.content?.['application/json']?.schema as Json | undefined;
  if (!schema) return undefined;
  const variants: Json[] = schema.anyOf ?? [schema];
  for (const variant of variants) {
    const narrowing = (variant.allOf as Json[] | undefined)?.find((part) => part.properties?.error?.properties?.code?.enum);
    if (narrowing) return narrowing.properties.error.properties.code.enum as string[];
  }
  return undefined;
}

// ---- Finding the error codes the code raises -----------------------------------------------------

interface RaisedCode {
  code: string;
  /** The status literal next to it (`new HttpError(415, 'x')`, `gatewayError(res, 429, 'x')`, `[431, 'x', …]`), if any. */
  status?: number;
  file: string;
  line: number;
}

const isErrorCode = (text: string): text is ErrorCode => Object.hasOwn(ERROR_CODES, text);

/** Calls that look a value up or test it rather than raise it. */
const LOOKUPS = new Set(['includes', 'has', 'get', 'indexOf', 'startsWith', 'endsWith', 'test', 'match']);

const nameOf = (node: ts.Node | undefined): string | undefined =>
  node && (ts.isIdentifier(node) || ts.isStringLiteral(node)) ? node.text : undefined;

/** The name a function is declared under (`function f`, `const f = () =>`), when it is one. */
function declaredName(fn: ts.Node): string | undefined {
  if (ts.isFunctionDeclaration(fn)) return fn.name?.text;
  if ((ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) && ts.isVariableDeclaration(fn.parent)) return nameOf(fn.parent.name);
  return undefined;
}

function enclosingFunction(node: ts.Node): ts.SignatureDeclaration | undefined {
  for (let n = node.parent; n; n = n.parent) if (ts.isFunctionLike(n)) return n;
  return undefined;
}

function calleeName(call: ts.CallExpression | ts.NewExpression): string | undefined {
  const callee = call.expression;
  if (ts.isIdentifier(callee)) return callee.text;
  if (ts.isPropertyAccessExpression(callee)) return callee.name.text;
  return undefined;
}

/** Whether a binding (`code`, `[status, code]`, `{ code }`) names a code. */
function bindsCode(name: ts.BindingName): boolean {
  if (ts.isIdentifier(name)) return /code$/i.test(name.text);
  return name.elements.some((e) => !ts.isOmittedExpression(e) && bindsCode(e.name));
}

/**
 * Where a literal's value goes: up through parentheses, `as`, the branches of
 * `?:`, `??` / `||` and tuple elements, to the node that takes it.
 */
function destination(node: ts.Node): { node: ts.Node; holder: ts.Node } {
  let child = node;
  let parent = node.parent;
  while (
    ts.isParenthesizedExpression(parent) ||
    ts.isAsExpression(parent) ||
    ts.isSatisfiesExpression(parent) ||
    ts.isArrayLiteralExpression(parent) ||
    (ts.isConditionalExpression(parent) && parent.condition !== child) ||
    (ts.isBinaryExpression(parent) && [ts.SyntaxKind.QuestionQuestionToken, ts.SyntaxKind.BarBarToken].includes(parent.operatorToken.kind) && parent.right === child)
  ) {
    child = parent;
    parent = parent.parent;
  }
  return { node: child, holder: parent };
}

interface ScanFile {
  file: string;
  text: string;
}

/**
 * The error codes a set of source files can answer with: string literals
 * that go where an error code goes — an argument of a call (`badRequest(…,
 * 'duplicate_key')`, `new HttpError(415, 'unsupported_encoding')`,
 * `gatewayError(res, 429, 'too_many_requests')`), the `code` of an object, a
 * variable or tuple binding named code, the return value of a function
 * declared to return an ErrorCode, or a default parameter `code` that some
 * call leaves to its default. A literal inside a named helper that nothing
 * refers to does not count. Literals in an error position (the `code` of an
 * `{ error: {…} }` body, or right after a 4xx/5xx status argument) that are
 * not in ERROR_CODES are reported as unknown.
 */
function raisedCodes(files: ScanFile[]): { raised: RaisedCode[]; unknown: RaisedCode[] } {
  const sources = files.map(({ file, text }) => ({ file, source: ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS) }));
  const calls: (ts.CallExpression | ts.NewExpression)[] = [];
  const references = new Map<string, number>();
  const visitAll = (visit: (node: ts.Node, source: ts.SourceFile, file: string) => void) => {
    for (const { file, source } of sources) {
      const walk = (node: ts.Node) => {
        visit(node, source, file);
        ts.forEachChild(node, walk);
      };
      walk(source);
    }
  };
  visitAll((node) => {
    if (ts.isCallExpression(node) || ts.isNewExpression(node)) calls.push(node);
    if (ts.isIdentifier(node)) references.set(node.text, (references.get(node.text) ?? 0) + 1);
  });
  // A named function is used when its name occurs more often than its declaration.
  const used = (name: string) => (references.get(name) ?? 0) > 1;
  const calledWithFewerThan = (name: string, count: number) => calls.some((c) => calleeName(c) === name && (c.arguments?.length ?? 0) < count);

  const raised: RaisedCode[] = [];
  const unknown: RaisedCode[] = [];
  visitAll((node, source, file) => {
    if (!ts.isStringLiteral(node) && !ts.isNoSubstitutionTemplateLiteral(node)) return;
    const parent = node.parent;
    const at = { code: node.text, file, line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1 };
    const siblings = ts.isCallExpression(parent) || ts.isNewExpression(parent) ? parent.arguments : ts.isArrayLiteralExpression(parent) ? parent.elements : undefined;
    const index = siblings?.indexOf(node as ts.Expression) ?? -1;
    const before = index > 0 ? siblings![index - 1] : undefined;
    const status = before && ts.isNumericLiteral(before) ? Number(before.text) : undefined;
    const withStatus = status !== undefined ? { status } : {};

    if (!isErrorCode(node.text)) {
      const inErrorBody = ts.isPropertyAssignment(parent) && nameOf(parent.name) === 'code' && ts.isPropertyAssignment(parent.parent.parent) && nameOf(parent.parent.parent.name) === 'error';
      if (inErrorBody || (status !== undefined && status >= 400 && status < 600)) unknown.push({ ...at, ...withStatus });
      return;
    }
    const { node: value, holder } = destination(node);
    let takesCode: boolean;
    if (ts.isCallExpression(holder) || ts.isNewExpression(holder)) {
      takesCode = holder.expression !== value && !LOOKUPS.has(calleeName(holder) ?? '');
    } else if (ts.isPropertyAssignment(holder)) {
      takesCode = holder.initializer === value && nameOf(holder.name) === 'code';
    } else if (ts.isVariableDeclaration(holder)) {
      takesCode = bindsCode(holder.name);
    } else if (ts.isReturnStatement(holder) || ts.isArrowFunction(holder)) {
      takesCode = /\bErrorCode\b/.test(enclosingFunction(value)?.type?.getText(source) ?? '');
    } else if (ts.isParameter(holder)) {
      const fn = holder.parent;
      const name = declaredName(fn);
      takesCode = bindsCode(holder.name) && name !== undefined && calledWithFewerThan(name, fn.parameters.indexOf(holder) + 1);
    } else {
      takesCode = false;
    }
    if (!takesCode) return;
    const fn = ts.isParameter(holder) ? undefined : enclosingFunction(node);
    const helper = fn && declaredName(fn);
    if (helper && !used(helper)) return;
    raised.push({ ...at, ...withStatus });
  });
  return { raised, unknown };
}

function sourceFiles(): ScanFile[] {
  return SCANNED_FOLDERS.flatMap((folder) =>
    readdirSync(join(ROOT, folder), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && /\.(ts|mts|mjs|js)$/.test(e.name) && !e.name.endsWith('.d.ts'))
      .map((e) => {
        const path = join(e.parentPath, e.name);
        return { file: relative(ROOT, path), text: readFileSync(path, 'utf8') };
      })
      .filter(({ file }) => !OTHER_SERVICES.has(file)),
  );
}

// ---- 1. Lint ------------------------------------------------------------------------------------------

describe('the OpenAPI document lints clean', () => {
  /**
   * Warnings of the recommended ruleset that are accepted, and why:
   * - info-license: the hub is an internal government system published under no
   *   licence; naming one in the document would be untrue.
   */
  const ACCEPTED_WARNINGS = new Set(['info-license']);

  it('has no errors under the recommended ruleset, and only the accepted warnings', async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: JSON.stringify(document, null, 2), absoluteRef: '/openapi.json', config });
    const show = (p: (typeof problems)[number]) => `${p.severity} ${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`;
    expect(problems.filter((p) => p.severity === 'error').map(show)).toEqual([]);
    expect(problems.filter((p) => !ACCEPTED_WARNINGS.has(p.ruleId)).map(show)).toEqual([]);
  }, 60_000);

  it('has a server that fits both runtimes, and an operationId, summary and tag on every operation', () => {
    expect(document.servers).toEqual([expect.objectContaining({ url: '/' })]);
    const ids = operations(document).map(({ operation }) => operation.operationId as string);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { routeKey, operation } of operations(document)) {
      expect(operation.operationId, routeKey).toMatch(/^[a-z][a-zA-Z0-9]*$/);
      expect(operation.summary, routeKey).toBeTruthy();
      expect(operation.tags, routeKey).toHaveLength(1);
      expect((document.tags as Json[]).map((t) => t.name), routeKey).toContain(operation.tags[0]);
    }
  });

  it('says in its description that CORS preflights are answered only when origins are configured', () => {
    expect(document.info.description).toMatch(/CORS[^\n]*off by default[^\n]*only when origins are configured/);
  });
});

// ---- 2. Error codes -----------------------------------------------------------------------------------

describe('the error-code scanner', () => {
  const scan = (text: string) => raisedCodes([{ file: 'x.ts', text }]);

  it('finds codes passed to error helpers, with the status next to them', () => {
    const { raised } = scan(`
      throw new HttpError(415, 'unsupported_encoding', 'm');
      throw badRequest('m', [], 'duplicate_key');
      gatewayError(res, 429, 'too_many_requests', 'm');
      json(500, { error: { code: 'internal', message: 'm', details: [] } });`);
    expect(raised.map((r) => [r.code, r.status])).toEqual([
      ['unsupported_encoding', 415],
      ['duplicate_key', undefined],
      ['too_many_requests', 429],
      ['internal', undefined],
    ]);
  });

  it('ignores literals that are not raised: comparisons, types, lookups, assignments, other properties, unused defaults and helpers', () => {
    const { raised } = scan(`
      if (e.code === 'conflict') return;
      switch (x) { case 'forbidden': break; }
      type T = 'not_found' | 'conflict';
      outcomes[i] = 'conflict';
      if (codes.includes('internal')) return;
      json(503, { status: 'unavailable' });
      export const conflict = (message: string, code: ErrorCode = 'conflict') => new HttpError(409, code, message);
      conflict('m', 'source_exists');
      const unusedHelper = () => new HttpError(401, 'unauthorized', 'm');`);
    expect(raised.map((r) => r.code)).toEqual(['source_exists']);
  });

  it('follows a code through a conditional and a tuple to a binding named code, and to a return typed ErrorCode', () => {
    const { raised } = scan(`
      const [status, code]: [number, ErrorCode] = overflow ? [431, 'headers_too_large'] : [400, 'bad_request'];
      function codeFor(e: Error): ErrorCode { return e.name === 'X' ? 'unavailable' : 'internal'; }
      const label = (e: Error): string => 'forbidden';
      codeFor(new Error());`);
    expect(raised.map((r) => [r.code, r.status])).toEqual([
      ['headers_too_large', 431],
      ['bad_request', 400],
      ['unavailable', undefined],
      ['internal', undefined],
    ]);
  });

  it('counts a default parameter value when a call leaves it to its default', () => {
    const { raised } = scan(`
      export const notFound = (message: string, code: ErrorCode = 'not_found') => new HttpError(404, code, message);
      notFound('m');`);
    expect(raised.map((r) => r.code)).toEqual(['not_found']);
  });

  it('reports codes in error positions that are not in ERROR_CODES', () => {
    const { unknown } = scan(`
      gatewayError(res, 418, 'teapot', 'm');
      send({ error: { code: 'made_up', message: 'm' } });`);
    expect(unknown.map((r) => r.code)).toEqual(['teapot', 'made_up']);
  });
});

describe('the error codes of the document are those the server answers with', () => {
  let raised: RaisedCode[];
  let unknown: RaisedCode[];
  const where = (r: RaisedCode) => `${r.code} (${r.file}:${r.line})`;

  beforeAll(() => {
    ({ raised, unknown } = raisedCodes(sourceFiles()));
  });

  it('finds error codes in the handlers, the shared HTTP layer and the local gateway', () => {
    for (const folder of ['functions/', 'shared/', 'infra/local/']) expect(raised.some((r) => r.file.startsWith(folder)), folder).toBe(true);
  });

  it('raises only codes of ERROR_CODES, each with its status', () => {
    expect(unknown.map(where)).toEqual([]);
    const wrongStatus = raised.filter((r) => r.status !== undefined && r.status !== ERROR_CODES[r.code as ErrorCode].status);
    expect(wrongStatus.map((r) => `${where(r)} with ${r.status}, ERROR_CODES says ${ERROR_CODES[r.code as ErrorCode].status}`)).toEqual([]);
  });

  it('raises every ERROR_CODES entry somewhere (the list cannot rot)', () => {
    const raisedSet = new Set(raised.map((r) => r.code));
    expect(Object.keys(ERROR_CODES).filter((code) => !raisedSet.has(code))).toEqual([]);
  });

  it('documents every code raised, on an operation of the function that raises it, under its status', () => {
    const byRoute = new Map(routes.map((r) => [r.routeKey, r.function]));
    const fallback = routes.find((r) => r.routeKey === '$default')?.function;
    const documentedBy = (fn: FunctionName | undefined, code: string) =>
      operations(document).some(({ routeKey, operation }) => {
        if (fn !== undefined && fn !== fallback && byRoute.get(routeKey) !== fn) return false;
        return documentedCodes(operation).get(ERROR_CODES[code as ErrorCode].status)?.includes(code) ?? false;
      });
    const missing = raised.filter((r) => {
      const fn = /^functions\/([^/]+)\//.exec(r.file)?.[1] as FunctionName | undefined;
      return !documentedBy(fn, r.code);
    });
    expect(missing.map(where)).toEqual([]);
  });

  it('documents each code under its own status, as the enum of error.code and as x-error-codes', () => {
    for (const { routeKey, operation } of operations(document)) {
      for (const [status, codes] of documentedCodes(operation)) {
        for (const code of codes) expect(ERROR_CODES[code as ErrorCode]?.status, `${routeKey} ${status} ${code}`).toBe(status);
        const response = operation.responses[String(status)] as Json;
        if (response.content) expect(codeEnum(response), `${routeKey} ${status}`).toEqual(codes);
        for (const code of codes) expect(response.description, `${routeKey} ${status}`).toContain(`\`${code}\``);
      }
    }
  });

  it('documents every error status an operation lists with its codes, and Retry-After on 429 and 503', () => {
    for (const { routeKey, operation } of operations(document)) {
      for (const [status, response] of Object.entries(operation.responses as Json)) {
        if (Number(status) >= 400 && !(routeKey.endsWith(' /health') && status === '503')) expect(response['x-error-codes'], `${routeKey} ${status}`).toBeDefined();
        if (status === '429' || status === '503') expect(response.headers?.['Retry-After'], `${routeKey} ${status}`).toBeDefined();
      }
    }
  });

  it('documents what every request can get from the gateway on every operation', () => {
    const everywhere: ErrorCode[] = ['bad_request', 'method_not_allowed', 'payload_too_large', 'uri_too_long', 'headers_too_large', 'too_many_requests', 'internal'];
    for (const { routeKey, operation } of operations(document)) {
      const codes = [...documentedCodes(operation).values()].flat();
      for (const code of everywhere) expect(codes, routeKey).toContain(code);
    }
  });

  it('documents the codes of API.md and issue 5 where they happen', () => {
    const codesOf = (routeKey: string, status: number) => {
      const op = operations(document).find((o) => o.routeKey === routeKey);
      return op ? (documentedCodes(op.operation).get(status) ?? []) : [];
    };
    expect(codesOf('POST /v1/sources', 413)).toEqual(['payload_too_large']);
    expect(codesOf('POST /v1/sources', 409)).toEqual(['source_exists']);
    expect(codesOf('POST /v1/sources', 400)).toEqual(expect.arrayContaining(['malformed_json', 'invalid_source', 'duplicate_key', 'unsupported_charset', 'malformed_text']));
    expect(codesOf('POST /v1/submissions/{kind}', 400)).toEqual(
      expect.arrayContaining(['malformed_json', 'invalid_submission', 'duplicate_key', 'unsupported_charset', 'malformed_text', 'invalid_idempotency_key']),
    );
    expect(codesOf('POST /v1/submissions/{kind}', 404)).toContain('unknown_kind');
    expect(codesOf('POST /v1/submissions/{kind}', 409)).toEqual(['idempotency_in_progress']);
    expect(codesOf('POST /v1/submissions/{kind}', 415)).toEqual(['unsupported_encoding']);
    expect(codesOf('POST /v1/submissions/{kind}', 422)).toEqual(['idempotency_key_reused']);
    expect(codesOf('POST /v1/submissions/{kind}', 503)).toEqual(['unavailable']);
    // A non-owner gets the answer of an unknown id: 404, never 403.
    expect(codesOf('GET /v1/records/{id}', 404)).toContain('not_found');
    expect(codesOf('GET /v1/records/{id}', 403)).toEqual([]);
  });

  it('documents the Idempotency-Key and Content-Encoding request headers and the accepted charsets of bodies', () => {
    const submit = document.paths['/v1/submissions/{kind}'].post as Json;
    const headers = (submit.parameters as Json[]).filter((p) => p.in === 'header').map((p) => p.name);
    expect(headers).toEqual(expect.arrayContaining(['Idempotency-Key', 'Content-Encoding']));
    for (const op of [submit, document.paths['/v1/sources'].post as Json]) {
      expect(op.requestBody.description).toMatch(/gbk/);
      expect(op.requestBody.description).toMatch(/gb18030/);
      expect(op.requestBody.description).toMatch(/Content-Encoding: gzip/);
    }
  });

  it('documents the 503 of /health ({"status":"unavailable"}) and HEAD /health', () => {
    const health = document.paths['/health'] as Json;
    expect(health.head.operationId).toBe('headHealth');
    expect(health.get.responses['503'].content['application/json'].schema.anyOf).toContainEqual({ $ref: '#/components/schemas/HealthUnavailable' });
    expect(document.components.schemas.HealthUnavailable.properties.status).toMatchObject({ const: 'unavailable' });
    expect(health.head.responses['200'].content).toBeUndefined();
  });
});

// ---- 3. Routes ------------------------------------------------------------------------------------------

describe('the operations of the document are the routes of the catalogue', () => {
  const catalogued = routes.map((r) => r.routeKey).filter((k) => k !== '$default');

  it('has an operation with an operationId for every catalogue route', () => {
    for (const routeKey of catalogued) {
      const [method, path] = routeKey.split(' ') as [string, string];
      expect(document.paths[path]?.[method.toLowerCase()]?.operationId, routeKey).toBeTruthy();
    }
  });

  it('documents no operation the catalogue does not route', () => {
    expect(operations(document).map((o) => o.routeKey).filter((k) => !catalogued.includes(k))).toEqual([]);
  });
});

// ---- 4. Normalised fields -------------------------------------------------------------------------------

describe('the documented schemas accept what the server accepts in normalised fields', () => {
  const fullWidth = (s: string) => [...s].map((c) => (c >= '!' && c <= '~' ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join('');
  const USCC = '91110000600037341L';
  const RESIDENT_ID = '11010219910101006X';
  const usccSamples = [USCC, USCC.toLowerCase(), fullWidth(USCC), fullWidth(USCC.toLowerCase()), ` ${USCC} `];
  const idSamples = [RESIDENT_ID, RESIDENT_ID.toLowerCase(), fullWidth(RESIDENT_ID), fullWidth(RESIDENT_ID.toLowerCase())];
  const dateSamples = ['2026-01-05', fullWidth('2026-01-05')];

  /** The component schemas a request can carry (reachable by $ref from request bodies and parameters). */
  function requestComponents(): Set<string> {
    const reached = new Set<string>();
    const follow = (node: unknown) => {
      if (typeof node !== 'object' || node === null) return;
      const ref = (node as Json).$ref as string | undefined;
      const name = ref?.replace('#/components/schemas/', '');
      if (name && !reached.has(name)) {
        reached.add(name);
        follow(document.components.schemas[name]);
      }
      for (const child of Object.values(node)) follow(child);
    };
    for (const { operation } of operations(document)) follow([operation.requestBody, operation.parameters]);
    return reached;
  }

  /** The request property schemas whose name passes `test`, with where they are. */
  function requestPropertiesNamed(test: (name: string) => boolean): [string, Json][] {
    const out: [string, Json][] = [];
    const walk = (node: unknown, path: string) => {
      if (typeof node !== 'object' || node === null) return;
      const properties = (node as Json).properties as Json | undefined;
      for (const [name, schema] of Object.entries(properties ?? {})) if (test(name)) out.push([`${path}.${name}`, schema as Json]);
      for (const [key, child] of Object.entries(node)) walk(child, `${path}.${key}`);
    };
    for (const name of requestComponents()) walk(document.components.schemas[name], name);
    for (const { routeKey, operation } of operations(document)) walk([operation.requestBody, operation.parameters], routeKey);
    return out;
  }

  const isUsccField = (name: string) => /(SHXYM|JGDM|LYDWDM|SJLYDM)$/.test(name) || name === 'uscc';

  it('the server accepts the samples (so the next tests are about real input)', () => {
    for (const sample of usccSamples) expect(uscc('t').parse(sample)).toBe(USCC);
    for (const sample of idSamples) {
      const normalised = certificateNumber('t').parse(sample);
      expect(normalised).toBe(RESIDENT_ID);
      expect(residentIdProblem(normalised, todayInChina())).toBeNull();
    }
    for (const sample of dateSamples) expect(date('t').parse(sample)).toBe('2026-01-05');
  });

  it('USCC fields: lower-case and full-width values match the documented pattern, if any', () => {
    const fields = requestPropertiesNamed(isUsccField);
    expect(fields.map(([path]) => path)).toEqual(expect.arrayContaining([expect.stringMatching(/CreateSource\.uscc$/), expect.stringMatching(/XK_XDR_SHXYM$/), expect.stringMatching(/CF_CFJGDM$/)]));
    for (const [path, schema] of fields) {
      if (schema.pattern) for (const sample of usccSamples) expect(sample, `${path} ${schema.pattern}`).toMatch(new RegExp(schema.pattern, 'u'));
      expect(schema.description, path).toMatch(/NFKC/);
      for (const example of (schema.examples as string[] | undefined) ?? []) expect(uscc('t').safeParse(example).success, `${path} example ${example}`).toBe(true);
    }
  });

  it('identity-number fields: lower-case and full-width values match the documented pattern, if any', () => {
    const fields = requestPropertiesNamed((name) => name.endsWith('_ZJHM'));
    expect(fields.length).toBeGreaterThanOrEqual(2);
    for (const [path, schema] of fields) {
      if (schema.pattern) for (const sample of idSamples) expect(sample, `${path} ${schema.pattern}`).toMatch(new RegExp(schema.pattern, 'u'));
      expect(schema.description, path).toMatch(/NFKC/);
      // Examples are accepted by the field, and none is shaped like a resident identity number: the
      // document is public, and even a checksum fixture would read as a person's number.
      for (const example of (schema.examples as string[] | undefined) ?? []) {
        const normalised = certificateNumber('t').parse(example);
        expect(residentIdProblem(normalised, todayInChina()), `${path} example ${example}`).not.toBeNull();
        expect(normalised, `${path} example ${example}`).not.toMatch(/^\d{17}[\dX]$/);
      }
    }
  });

  it('date fields: full-width digits match the documented pattern, if any', () => {
    const fields = requestPropertiesNamed(() => true).filter(([, schema]) => schema.format === 'date' && schema.pattern !== undefined);
    for (const [path, schema] of fields) for (const sample of dateSamples) expect(sample, path).toMatch(new RegExp(schema.pattern, 'u'));
  });
});
