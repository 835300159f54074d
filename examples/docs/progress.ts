// Samples of job progress in docs/actors.md, docs/request-response.md and docs/operating.md
// (type-checked with `deno check examples/`).
import * as v from "valibot";
import {
  Actor,
  type ConnectedActors,
  type ConnectedEvents,
  Event,
  type Job,
} from "@walnats/walnats";

// #region handler
const videoUploaded = new Event("video-uploaded", v.object({ url: v.string(), frames: v.number() }))
  .withResponse(v.object({ thumbnails: v.number() }));

async function makeThumbnails(
  video: { url: string; frames: number },
  job: Job,
): Promise<{ thumbnails: number }> {
  for (let frame = 1; frame <= video.frames; frame++) {
    await renderFrame(video.url, frame, job.signal);
    // A number, or a small JSON value (at most 1 KiB); at most 5 updates a second go out.
    job.progress({ frame, of: video.frames, percent: Math.round((100 * frame) / video.frames) });
  }
  return { thumbnails: video.frames };
}

export const thumbnails = new Actor("make-thumbnails", videoUploaded, makeThumbnails, {
  jobTimeout: 10 * 60_000,
});
// #endregion handler

// #region request
export async function upload(events: ConnectedEvents, url: string): Promise<number> {
  const { thumbnails } = await events.request(videoUploaded, { url, frames: 240 }, {
    timeout: 10 * 60_000,
    // Called in order with each value the handler reports, before the answer.
    onProgress: (progress) => console.info("thumbnails:", progress),
  });
  return thumbnails;
}
// #endregion request

// #region health
export function runningJobs(actors: ConnectedActors): void {
  for (const [name, actor] of Object.entries(actors.health().actors)) {
    for (const job of actor.progress) {
      console.info(`${name} #${job.seq} (attempt ${job.attempt}):`, job.progress);
    }
  }
}
// #endregion health

function renderFrame(_url: string, _frame: number, _signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 10));
}
