import type { AnswerShape } from '../answers.js';
import { type GraphClient, graphPath } from '../client.js';

/** The media node (OpenAPI `retrieveMediaUrl`): `url` is valid for 5 minutes and needs the token. */
export interface MediaNode {
  id: string;
  url: string;
  mime_type: string;
  sha256: string;
  /** Bytes; the spec gives a string, some answers a number. */
  file_size: number | null;
  messaging_product: string | null;
}

/** The fields wacx needs: present and strings (file_size a number or a numeric string). */
const MEDIA_NODE: AnswerShape<MediaNode> = {
  read(data) {
    if (!data || typeof data !== 'object') return { ok: false, path: [], problem: 'expected an object' };
    const o = data as Record<string, unknown>;
    for (const key of ['id', 'url', 'mime_type', 'sha256'] as const) {
      if (typeof o[key] !== 'string' || o[key] === '')
        return { ok: false, path: [key], problem: `expected a string, received ${typeof o[key]}` };
    }
    const size = o.file_size === undefined ? null : Number(o.file_size);
    if (size !== null && !Number.isSafeInteger(size))
      return { ok: false, path: ['file_size'], problem: 'expected a whole number of bytes' };
    return {
      ok: true,
      value: {
        id: o.id as string,
        url: o.url as string,
        mime_type: o.mime_type as string,
        sha256: o.sha256 as string,
        file_size: size,
        messaging_product: typeof o.messaging_product === 'string' ? o.messaging_product : null,
      },
    };
  },
};

export class Media {
  constructor(private readonly client: GraphClient) {}

  /** The media node; with `phoneNumberId`, Meta checks that the media belongs to that number. */
  get(mediaId: string, phoneNumberId?: string): Promise<MediaNode> {
    return this.client.request({
      method: 'GET',
      path: graphPath(mediaId),
      query: { phone_number_id: phoneNumberId },
      answer: MEDIA_NODE,
    });
  }

  /** The bytes behind a media node's URL (a stream). */
  download(node: Pick<MediaNode, 'url'>, signal?: AbortSignal) {
    return this.client.download(node.url, { signal });
  }
}
