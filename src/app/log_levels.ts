/**
 * The log levels, apart from the logger (which writes files), so that the config's checks can name
 * them in a browser too (the playground).
 *
 * @module
 */

/** Log levels, least to most severe. */
export const LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR"] as const;
/** One of {@linkcode LOG_LEVELS}. */
export type LogLevel = typeof LOG_LEVELS[number];
