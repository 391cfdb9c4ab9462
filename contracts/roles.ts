/** The record kinds API.md names, the roles of sources, and which kinds each role may be granted. */

export const RECORD_KINDS = ['license', 'penalty', 'dishonest-debtor', 'discipline', 'commitment'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

export const SOURCE_ROLES = ['department', 'court', 'discipline', 'checker', 'platform'] as const;
export type SourceRole = (typeof SOURCE_ROLES)[number];
export type Role = SourceRole | 'operator';

/** The kinds a source of each role may be granted. checker and platform push nothing. */
export const KINDS_BY_ROLE: Record<SourceRole, readonly RecordKind[]> = {
  department: ['license', 'penalty', 'commitment'],
  court: ['dishonest-debtor'],
  discipline: ['discipline'],
  checker: [],
  platform: [],
};

/** Roles that push records and own what they pushed. */
export const PUSHING_ROLES: readonly SourceRole[] = ['department', 'court', 'discipline'];
