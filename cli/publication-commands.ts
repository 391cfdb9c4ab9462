/**
 * The credit office's publication commands (operator key), wired with commander into `hub` (cli/program.ts):
 *   hub reviews list [--limit N] [--all] [--cursor C] [--json]   the records waiting for review, oldest first
 *   hub reviews approve ID [--note TEXT]                         approve a record for publication
 *   hub reviews withhold ID --reason TEXT                        withhold it (also takes it off the site)
 *   hub records repair ID --reason TEXT                          credit repair: publication ends
 *   hub policy show, hub policy set …                            what is approved on arrival
 *   hub objections list, hub objections resolve ID --outcome O --note TEXT
 * What each does is in cli/reviews.ts, cli/decisions.ts, cli/policy.ts and cli/objections.ts.
 */
import { Command, Option } from 'commander';
import type { ConnectionFlags } from './connection.js';
import { decide, formatDecision, recordId, requiredText, type DecisionResult } from './decisions.js';
import { CliError } from './errors.js';
import type { HubClient } from './http-client.js';
import { formatObjections, formatResolved, listOpenObjections, objectionId, OBJECTION_OUTCOMES, resolveObjection, type ObjectionOutcome } from './objections.js';
import { checkPolicyChange, formatPolicy, getPolicy, POLICY_SCOPE_NOTICE, setPolicy, type PolicyChange } from './policy.js';
import { formatReviews, listReviews, moreNotice, REVIEW_PAGE_DEFAULT, REVIEW_PAGE_MAX } from './reviews.js';

/** What the commands need from the program: a client for the connection flags, the output, the interruption. */
export interface CommandContext {
  client: (flags: ConnectionFlags) => HubClient;
  /** Results (stdout). */
  stdout: (text: string) => void;
  /** One line of a message (stderr). */
  notice: (line: string) => void;
  /** Adds --url and --key. */
  connectionOptions: (command: Command) => Command;
  signal?: AbortSignal;
}

type Json = { json?: boolean };

