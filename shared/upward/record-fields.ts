/**
 * A record version's fields as an upward platform receives them: the national field codes in the kind's standard
 * order, a natural person's certificate number decrypted and put back in full in the field it came from
 * (XK_XDR_ZJHM, CF_XDR_ZJHM, cardNum). The platforms are entitled to it (逐级推送); nothing else of the hub sees it
 * in clear except the operator's record view.
 */
import { inFieldOrder, pushKind } from '../../contracts/kinds.js';
import type { FieldCipher } from '../crypto/field-cipher.js';
import type { StoredHead } from '../domain/record-model.js';

export type Decrypter = Pick<FieldCipher, 'decrypt'>;

export async function nationalFields(head: Pick<StoredHead, 'id' | 'kind' | 'fields' | 'certificate'>, cipher: () => Promise<Decrypter>): Promise<Record<string, string>> {
  const spec = pushKind(head.kind);
  if (!head.certificate) return inFieldOrder(spec, head.fields);
  if (!spec) throw new Error(`record ${head.id} of kind ${head.kind} has a certificate but its kind has no certificate field`);
  const field = spec.subject.certificateNumberField;
  // Bound to the record and field by the encryption (shared/ingest/prepare.ts encrypts under `${id}:${field}`).
  const number = await (await cipher()).decrypt(head.certificate.cipher, `${head.id}:${field}`);
  return inFieldOrder(spec, { ...head.fields, [field]: number });
}
