/**
 * The one way an error becomes text in hypha: its message, never the
 * object. An error can carry secrets beside its message (amqp-client's
 * AMQPError holds its connection, which holds the broker password), and a
 * runtime that prints the object shows them all (Bun 1.4 prints even
 * non-enumerable properties).
 *
 * @module
 */

/** `scheme://user:password@`: the password part of a URL in a message. */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:)[^\s/@]*@/gi;

/**
 * The message of anything thrown, for a log line or a refusal: only the
 * message, and any URL in it without its password.
 */
export function errorMessage(error: unknown): string {
  let message: string;
  try {
    message = error instanceof Error ? String(error.message) : String(error);
  } catch {
    // An object without a prototype, or a throwing toString.
    message = "(an error that cannot be printed)";
  }
  return message.replace(URL_PASSWORD, "$1***@");
}
