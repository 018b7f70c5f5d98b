import { ANSWERS } from '../answers.js';
import { type GraphClient, graphPath } from '../client.js';
import type { AppSubscription, SubscribedApp, SuccessResponse, Waba } from '../types.js';

export const WABA_FIELDS = [
  'id',
  'name',
  'timezone_id',
  'message_template_namespace',
  'account_review_status',
  'health_status',
];

export class WabaResource {
  constructor(private readonly client: GraphClient) {}

  get(wabaId: string, fields: readonly string[] = WABA_FIELDS): Promise<Waba> {
    return this.client.request({
      method: 'GET',
      path: graphPath(wabaId),
      query: { fields: fields.join(',') },
      answer: ANSWERS.waba,
    });
  }

  async subscribedApps(wabaId: string): Promise<SubscribedApp[]> {
    const page = await this.client.request({
      method: 'GET',
      path: graphPath(wabaId, 'subscribed_apps'),
      answer: ANSWERS.subscribedAppsPage,
    });
    return page.data;
  }

  /** Subscribes the token's app to the WABA's webhooks (idempotent on Meta's side). */
  subscribeApp(
    wabaId: string,
    override?: { overrideCallbackUri: string; verifyToken: string },
  ): Promise<SuccessResponse> {
    return this.client.request<SuccessResponse>({
      method: 'POST',
      path: graphPath(wabaId, 'subscribed_apps'),
      body: override
        ? { override_callback_uri: override.overrideCallbackUri, verify_token: override.verifyToken }
        : undefined,
      idempotent: true,
    });
  }

  unsubscribeApp(wabaId: string): Promise<SuccessResponse> {
    return this.client.request<SuccessResponse>({
      method: 'DELETE',
      path: graphPath(wabaId, 'subscribed_apps'),
    });
  }
}

/** App-level webhook subscriptions; these calls use the app token `APP_ID|APP_SECRET`. */
export class AppSubscriptions {
  constructor(private readonly client: GraphClient) {}

  async list(appId: string, appToken: string): Promise<AppSubscription[]> {
    const page = await this.client.request({
      method: 'GET',
      path: graphPath(appId, 'subscriptions'),
      token: appToken,
      answer: ANSWERS.appSubscriptionsPage,
    });
    return page.data;
  }

  subscribe(
    appId: string,
    appToken: string,
    params: { callbackUrl: string; verifyToken: string; fields: readonly string[] },
  ): Promise<SuccessResponse> {
    return this.client.request<SuccessResponse>({
      method: 'POST',
      path: graphPath(appId, 'subscriptions'),
      token: appToken,
      form: {
        object: 'whatsapp_business_account',
        callback_url: params.callbackUrl,
        verify_token: params.verifyToken,
        fields: params.fields.join(','),
      },
      idempotent: true,
    });
  }
}
