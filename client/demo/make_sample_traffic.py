#!/usr/bin/env python3
"""Generates client/demo/sample_traffic.csv: a week of SMS and call traffic for
the demo agents (deterministic: the same file on every run).

    python3 client/demo/make_sample_traffic.py > client/demo/sample_traffic.csv

Three agents (ids fixed, created by run-demo.sh):
  Acme Support     US, 10 messages/hour per person, 80 new conversations/day
  Bistro Bookings  GB,  3 messages/hour per person, 12 new conversations/day
  Night Line       US, SMS disabled (every message is 'disabled'; calls still go in)

What is in it: people writing a few messages each and the agents' answers
(kind reply, with AI task metadata), numbers spelled every way
people and providers write them (E.164, national, dotted, 00-prefixed, tel:),
two blocked numbers that keep writing, a spammer bursting 25 messages in ten
minutes and an impatient customer (hourly limit), a Friday rush of new people
at the bistro (daily limit), a few numbers no library can parse, and calls
(ringing -> in_progress -> completed with a duration, or no_answer / busy /
failed / canceled).
"""
import csv
import datetime as dt
import random
import sys

ACME = "a1a1a1a1-0000-4000-8000-000000000001"
BISTRO = "b2b2b2b2-0000-4000-8000-000000000002"
NIGHT = "c3c3c3c3-0000-4000-8000-000000000003"
START = dt.datetime(2026, 11, 16, tzinfo=dt.timezone.utc)  # a Monday
DAYS = 7

rng = random.Random(20261116)
rows = []


def emit(kind, at, agent, phone, body="", call_sid="", status="", duration="", metadata=""):
    rows.append((at, len(rows), [kind, at.strftime("%Y-%m-%dT%H:%M:%SZ"), agent, phone, body, call_sid,
                                 status, duration, metadata]))


