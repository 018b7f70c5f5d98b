/**
 * The sandbox's seeded world: stable ids that the demo, the tests and users' CI can rely on.
 * (Numbers are in the 555 fictional range.)
 */
export const SEED = {
  app: { id: '1000000000000001', secret: 'sandbox-app-secret-0123456789abcdef', name: 'wacx Sandbox App' },
  businessId: '2000000000000001',
  waba: { id: '3000000000000001', name: 'Lucky Shrub (sandbox)', namespace: 'sandbox_ns_0001' },
  /** A system-user token with whatsapp_business_management and whatsapp_business_messaging on the WABA. */
  token: 'EAASANDBOXSYSTEMUSERTOKEN0000000000000000000001',
  configId: '4000000000000001',
  verifyToken: 'sandbox-verify-token',
  phoneNumbers: {
    /** Coexistence number: is_on_biz_app true, platform_type CLOUD_API, fixed 20 messages/s. */
    coex: { id: '5000000000000001', display: '+1 555-010-0001', e164: '15550100001', mps: 20 },
    /** Regular Cloud API number, 80 messages/s. */
    cloud: { id: '5000000000000002', display: '+1 555-010-0002', e164: '15550100002', mps: 80 },
    /** Business-App number waiting to be onboarded through Embedded Signup. */
    pending: { id: '5000000000000003', display: '+1 555-010-0003', e164: '15550100003', mps: 20 },
  },
  /** The system user behind SEED.token. */
  systemUserId: '7000000000000001',
  /** Templates present at start (ids stable). */
  templates: [
    {
      id: '6000000000000001',
      name: 'hello_world',
      language: 'en_US',
      category: 'UTILITY',
      status: 'APPROVED',
      components: [
        { type: 'HEADER', format: 'TEXT', text: 'Hello World' },
        {
          type: 'BODY',
          text: 'Welcome and congratulations!! This message demonstrates your ability to send a WhatsApp message notification from the Cloud API, hosted by Meta. Thank you for taking the time to test with us.',
        },
        { type: 'FOOTER', text: 'WhatsApp Business Platform sample message' },
      ],
    },
    {
      id: '6000000000000002',
      name: 'order_update',
      language: 'en_US',
      category: 'UTILITY',
      status: 'APPROVED',
      components: [
        {
          type: 'BODY',
          text: 'Hi {{1}}, your order {{2}} has shipped.',
          example: { body_text: [['Pablo', 'A-1001']] },
        },
      ],
    },
    {
      id: '6000000000000003',
      name: 'order_update',
      language: 'pt_BR',
      category: 'UTILITY',
      status: 'APPROVED',
      components: [
        {
          type: 'BODY',
          text: 'Olá {{1}}, seu pedido {{2}} foi enviado.',
          example: { body_text: [['Pablo', 'A-1001']] },
        },
      ],
    },
    {
      id: '6000000000000004',
      name: 'appointment_reminder',
      language: 'en_US',
      category: 'UTILITY',
      status: 'APPROVED',
      parameter_format: 'NAMED',
      components: [
        {
          type: 'BODY',
          text: 'Hi {{first_name}}, this is a reminder of your appointment on {{date}}.',
          example: {
            body_text_named_params: [
              { param_name: 'first_name', example: 'Pablo' },
              { param_name: 'date', example: 'May 1' },
            ],
          },
        },
      ],
    },
    {
      id: '6000000000000005',
      name: 'spring_sale',
      language: 'en_US',
      category: 'MARKETING',
      status: 'APPROVED',
      components: [
        { type: 'HEADER', format: 'TEXT', text: 'Spring sale' },
        {
          type: 'BODY',
          text: 'Hi {{1}}, enjoy 20% off everything with code {{2}} this week.',
          example: { body_text: [['Pablo', 'SPRING20']] },
        },
        { type: 'FOOTER', text: 'Reply STOP to opt out' },
        {
          type: 'BUTTONS',
          buttons: [
            { type: 'QUICK_REPLY', text: 'Stop promotions' },
            {
              type: 'URL',
              text: 'Shop now',
              url: 'https://shop.example.com/s/{{1}}',
              example: ['https://shop.example.com/s/spring'],
            },
          ],
        },
      ],
    },
    {
      id: '6000000000000006',
      name: 'order_receipt',
      language: 'en_US',
      category: 'UTILITY',
      status: 'APPROVED',
      components: [
        { type: 'HEADER', format: 'DOCUMENT', example: { header_handle: ['4::c2FuZGJveA=='] } },
        {
          type: 'BODY',
          text: 'Hi {{1}}, your receipt is attached.',
          example: { body_text: [['Pablo']] },
        },
      ],
    },
    {
      id: '6000000000000007',
      name: 'seasonal_promo',
      language: 'en_US',
      category: 'MARKETING',
      status: 'PAUSED',
      components: [{ type: 'BODY', text: 'Our seasonal offers are here, take a look!' }],
    },
    {
      id: '6000000000000008',
      name: 'legacy_welcome',
      language: 'en_US',
      category: 'MARKETING',
      status: 'DISABLED',
      components: [{ type: 'BODY', text: 'Welcome to our old loyalty program!' }],
    },
  ],
  /** The WhatsApp Business App's contacts (contact sync, history threads). */
  contacts: [
    { wa_id: '16505551234', full_name: 'Pablo Morales', first_name: 'Pablo' },
    { wa_id: '16505551235', full_name: 'Sheena Nelson', first_name: 'Sheena' },
    { wa_id: '16505551236', full_name: 'Aarav Shah', first_name: 'Aarav' },
    { wa_id: '16505551237', full_name: 'María García', first_name: 'María' },
    { wa_id: '16505551238', full_name: 'Chen Wei', first_name: 'Wei' },
  ],
  /**
   * The same people's business-scoped identities (BSUID mode, scenario `bsuid`), in the order of `contacts`. Those
   * with a username have adopted one: in BSUID mode their webhooks omit the phone (meta-cloud-api.md §15.1).
   */
  users: [
    { user_id: 'US.13491208655302741918', parent_user_id: 'US.ENT.11815799212886844830', username: null },
    {
      user_id: 'US.13491208655302741919',
      parent_user_id: 'US.ENT.11815799212886844831',
      username: 'sheena.plants',
    },
    { user_id: 'US.13491208655302741920', parent_user_id: 'US.ENT.11815799212886844832', username: null },
    {
      user_id: 'US.13491208655302741921',
      parent_user_id: 'US.ENT.11815799212886844833',
      username: 'maria.g',
    },
    { user_id: 'US.13491208655302741922', parent_user_id: 'US.ENT.11815799212886844834', username: null },
  ],
} as const;

export type Seed = typeof SEED;
