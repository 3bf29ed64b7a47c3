"""The web console (`wirewatch web`, also started by `wirewatch run` and the demo): server-rendered pages for
operators (feed health, topics with their 24 h hits, live matches, subscribers, dead letters, "try a text") and a
portal per subscriber (its alerts and attempts, replay, disable/enable). It only reads the stages' state, through
``state`` (Redis, via the stages' own stores) and ``live`` (Kafka, without a consumer group); its actions are the
CLI's (replay, endpoint enable/disable). Needs the extra ``web`` (Starlette, Jinja2, uvicorn)."""
