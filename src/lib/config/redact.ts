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
      .replace(/\bEAA[A-Za-z0-9]{20,}\b/g, (m) => mask(m));
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
