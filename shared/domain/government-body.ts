/**
 * Whether a subject is a government body (政府机关、事业单位), for the
 * government-integrity work (政务诚信): DOMAIN.md counts government bodies on
 * the dishonest-debtor list (target: zero growth).
 *
 * GB 32100: the first character of a USCC is the registration authority, and
 * `1` is 机构编制 (the establishment offices), which register organs (机关) and
 * public institutions (事业单位). Old organisation codes and identity numbers
 * do not say, so only a USCC can mark a subject as one.
 */
export const ESTABLISHMENT_REGISTRATION_AUTHORITY = '1';

/** True when the (valid, normalised) USCC was issued by the establishment offices: a 机关 or 事业单位. */
export function isGovernmentBody(uscc: string | undefined): boolean {
  return uscc !== undefined && uscc.length === 18 && uscc[0] === ESTABLISHMENT_REGISTRATION_AUTHORITY;
}
