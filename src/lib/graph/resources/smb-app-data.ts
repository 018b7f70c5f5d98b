import { ANSWERS } from '../answers.js';
import { type GraphClient, graphPath } from '../client.js';
import type { SmbAppDataResponse, SyncType } from '../types.js';

/** The one-shot coexistence syncs (meta-cloud-api.md §1.6): once per sync type, within 24 h of onboarding. */
export class SmbAppData {
  constructor(private readonly client: GraphClient) {}

  requestSync(phoneNumberId: string, syncType: SyncType): Promise<SmbAppDataResponse> {
    return this.client.request({
      method: 'POST',
      path: graphPath(phoneNumberId, 'smb_app_data'),
      body: { messaging_product: 'whatsapp', sync_type: syncType },
      idempotent: false,
      answer: ANSWERS.smbAppData,
    });
  }
}