def us_number(i):
    area = [201, 212, 415, 617, 312, 305][i % 6]
    return area, 5550100 + (i * 7) % 100 + 100 * (i // 600)


def us_spelling(area, local):
    s = f"{local:07d}"
    return rng.choice([
        f"+1{area}{s}",
        f"({area}) {s[:3]}-{s[3:]}",
        f"{area}-{s[:3]}-{s[3:]}",
        f"{area}.{s[:3]}.{s[3:]}",
        f"1 {area} {s[:3]} {s[3:]}",
        f"+1 {area} {s[:3]} {s[3:]}",
        f"tel:+1-{area}-{s[:3]}-{s[3:]}",
    ])


def gb_spelling(n):
    s = f"{n:06d}"
    return rng.choice([
        f"+447400{s}",
        f"07400 {s}",
        f"07400{s}",
        f"+44 7400 {s}",
        f"0044 7400 {s}",
        f"(07400) {s[:3]} {s[3:]}",
    ])


ACME_TEXTS = ["hi, my order hasn't arrived", "where is my package?", "can I change my delivery address",
              "thanks!", "ok", "order #{n}", "I need a refund", "is anyone there?", "the tracking link is broken",
              "great, thank you", "can you call me back?", "what are your opening hours?"]
BISTRO_TEXTS = ["table for {n} tonight?", "can I book for saturday 8pm", "do you have vegan options",
                "running 10 minutes late", "cancel my booking please", "thanks, see you then",
                "is there parking nearby?", "booking for {n} at 7:30"]


def text(pool):
    return rng.choice(pool).format(n=rng.randint(2, 9999))


ACME_TOPICS = ["delivery", "refund", "order", "hours"]
ACME_ANSWERS = ["Sorry for the wait! Your parcel is out for delivery today.", "I've started your refund: 3-5 days.",
                "Done, the new address is on your order.", "We're open 8am-9pm, Monday to Saturday.",
                "Here is a fresh tracking link: acme.example/t/{n}", "You're welcome!"]
BISTRO_TOPICS = ["booking", "menu", "cancel"]
BISTRO_ANSWERS = ["Booked! See you then.", "Yes, half the menu is vegan.", "Your booking is cancelled.",
                  "No problem, we'll hold the table for 15 minutes.", "There is a car park on Mill Lane."]


def reply(t, agent, e164, topics, answers):
    """The AI agent's answer 5-55 s after a message, with the task facts the
    SMS-to-AI seed tracks (tokens, processing time, category, success)."""
    ms = rng.randint(300, 4000)
    ok = "true" if rng.random() < 0.92 else "false"
    meta = (f'{{"tokens_used": {rng.randint(40, 400)}, "processing_ms": {ms}, '
            f'"category": "{rng.choice(topics)}", "success": {ok}}}')
    emit("reply", t + dt.timedelta(seconds=rng.randint(5, 55)), agent, e164, text(answers), metadata=meta)


def conversation(agent, spell, pool, first, count, spread_minutes, replies=None):
    """count messages from one person; replies = (E.164, topics, answers): the agent
    answers most of them."""
    t = first
    for _ in range(count):
        emit("sms", t, agent, spell(), text(pool))
        if replies and rng.random() < 0.85:
            reply(t, agent, *replies)
        t += dt.timedelta(minutes=rng.randint(1, spread_minutes), seconds=rng.randint(0, 59))


def business_time(day, start_hour=8, end_hour=21):
    return START + dt.timedelta(days=day, hours=rng.randint(start_hour, end_hour - 1),
                                minutes=rng.randint(0, 59), seconds=rng.randint(0, 59))


# Acme Support: ~70 people a day, a few messages each; regulars come back.
# The agent answers (kind reply), except on Tuesday, when the burst below
# fills the daily limit and some of the day's people get no conversation.
for day in range(DAYS):
    for p in range(rng.randint(60, 80)):
        i = rng.randint(0, 400)
        area, local = us_number(i)
        conversation(ACME, lambda: us_spelling(area, local), ACME_TEXTS, business_time(day),
                     rng.randint(1, 6), 25, None if day == 1 else (f"+1{area}{local:07d}", ACME_TOPICS, ACME_ANSWERS))
# Tuesday: a burst of 90 new people after a shipping delay email (daily limit 80).
for p in range(90):
    area, local = us_number(1000 + p)
    conversation(ACME, lambda: us_spelling(area, local), ACME_TEXTS,
                 START + dt.timedelta(days=1, hours=15, minutes=p % 50, seconds=p), rng.randint(1, 2), 10)
# A spammer: 25 messages in ten minutes, twice a day on Wednesday and Thursday (hourly limit 10).
for day in (2, 3):
    for hour in (10, 16):
        t = START + dt.timedelta(days=day, hours=hour)
        for k in range(25):
            emit("sms", t + dt.timedelta(seconds=24 * k), ACME, "+12125550666", "WIN A FREE CRUISE!!! reply YES")
# Blocked numbers keep writing.
for day in range(DAYS):
    for k in range(rng.randint(2, 5)):
        emit("sms", business_time(day), ACME, rng.choice(["(415) 555-0999", "+14155550999", "312-555-0998"]),
             "you have been selected")

# Bistro Bookings (GB, 3 per hour per person, 12 new conversations a day).
for day in range(DAYS):
    for p in range(rng.randint(6, 11)):
        n = rng.randint(100000, 100300)
        conversation(BISTRO, lambda: gb_spelling(n), BISTRO_TEXTS, business_time(day, 10, 22),
                     rng.randint(1, 4), 15, None if day == 4 else (f"+447400{n:06d}", BISTRO_TOPICS, BISTRO_ANSWERS))
# Friday rush: 25 new people between 17:00 and 19:00 (daily limit 12).
for p in range(25):
    n = 200000 + p
    conversation(BISTRO, lambda: gb_spelling(n), BISTRO_TEXTS,
                 START + dt.timedelta(days=4, hours=17, minutes=p * 4), rng.randint(1, 2), 8)
# An impatient customer: 8 messages in 20 minutes (hourly limit 3).
t = START + dt.timedelta(days=5, hours=19, minutes=5)
for k in range(8):
    emit("sms", t + dt.timedelta(minutes=k * 2, seconds=rng.randint(0, 50)), BISTRO, gb_spelling(100042),
         "hello?? is my table confirmed")
# A blocked number.
for day in range(0, DAYS, 2):
    emit("sms", business_time(day), BISTRO, "07400 999999", "cheap loans, reply now")

# Night Line: SMS disabled; people text anyway.
for day in range(DAYS):
    for p in range(rng.randint(3, 8)):
        area, local = us_number(rng.randint(0, 200))
        emit("sms", business_time(day, 20, 24), NIGHT, us_spelling(area, local), "are you open?")

# Numbers nobody can parse (a provider bug, a short code typed as a number).
for k in range(6):
    emit("sms", business_time(rng.randint(0, DAYS - 1)), rng.choice([ACME, BISTRO]),
         rng.choice(["12", "555", "+0 000", "n/a"]), "???")

# Calls: ringing, then answered and completed, or not.
sid = 0
for agent, spell, per_day in ((ACME, lambda i: us_spelling(*us_number(i)), 40),
                              (BISTRO, lambda i: gb_spelling(100000 + i), 16),
                              (NIGHT, lambda i: us_spelling(*us_number(i)), 8)):
    for day in range(DAYS):
        for c in range(rng.randint(per_day // 2, per_day)):
            sid += 1
            call_sid = f"CA{sid:08x}"
            who = spell(rng.randint(0, 300))
            t = business_time(day, 8, 22) if agent != NIGHT else business_time(day, 20, 24)
            emit("call", t, agent, who, call_sid=call_sid, status="ringing")
            outcome = rng.random()
            if outcome < 0.7:
                t2 = t + dt.timedelta(seconds=rng.randint(3, 20))
                emit("call", t2, agent, who, call_sid=call_sid, status="in_progress")
                d = rng.randint(20, 900)
                emit("call", t2 + dt.timedelta(seconds=d), agent, who, call_sid=call_sid, status="completed",
                     duration=str(d), metadata='{"recorded": true}')
            else:
                end = rng.choice(["no_answer", "busy", "failed", "canceled"])
                emit("call", t + dt.timedelta(seconds=rng.randint(15, 40)), agent, who, call_sid=call_sid,
                     status=end)

rows.sort(key=lambda r: (r[0], r[1]))
w = csv.writer(sys.stdout, lineterminator="\n")
w.writerow(["kind", "at", "agent_id", "phone", "body", "call_sid", "status", "duration_seconds", "metadata"])
for _, _, r in rows:
    w.writerow(r)
