import { ANSWERS } from '../answers.js';
import { type GraphClient, graphPath } from '../client.js';
import { PHONE_NUMBER_FIELDS, type PhoneNumber, type SuccessResponse } from '../types.js';

export class PhoneNumbers {
  constructor(private readonly client: GraphClient) {}

  get(
    phoneNumberId: string,
    fields: readonly string[] = PHONE_NUMBER_FIELDS,
    signal?: AbortSignal,
  ): Promise<PhoneNumber> {
    return this.client.request({
      method: 'GET',
      path: graphPath(phoneNumberId),
      query: { fields: fields.join(',') },
      signal,
      answer: ANSWERS.phoneNumber,
    });
  }

  /** Lists the WABA's numbers, following cursor pages. */
  list(wabaId: string, fields: readonly string[] = PHONE_NUMBER_FIELDS): AsyncGenerator<PhoneNumber> {
    return this.client.paginate<PhoneNumber>({
      path: graphPath(wabaId, 'phone_numbers'),
      query: { fields: fields.join(','), limit: 100 },
      answer: ANSWERS.phoneNumberPage,
    });
  }

  /** Sets the phone-number-level webhook override. */
  setWebhookOverride(
    phoneNumberId: string,
    overrideCallbackUri: string,
    verifyToken: string,
  ): Promise<SuccessResponse> {
    return this.client.request<SuccessResponse>({
      method: 'POST',
      path: graphPath(phoneNumberId),
      body: {
        webhook_configuration: { override_callback_uri: overrideCallbackUri, verify_token: verifyToken },
      },
      idempotent: true,
    });
  }
}
