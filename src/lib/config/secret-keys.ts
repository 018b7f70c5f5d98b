/** The secrets wacx keeps, and their variables: known to the redactor before anything else loads. */
export const SECRET_KEYS = ['token', 'appSecret', 'databasePassword'] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];
export const SECRET_ENV: Record<SecretKey, string> = {
  token: 'WACX_TOKEN',
  appSecret: 'WACX_APP_SECRET',
  databasePassword: 'WACX_DATABASE_PASSWORD',
};
