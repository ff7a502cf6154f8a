"""What "What's new" and the console's changelog both show: the kind of each program change,
as message ids translated where they are shown."""

from __future__ import annotations

from loyalty_app.domain.errors import N_

KIND_LABELS = {
    "reward": N_("Rewards"),
    "earning": N_("Ways to earn"),
    "tier": N_("Tiers"),
    "quest": N_("Double points"),
    "challenge": N_("Challenges"),
    "badge": N_("Badges"),
    "charity": N_("Charities"),
    "survey": N_("Surveys"),
    "program": N_("Program"),
}
