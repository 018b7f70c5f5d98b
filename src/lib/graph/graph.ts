import { GraphClient, type GraphClientOptions } from './client.js';
import { Messages } from './resources/messages.js';
import { OAuth } from './resources/oauth.js';
import { PhoneNumbers } from './resources/phone-numbers.js';
import { SmbAppData } from './resources/smb-app-data.js';
import { Templates } from './resources/templates.js';
import { AppSubscriptions, WabaResource } from './resources/waba.js';

export * from './client.js';
export * from './error-codes.js';
export * from './errors.js';
export * from './types.js';

/** The client plus its typed resources: what commands and domains receive as `deps.graph()`. */
export class Graph {
  readonly phoneNumbers: PhoneNumbers;
  readonly waba: WabaResource;
  readonly appSubscriptions: AppSubscriptions;
  readonly templates: Templates;
  readonly messages: Messages;
  readonly smbAppData: SmbAppData;
  readonly oauth: OAuth;

  constructor(readonly client: GraphClient) {
    this.phoneNumbers = new PhoneNumbers(client);
    this.waba = new WabaResource(client);
    this.appSubscriptions = new AppSubscriptions(client);
    this.templates = new Templates(client);
    this.messages = new Messages(client);
    this.smbAppData = new SmbAppData(client);
    this.oauth = new OAuth(client);
  }

  static create(options: GraphClientOptions): Graph {
    return new Graph(new GraphClient(options));
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
