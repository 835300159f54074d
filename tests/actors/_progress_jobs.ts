// Handlers that tests/actors/job_progress_test.ts runs in Web Workers and worker processes.
import type { Job } from "../../mod.ts";

/** Report 1..steps, `pause` ms apart (longer than the throttle), then answer. */
export async function steps(
  message: { steps: number; pause: number },
  job: Job,
): Promise<{ done: number }> {
  for (let i = 1; i <= message.steps; i++) {
    job.progress(i);
    await new Promise((r) => setTimeout(r, message.pause));
  }
  return { done: message.steps };
}

/** Report a value too large, and answer with the error it threw. */
export function tooLarge(_message: { steps: number; pause: number }, job: Job): { done: number } {
  try {
    job.progress({ text: "x".repeat(2000) });
  } catch (error) {
    if (error instanceof RangeError && /at most 1024/.test(error.message)) return { done: -1 };
    throw error;
  }
  return { done: 0 };
}
