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
} as const;

export type Seed = typeof SEED;