function pageSize(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isInteger(n) || n < 1 || n > REVIEW_PAGE_MAX) {
    throw new CliError(`--limit 须为1到${REVIEW_PAGE_MAX}的整数 (--limit must be an integer from 1 to ${REVIEW_PAGE_MAX}, not ${JSON.stringify(text.slice(0, 40))})`);
  }
  return n;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function addPublicationCommands(program: Command, ctx: CommandContext): void {
  const { connectionOptions } = ctx;
  const printDecision = (result: DecisionResult, json: boolean | undefined) => ctx.stdout(json ? `${JSON.stringify(result)}\n` : formatDecision(result));

  const reviews = program.command('reviews').description('the review queue (operator key): the records waiting for review, approve or withhold them');
  connectionOptions(
    reviews
      .command('list')
      .description('the records waiting for review, oldest first: one page (--limit), or every page with --all')
      .option('--limit <n>', `records per page, 1 to ${REVIEW_PAGE_MAX}`, String(REVIEW_PAGE_DEFAULT))
      .option('--all', 'every page, following the cursor')
      .option('--cursor <cursor>', 'start after the page whose next cursor this is (as --json printed it)')
      .option('--json', 'print {items, next?} as JSON'),
  ).action(async (o: ConnectionFlags & Json & { limit: string; all?: boolean; cursor?: string }) => {
    const limit = pageSize(o.limit);
    const page = await listReviews(ctx.client(o), { limit, all: o.all === true, ...(o.cursor !== undefined ? { cursor: o.cursor } : {}), ...(ctx.signal ? { signal: ctx.signal } : {}) });
    ctx.stdout(o.json ? `${JSON.stringify(page)}\n` : formatReviews(page));
    const more = moreNotice(page);
    if (more && !o.json) ctx.notice(more);
  });
  connectionOptions(
    reviews
      .command('approve')
      .description('approve a record for publication (POST /v1/records/{id}/approve); it is published with the next publish')
      .argument('<id>', 'the record id (hub reviews list)')
      .option('--note <text>', 'why (kept with the decision)')
      .option('--json', 'print the record’s publication as JSON'),
  ).action(async (id: string, o: ConnectionFlags & Json & { note?: string }) => {
    const record = recordId(id);
    const body = o.note !== undefined ? { note: requiredText('--note', o.note) } : {};
    printDecision(await decide(ctx.client(o), record, 'approve', body, ctx.signal), o.json);
  });
  connectionOptions(
    reviews
      .command('withhold')
      .description('withhold a record (POST /v1/records/{id}/withhold): not published; a published one leaves the site')
      .argument('<id>', 'the record id (hub reviews list)')
      .requiredOption('--reason <text>', 'why it is not published (required; kept with the decision)')
      .option('--json', 'print the record’s publication as JSON'),
  ).action(async (id: string, o: ConnectionFlags & Json & { reason: string }) => {
    const record = recordId(id);
    const reason = requiredText('--reason', o.reason);
    printDecision(await decide(ctx.client(o), record, 'withhold', { reason }, ctx.signal), o.json);
  });

  const records = program.command('records').description('records (operator key): credit repair');
  connectionOptions(
    records
      .command('repair')
      .description('credit repair, 信用修复 (POST /v1/records/{id}/repair): publication ends; refused before the end of the grade’s minimum period')
      .argument('<id>', 'the record id')
      .requiredOption('--reason <text>', 'the conduct corrected, obligations performed, a commitment made (required; kept with the decision)')
      .option('--json', 'print the record’s publication as JSON'),
  ).action(async (id: string, o: ConnectionFlags & Json & { reason: string }) => {
    const record = recordId(id);
    const reason = requiredText('--reason', o.reason);
    printDecision(await decide(ctx.client(o), record, 'repair', { reason }, ctx.signal), o.json);
  });

  const policy = program.command('policy').description('the publication policy (operator key): every record waits for review, except the kinds and sources approved on arrival');
  connectionOptions(policy.command('show').description('the kinds and sources approved on arrival (GET /v1/publication-policy)').option('--json', 'print it as JSON')).action(
    async (o: ConnectionFlags & Json) => {
      const current = await getPolicy(ctx.client(o), ctx.signal);
      ctx.stdout(o.json ? `${JSON.stringify(current)}\n` : formatPolicy(current));
    },
  );
  connectionOptions(
    policy
      .command('set')
      .description("change what is approved on arrival (PUT /v1/publication-policy); the rest of the policy is kept. Applies to records pushed from now on")
      .option('--kinds <list>', "the kinds approved on arrival, comma-separated, replacing the list ('' for none)")
      .option('--sources <list>', "the sources approved on arrival, comma-separated, replacing the list ('' for none)")
      .option('--add-kind <kind>', 'approve this kind on arrival (repeatable)', collect)
      .option('--remove-kind <kind>', 'this kind waits for review again (repeatable)', collect)
      .option('--add-source <id>', 'approve this source’s records on arrival (repeatable)', collect)
      .option('--remove-source <id>', 'this source’s records wait for review again (repeatable)', collect)
      .option('--json', 'print the policy as JSON'),
  ).action(async (o: ConnectionFlags & Json & PolicyChange) => {
    const change: PolicyChange = {
      ...(o.kinds !== undefined ? { kinds: o.kinds } : {}),
      ...(o.sources !== undefined ? { sources: o.sources } : {}),
      ...(o.addKind ? { addKind: o.addKind } : {}),
      ...(o.removeKind ? { removeKind: o.removeKind } : {}),
      ...(o.addSource ? { addSource: o.addSource } : {}),
      ...(o.removeSource ? { removeSource: o.removeSource } : {}),
    };
    checkPolicyChange(change);
    const result = await setPolicy(ctx.client(o), change, ctx.signal);
    for (const note of result.notes) ctx.notice(`hub: ${note}`);
    ctx.stdout(o.json ? `${JSON.stringify(result.policy)}\n` : formatPolicy(result.policy));
    ctx.notice(result.changed ? POLICY_SCOPE_NOTICE : 'hub: 策略未改变，未发送 (the policy is unchanged: nothing sent)');
  });

  const objections = program.command('objections').description('objections, 异议 (operator key): the open ones with their deadlines, their resolution');
  connectionOptions(
    objections
      .command('list')
      .description('the open objections (every page), the overdue first, with their deadlines in Chinese working days and the objector’s contact')
      .option('--json', 'print {items} as JSON'),
  ).action(async (o: ConnectionFlags & Json) => {
    const items = await listOpenObjections(ctx.client(o), ctx.signal);
    ctx.stdout(o.json ? `${JSON.stringify({ items })}\n` : formatObjections(items));
  });
  connectionOptions(
    objections
      .command('resolve')
      .description('resolve an objection: upheld (the record stands), corrected (it stays; its source pushes the correction) or revoked (publication ends)')
      .argument('<id>', 'the objection id (hub objections list)')
      .addOption(new Option('--outcome <outcome>', 'what was decided').choices(OBJECTION_OUTCOMES).makeOptionMandatory())
      .requiredOption('--note <text>', 'the answer to the objector (required; kept with the objection)')
      .option('--json', 'print the result as JSON'),
  ).action(async (id: string, o: ConnectionFlags & Json & { outcome: ObjectionOutcome; note: string }) => {
    const objection = objectionId(id);
    const note = requiredText('--note', o.note);
    const resolved = await resolveObjection(ctx.client(o), objection, o.outcome, note, ctx.signal);
    ctx.stdout(o.json ? `${JSON.stringify(resolved)}\n` : formatResolved(resolved));
  });
}
