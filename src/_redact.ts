/**
 * Hide credentials in server URLs, for every message and log line that shows a server.
 *
 * @module
 */

/** User info before a host: `scheme://user:pass@` or `token@` (at the start, or after a separator). */
const USER_INFO = /(^|[\s,;(\[{"'=]|[a-z][a-z0-9+.-]*:\/\/)([^\s/@,;"'()[\]{}]+)@/gi;

/**
 * Hide the credentials of every server URL in a text: `nats://a:secret@host` becomes
 * `nats://a:***@host` and `nats://token@host` becomes `nats://***@host`. Used for every
 * message and log line that shows a server.
 *
 * @param text a URL, a list of them, or a message that contains some
 * @returns the text without passwords or tokens
 */
export function redactCredentials(text: string): string {
  return text.replace(USER_INFO, (_, before: string, info: string) => {
    const colon = info.indexOf(":");
    return `${before}${colon < 0 ? "***" : `${info.slice(0, colon)}:***`}@`;
  });
}
