/**
 * The logger interface walnats writes to, and the console default.
 *
 * @module
 */

/**
 * Where walnats reports what happens in the listener (structured data as the second argument).
 *
 * @example Send walnats' logs to your logger
 * ```ts
 * import { type Logger, TextLog } from "@walnats/walnats";
 *
 * const logger: Logger = {
 *   error: (message, data) => console.error(JSON.stringify({ level: "error", message, data })),
 *   warn: (message, data) => console.warn(JSON.stringify({ level: "warn", message, data })),
 *   info: (message, data) => console.info(JSON.stringify({ level: "info", message, data })),
 * };
 * const log = new TextLog({ logger });
 * ```
 */
export interface Logger {
  /** Something failed that a human should look at. */
  error(message: string, data?: Record<string, unknown>): void;
  /** Something unexpected that walnats recovered from. */
  warn(message: string, data?: Record<string, unknown>): void;
  /** A step of normal life (start, stop, recovery). */
  info(message: string, data?: Record<string, unknown>): void;
}

/** Logs to the console. */
export const consoleLogger: Logger = {
  error: (message, data) => console.error(`walnats: ${message}`, data ?? ""),
  warn: (message, data) => console.warn(`walnats: ${message}`, data ?? ""),
  info: (message, data) => console.info(`walnats: ${message}`, data ?? ""),
};
