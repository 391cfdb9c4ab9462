/**
 * Functions named outside `functions` in the catalogue (infra/catalogue.ts): by bucket notifications,
 * schedules and `invokes`. Every one must name a function of the catalogue; the function-name
 * environment variables follow one rule on both runtimes.
 */
import { describe, expect, it } from 'vitest';
import { buckets, functionNameEnvVar, functionReferences, functions, localFunctionName, schedules, unknownFunctionReferences, type FunctionReferencing } from '../../infra/catalogue.js';

/** A catalogue whose notification, schedule and `invokes` name functions of the real catalogue. */
const wired: FunctionReferencing = {
  functions: { ...functions, submissions: { ...functions.submissions, invokes: ['records'] } },
  buckets: { batches: { notifications: [{ event: 'ObjectCreated', prefix: 'uploads/', function: 'submissions' }] } },
  schedules: { sweep: { function: 'health' } },
};

describe('function references of the catalogue', () => {
  it('lists every function a notification, a schedule or an invokes names, with where', () => {
    expect(functionReferences(wired)).toEqual([
      { at: 'buckets.batches.notifications[0]', function: 'submissions' },
      { at: 'schedules.sweep', function: 'health' },
      { at: 'functions.submissions.invokes[0]', function: 'records' },
      // The catalogue's own: the batch ingest and the nightly sync continue themselves; the jobs API starts the sync.
      { at: 'functions.batchIngest.invokes[0]', function: 'batchIngest' },
      { at: 'functions.jobs.invokes[0]', function: 'syncRunner' },
      { at: 'functions.jobs.invokes[1]', function: 'expireRunner' },
      { at: 'functions.jobs.invokes[2]', function: 'sitePublisher' },
      { at: 'functions.syncRunner.invokes[0]', function: 'syncRunner' },
      { at: 'functions.expireRunner.invokes[0]', function: 'expireRunner' },
      { at: 'functions.sitePublisher.invokes[0]', function: 'sitePublisher' },
    ]);
  });

  it('finds no unknown reference when each names a function of `functions`', () => {
    expect(unknownFunctionReferences(wired)).toEqual([]);
  });

  it('names each reference to a function that `functions` lacks (a typo, a function not added yet)', () => {
    const broken: FunctionReferencing = {
      ...wired,
      buckets: { batches: { notifications: [{ event: 'ObjectCreated', function: 'submisions' }] } },
      functions: { ...wired.functions, records: { ...functions.records, invokes: ['toString'] } },
    };
    expect(unknownFunctionReferences(broken)).toEqual([
      { at: 'buckets.batches.notifications[0]', function: 'submisions' },
      { at: 'functions.records.invokes[0]', function: 'toString' }, // not a property of the object's prototype either
    ]);
  });

  it('reads the catalogue itself by default: its bucket notifications and schedules are all listed', () => {
    const listed = functionReferences().map((r) => r.at);
    for (const [name, bucket] of Object.entries(buckets)) bucket.notifications.forEach((_, i) => expect(listed).toContain(`buckets.${name}.notifications[${i}]`));
    for (const name of Object.keys(schedules)) expect(listed).toContain(`schedules.${name}`);
  });
});

describe('function names in the environment', () => {
  it('names the variable after the function, in upper snake case', () => {
    expect(functionNameEnvVar('batchIngest')).toBe('HUB_FUNCTION_BATCH_INGEST');
    expect(functionNameEnvVar('records')).toBe('HUB_FUNCTION_RECORDS');
    expect(functionNameEnvVar('siteV2Publish')).toBe('HUB_FUNCTION_SITE_V2_PUBLISH');
  });

  it('names a function credit-hub-<name> in the local stack', () => {
    expect(localFunctionName('batchIngest')).toBe('credit-hub-batchIngest');
  });
});
