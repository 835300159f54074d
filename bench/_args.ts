/**
 * The command-line flags the benchmarks share.
 *
 * @module
 */
import process from "node:process";

/** `--smoke` (or `WALNATS_BENCH_SMOKE=1`): a small run that only shows the script works, for CI. */
export const SMOKE = process.argv.includes("--smoke") || process.env.WALNATS_BENCH_SMOKE === "1";

/**
 * The value of `--name N`, or `fallback` when the flag is absent.
 * @throws {TypeError} when the value is not a whole number of at least 1
 */
export function countFlag(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(
      `${name} must be a whole number of at least 1, got ${process.argv[at + 1]}`,
    );
  }
  return value;
}
