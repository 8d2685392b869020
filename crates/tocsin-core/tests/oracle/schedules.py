#!/usr/bin/env python3
"""Independent oracle for tocsin's on-call schedule resolution.

Written from the specification, not from the Rust: where the Rust paints layers and
overrides onto a timeline, this asks, for every instant, "who is on call?" directly, and
builds the shift list from the answers between consecutive breakpoints (hand-offs,
restriction edges, override edges), where nothing can change.

The specification:
- A wall-clock time that does not exist (DST gap) is read with the offset in force before
  the change, which moves it forward by the gap's length (02:30 -> 03:30 in New York);
  one that exists twice (DST fold) is the first.
- Rotation hand-off k: `Nh` is exact (first + k*N hours); `Nd`, `Nw`, `Nmo` are calendar
  steps of the first hand-off's wall-clock time (months clamp to the month's end:
  Jan 31 -> Feb 28 -> Mar 31). Slot k belongs to users[k mod len]. A layer is empty before
  its first hand-off; it keeps rotating while hidden by restrictions.
- A restriction on day D runs from D at `from` to `to` on D, or on D+1 when `to <= from`
  (equal: 24 hours). Restrictions of a layer are united; a restricted layer shows only
  inside them.
- A later layer wins where it has someone; config overrides win over layers, extra
  (runtime) overrides over config ones, and a later override over an earlier one.
- Shifts: maximal runs of one user inside [from, to); nobody is left out.
- Fairness: night is 22:00 to 07:00 on the person's wall clock.

Reads {"cases": [...]} as JSON on stdin, writes {"results": [...]} on stdout.
"""

import bisect
import json
import re
import sys
from datetime import date, datetime, time, timedelta, timezone

import icalendar
from dateutil.relativedelta import relativedelta
from zoneinfo import ZoneInfo

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOUR = 3_600_000
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def ms(aware):
    return (aware - EPOCH) // timedelta(milliseconds=1)


def aware(t):
    return EPOCH + timedelta(milliseconds=t)


def instant(wall, tz):
    """Naive wall-clock datetime -> ms, by the gap and fold rules above."""
    guess = wall.replace(tzinfo=UTC)
    # The offsets a day either side: one of them is in force at `wall` unless two
    # changes fall within a day, which no real zone does.
    before = (guess - timedelta(days=1)).astimezone(tz).utcoffset()
    after = (guess + timedelta(days=1)).astimezone(tz).utcoffset()
    real = []
    for off in {before, after}:
        t = guess - off
        if t.astimezone(tz).replace(tzinfo=None) == wall:
            real.append(ms(t))
    if real:
        return min(real)  # a fold: the first
    return ms(guess - before)  # a gap: the old offset carries it past the change


def wall_at(t, tz):
    return aware(t).astimezone(tz).replace(tzinfo=None)


def parse_every(text):
    digits = text.rstrip("hdwmo")
    unit = text[len(digits):]
    assert unit in ("h", "d", "w", "mo"), text
    return int(digits), unit


def parse_when(text, tz):
    """Config times: RFC 3339 with an offset (an instant) or the schedule's wall clock."""
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        return instant(dt, tz)
    return ms(dt)


class Layer:
    def __init__(self, spec, tz, lo, hi):
        self.users = spec["users"]
        n, unit = parse_every(spec["every"])
        start = datetime.fromisoformat(spec["start"])
        first = instant(start, tz)
        if unit == "h":
            self.handoff = lambda k: first + k * n * HOUR
        elif unit == "mo":
            self.handoff = lambda k: instant(start + relativedelta(months=k * n), tz)
        else:
            step = n * (7 if unit == "w" else 1)
            self.handoff = lambda k: instant(start + timedelta(days=k * step), tz)
        # The hand-offs that matter for [lo, hi): the last at or before lo, then all up to hi.
        k = self.last_at_or_before(lo)
        self.times, self.slots = [], []
        while True:
            t = self.handoff(k)
            self.times.append(t)
            self.slots.append(k)
            if t > hi:
                break
            k += 1
        self.windows = None
        if spec["restrictions"]:
            self.windows = restriction_windows(spec["restrictions"], tz, lo, hi)
            self.window_starts = [w[0] for w in self.windows]

    def last_at_or_before(self, t):
        """The largest k >= 0 with handoff(k) <= t, or 0; by doubling, then bisection."""
        if self.handoff(0) > t:
            return 0
        lo, hi = 0, 1
        while self.handoff(hi) <= t:
            lo, hi = hi, hi * 2
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self.handoff(mid) <= t:
                lo = mid
            else:
                hi = mid
        return lo

    def who(self, t):
        i = bisect.bisect_right(self.times, t) - 1
        if i < 0:
            return None  # before the first hand-off
        if self.windows is not None:
            j = bisect.bisect_right(self.window_starts, t) - 1
            if j < 0 or t >= self.windows[j][1]:
                return None
        return self.users[self.slots[i] % len(self.users)]

    def edges(self):
        out = list(self.times)
        for s, e in self.windows or []:
            out += [s, e]
        return out


