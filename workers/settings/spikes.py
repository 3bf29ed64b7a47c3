"""``alerter.spikes`` in settings.yaml: the topic-spike detector's parameters (``workers.alerter.spikes``).

Validated at start-up like every setting: a wrong value is one line naming settings.yaml and the key, exit 2.
The defaults are the parameters measured in docs/decisions/0007-topic-spikes.md.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

BaselineKind = Literal["hour_of_week", "hour_of_day", "flat"]


class SpikeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # windows are aligned on the hour, so an hour holds a whole number of them
    window_minutes: int = Field(default=10, ge=1, le=60, description="a window's length; it divides 60")
    factor: float = Field(default=3.0, ge=1.0, description="a spike is at least this many times the baseline mean")
    z: float = Field(default=5.0, ge=0.0, description="... and this many deviations above it")
    min_count: int = Field(default=5, ge=1, description="... and at least this many story clusters in the window")
    # hour_of_week: a mean per hour of the week (news follows the clock and the weekday); hour_of_day: one per
    # hour, weekdays alike; flat: one mean for every window
    baseline: BaselineKind = "hour_of_week"
    alpha: float = Field(default=0.1, gt=0.0, le=1.0, description="weight of the newest window in a slot's mean")
    warmup_weeks: float = Field(default=2.0, gt=0.0, le=52.0, description="weeks before a slot has its own mean")
    # topic.quiet (workers.alerter.opsevents), judged against the same baseline once a UTC day is over
    quiet_fraction: float = Field(default=0.2, gt=0.0, lt=1.0, description="a day under this share of the expected")
    quiet_min_per_day: float = Field(default=10.0, ge=0.0, description="only topics expecting this many a day")

    @field_validator("window_minutes")
    @classmethod
    def _divides_the_hour(cls, v: int) -> int:
        if 60 % v:
            raise ValueError(
                f"{v} does not divide 60 (windows are aligned on the hour): use 1-6, 10, 12, 15, 20, 30 or 60"
            )
        return v
