/** HUB_EVENT_SOURCES_DISABLED: event-source mappings the local stack does not run (a mapping's `Enabled: false`). */
import { describe, expect, it } from 'vitest';
import { eventSources } from '../../infra/catalogue.js';
import { enabledEventSources } from '../../infra/local/stack.js';

describe('HUB_EVENT_SOURCES_DISABLED', () => {
  it('runs every mapping of the catalogue when unset or empty', () => {
    expect(enabledEventSources(undefined)).toEqual(eventSources);
    expect(enabledEventSources(' , ')).toEqual(eventSources);
  });

  it('leaves out the named mappings, and only those', () => {
    const enabled = enabledEventSources('recordChanges');
    expect(Object.keys(enabled).sort()).toEqual(Object.keys(eventSources).filter((n) => n !== 'recordChanges').sort());
  });

  it('refuses a name the catalogue does not have, listing the known ones', () => {
    expect(() => enabledEventSources('recordChanges, recordChange')).toThrow(/names no event source of the catalogue: recordChange \(known: recordChanges, /);
  });
});
