/**
 * The error of a config that cannot be used, shared by every config format.
 *
 * @module
 */

/** A config that cannot be used; the message is meant for the user as is. */
export class ConfigError extends Error {
  override name = "ConfigError";
}