def restriction_windows(restrictions, tz, lo, hi):
    """The union of every restriction's windows near [lo, hi), as disjoint sorted pairs."""
    raw = []
    day = wall_at(lo, tz).date() - timedelta(days=2)
    last = wall_at(hi, tz).date() + timedelta(days=2)
    while day <= last:
        for r in restrictions:
            days = r.get("days")
            if days is not None and DAYS[day.weekday()] not in days:
                continue
            f, t = time.fromisoformat(r["from"]), time.fromisoformat(r["to"])
            end_day = day if t > f else day + timedelta(days=1)
            s = instant(datetime.combine(day, f), tz)
            e = instant(datetime.combine(end_day, t), tz)
            if s < e:
                raw.append((s, e))
        day += timedelta(days=1)
    raw.sort()
    union = []
    for s, e in raw:
        if union and s <= union[-1][1]:
            union[-1] = (union[-1][0], max(union[-1][1], e))
        else:
            union.append((s, e))
    return union


def resolve(case):
    tz = ZoneInfo(case["zone"])
    lo, hi = case["from"], case["to"]
    span = (min([lo] + case["samples"]), max([hi] + case["samples"]))
    layers = [Layer(spec, tz, *span) for spec in case["layers"]]
    overrides = [
        (parse_when(o["from"], tz), parse_when(o["to"], tz), o["user"])
        for o in case["overrides"]
    ] + [(o["start"], o["end"], o["user"]) for o in case["extra"]]

    def who(t):
        for s, e, user in reversed(overrides):
            if s <= t < e:
                return user
        for layer in reversed(layers):
            user = layer.who(t)
            if user is not None:
                return user
        return None

    cuts = {lo, hi}
    for layer in layers:
        cuts.update(layer.edges())
    for s, e, _ in overrides:
        cuts.update((s, e))
    cuts = sorted(c for c in cuts if lo <= c <= hi)
    shifts, gaps = [], []
    for a, b in zip(cuts, cuts[1:]):
        user = who(a)
        runs = gaps if user is None else shifts
        if runs and runs[-1][1] == a and (user is None or runs[-1][2] == user):
            runs[-1][1] = b
        else:
            runs.append([a, b] if user is None else [a, b, user])
    result = {
        "shifts": shifts,
        "gaps": gaps,
        "who": [who(t) for t in case["samples"]],
        "fairness": fairness(shifts, case["user_zones"]),
    }
    if case.get("ical") is not None:
        result["ical"] = parse_ical(case["ical"])
    return result


def fairness(shifts, user_zones):
    out = {}
    for s, e, user in shifts:
        tz = ZoneInfo(user_zones[user])
        night = 0
        day = wall_at(s, tz).date() - timedelta(days=1)
        while day <= wall_at(e, tz).date():
            ns = instant(datetime.combine(day, time(22)), tz)
            ne = instant(datetime.combine(day + timedelta(days=1), time(7)), tz)
            night += max(0, min(e, ne) - max(s, ns))
            day += timedelta(days=1)
        hours, nights, count = out.get(user, (0, 0, 0))
        out[user] = (hours + (e - s), nights + night, count + 1)
    return {u: [h / HOUR, n / HOUR, c] for u, (h, n, c) in out.items()}


def parse_ical(text):
    cal = icalendar.Calendar.from_ical(text)
    events = []
    for ev in cal.walk("VEVENT"):
        events.append(
            [
                str(ev["UID"]),
                ms(ev.decoded("DTSTART")),
                ms(ev.decoded("DTEND")),
                str(ev["SUMMARY"]),
                str(ev.get("DESCRIPTION", "")),
            ]
        )
    # icalendar keeps X- properties raw; their default value type is TEXT (RFC 5545
    # 3.8.8.2), whose escapes are \\ \; \, and \n (3.3.11).
    raw = cal["X-WR-CALNAME"].to_ical().decode()
    name = re.sub(r"\\([\\;,nN])", lambda m: {"n": "\n", "N": "\n"}.get(m[1], m[1]), raw)
    return {"name": name, "events": events}


def main():
    cases = json.load(sys.stdin)["cases"]
    json.dump({"results": [resolve(c) for c in cases]}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
