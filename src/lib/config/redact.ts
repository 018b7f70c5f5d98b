/**
 * Removes secrets from any text before it is printed or logged: known secret values (tokens, app secrets)
 * registered at load time, plus patterns for bearer tokens, access_token= query values and Meta-style tokens.
 */
export class Redactor {
  private readonly secrets = new Set<string>();

  add(secret: string | undefined | null): void {
    // Very short values would redact ordinary words; real tokens and secrets are long.
    if (secret && secret.length >= 8) this.secrets.add(secret);
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) {
      if (out.includes(secret)) out = out.split(secret).join(mask(secret));
    }
    return out
      .replace(/(Bearer\s+)[A-Za-z0-9._~+/=|-]{8,}/gi, '$1***')
      .replace(/((?:access_token|appsecret_proof|client_secret|input_token)=)[^&\s"']+/gi, '$1***')
      .replace(/\bEAA[A-Za-z0-9]{20,}\b/g, (m) => mask(m))
      .replace(URL_PASSWORD, '$1***@');
  }
}

/** The password of a postgres://user:password@host URL, whatever its length. */
const URL_PASSWORD = /(postgres(?:ql)?:\/\/[^:/@\s]*:)[^@\s]*@/gi;

/** A PostgreSQL URL as it may be shown: the password replaced by ***. */
export function redactUrlPassword(text: string): string {
  return text.replace(URL_PASSWORD, '$1***@');
}

/** The password in a PostgreSQL URL (decoded), for the redactor; undefined when it has none. */
export function passwordInUrl(text: string | undefined): string | undefined {
  const written = text ? new RegExp(URL_PASSWORD.source, 'i').exec(text.trim())?.[0] : undefined;
  if (!written) return undefined;
  const raw = written.slice(written.lastIndexOf(':') + 1, -1);
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** Shows only a recognisable prefix: `EAAG…(redacted)`. */
export function mask(secret: string): string {
  return `${secret.slice(0, 4)}…(redacted)`;
}

/** Redacts a value for display where the secret's presence matters but not its content. */
export function redactedPreview(secret: string | undefined): string | null {
  return secret ? mask(secret) : null;
}
