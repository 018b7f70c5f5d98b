import { ANSWERS } from '../answers.js';
import type { GraphClient } from '../client.js';
import type { AccessTokenResponse, DebugTokenData } from '../types.js';

export class OAuth {
  constructor(private readonly client: GraphClient) {}

  /** Exchanges an Embedded Signup code (30 s life) for a business token. */
  async exchangeCode(params: {
    appId: string;
    appSecret: string;
    code: string;
    redirectUri?: string;
  }): Promise<AccessTokenResponse> {
    const data = await this.client.request({
      method: 'GET',
      path: 'oauth/access_token',
      query: {
        client_id: params.appId,
        client_secret: params.appSecret,
        code: params.code,
        redirect_uri: params.redirectUri,
      },
      token: null,
      // a code is single-use: never replay it
      retry: false,
      answer: ANSWERS.accessToken,
    });
    // Meta documents a bare token string; real answers are JSON.
    return typeof data === 'string' ? { access_token: data, token_type: 'bearer' } : data;
  }

  /** Inspects a token with an app token (`APP_ID|APP_SECRET`) or the token itself. */
  async debugToken(inputToken: string, accessToken: string): Promise<DebugTokenData> {
    const res = await this.client.request({
      method: 'GET',
      path: 'debug_token',
      query: { input_token: inputToken },
      token: accessToken,
      answer: ANSWERS.debugToken,
    });
    return res.data;
  }
}
