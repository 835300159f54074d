// What the Python walnats puts on the wire, byte for byte, and how it reads what we write.
// Sources (repository orsinium-labs/walnats):
// - walnats/serializers/_serializers.py: DatetimeSerializer.encode is `message.isoformat()`
//   as UTF-8, decode is `self.schema.fromisoformat(data.decode())`.
// - walnats/_events/_clock.py: each tick emits `datetime.now()` (naive, local time) with
//   uid `f"{now.timestamp() % period}"`.
// - walnats/_events/_connection.py (ConnectedEvents.request, _make_headers): a request is
//   published with JetStream and the single header `Walnats-Reply: <inbox>`; the first
//   message on the inbox is decoded as the response, headers unread.
// - walnats/_events/_cloud_event.py: `ce-time` is `f"{self.time.isoformat()}Z"`.
// The values below were printed by `python3` (3.11, TZ=UTC) from those expressions.

/** `datetime(2026, 12, 3, 3, 49, 0, 1637).isoformat()`: a Python Clock tick (naive). */
export const PY_CLOCK_TICK = "2026-12-03T03:49:00.001637";
/** Its Clock uid with the default period of 60 s: `f"{now.timestamp() % 60}"`. */
export const PY_CLOCK_UID = "0.0016369819641113281";
/** `date(2026, 12, 3).isoformat()`. */
export const PY_DATE = "2026-12-03";
/** `datetime(2026, 12, 3, 3, 49, 18).isoformat()`: no fraction when microseconds are 0. */
export const PY_NAIVE_WHOLE = "2026-12-03T03:49:18";
/** `datetime(2026, 12, 3, 3, 49, 18, 1637, tzinfo=timezone.utc).isoformat()`. */
export const PY_AWARE_UTC = "2026-12-03T03:49:18.001637+00:00";
/** The same moment at +05:30. */
export const PY_AWARE_IST = "2026-12-03T09:19:18.001637+05:30";
/** `f"{datetime(2026, 12, 3, 3, 49, 18, 1000).isoformat()}Z"`: CloudEvent.as_headers. */
export const PY_CE_TIME_MS = "2026-12-03T03:49:18.001000Z";
/** `f"{datetime(2023, 12, 31, 23, 59, 54).isoformat()}Z"`. */
export const PY_CE_TIME_WHOLE = "2023-12-31T23:59:54Z";

/** The fields of a Python `datetime`; `offset` in seconds, `null` for a naive one. */
export interface PyDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  microsecond: number;
  offset: number | null;
}

/**
 * A faithful TypeScript re-statement of `datetime.fromisoformat` in Python 3.7 to 3.10
 * (CPython Lib/datetime.py: `_parse_isoformat_date`, `_parse_hh_mm_ss_ff`,
 * `_parse_isoformat_time`, `datetime.fromisoformat`; the C module accepts the same strings).
 * Python 3.11 widened it (it reads `Z`), so a check with the local python3 proves nothing
 * for the older versions the Python walnats supports. Throws where Python raises ValueError.
 */
export function pyFromIsoformatBefore311(text: string): PyDateTime {
  const fail = (): never => {
    throw new Error(`ValueError: Invalid isoformat string: '${text}'`);
  };
  const dstr = text.slice(0, 10);
  const tstr = text.slice(11);
  // _parse_isoformat_date: exactly YYYY-MM-DD
  if (!/^\d{4}-\d{2}-\d{2}$/.test(dstr)) fail();
  const year = Number(dstr.slice(0, 4));
  const month = Number(dstr.slice(5, 7));
  const day = Number(dstr.slice(8, 10));
  let time = { hour: 0, minute: 0, second: 0, microsecond: 0 };
  let offset: number | null = null;
  if (tstr) {
    if (tstr.length < 2) fail();
    // tz_pos = (tstr.find('-') + 1 or tstr.find('+') + 1)
    const tzPos = (tstr.indexOf("-") + 1) || (tstr.indexOf("+") + 1);
    const timestr = tzPos > 0 ? tstr.slice(0, tzPos - 1) : tstr;
    time = parseHhMmSsFf(timestr, fail);
    if (tzPos > 0) {
      const tzstr = tstr.slice(tzPos);
      if (![5, 8, 15].includes(tzstr.length)) fail();
      const tz = parseHhMmSsFf(tzstr, fail);
      const seconds = tz.hour * 3600 + tz.minute * 60 + tz.second + tz.microsecond / 1e6;
      offset = tstr[tzPos - 1] === "-" ? -seconds : seconds;
      if (Math.abs(offset) >= 86_400) fail(); // timezone(): strictly within a day
    }
  }
  // datetime(...) checks the ranges
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > (days[month - 1] ?? 0)) fail();
  if (time.hour > 23 || time.minute > 59 || time.second > 59) fail();
  return { year, month, day, ...time, offset };
}

/** `_parse_hh_mm_ss_ff`: HH[:MM[:SS[.fff[fff]]]], digits only (as the C module). */
function parseHhMmSsFf(
  tstr: string,
  fail: () => never,
): { hour: number; minute: number; second: number; microsecond: number } {
  const comps = [0, 0, 0, 0];
  let pos = 0;
  for (let comp = 0; comp < 3; comp++) {
    if (tstr.length - pos < 2) fail();
    const two = tstr.slice(pos, pos + 2);
    if (!/^\d\d$/.test(two)) fail();
    comps[comp] = Number(two);
    pos += 2;
    const next = tstr.slice(pos, pos + 1);
    if (!next || comp >= 2) break;
    if (next !== ":") fail();
    pos += 1;
  }
  if (pos < tstr.length) {
    if (tstr[pos] !== ".") fail();
    pos += 1;
    const rest = tstr.slice(pos);
    if (![3, 6].includes(rest.length) || !/^\d+$/.test(rest)) fail();
    comps[3] = Number(rest) * (rest.length === 3 ? 1000 : 1);
  }
  const [hour = 0, minute = 0, second = 0, microsecond = 0] = comps;
  return { hour, minute, second, microsecond };
}

/** The epoch milliseconds of an aware Python datetime (microseconds truncated). */
export function pyEpochMs(dt: PyDateTime): number {
  if (dt.offset === null) throw new Error("naive datetime: no moment without a time zone");
  const date = new Date(0);
  date.setUTCFullYear(dt.year, dt.month - 1, dt.day);
  date.setUTCHours(dt.hour, dt.minute, dt.second, Math.floor(dt.microsecond / 1000));
  return date.getTime() - dt.offset * 1000;
}
