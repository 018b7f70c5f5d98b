import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { UsageError } from '../errors.js';

export const CAMPAIGN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function checkCampaignId(id: string): string {
  if (!CAMPAIGN_ID_PATTERN.test(id)) {
    throw new UsageError(
      `Invalid campaign id "${id}": use letters, digits, ".", "_" and "-" (at most 100).`,
      {
        location: '--campaign',
      },
    );
  }
  return id;
}

/** sha256 of a file, read through one reused buffer (no garbage, whatever the file size). */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 16);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

/**
 * The campaign id when --campaign is not given: derived from the CSV content, the template, the language and the
 * sending number, so that running the same command again resumes the same campaign (and a changed file is a
 * different campaign).
 */
export function deriveCampaignId(
  csvSha256: string,
  template: string,
  language: string,
  phoneNumberId: string,
): string {
  const h = createHash('sha256')
    .update(`${csvSha256}\n${template}\n${language}\n${phoneNumberId}`)
    .digest('hex');
  const name = template.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 60) || 'campaign';
  return `${name}-${h.slice(0, 10)}`;
}
