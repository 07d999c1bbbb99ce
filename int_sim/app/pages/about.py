"""About the model: what it simulates, what it compares against, how it is calibrated."""

from __future__ import annotations

import streamlit as st

from ... import __version__
from ...metrics import HEADLINE, METRICS
from ...scenario import CHECKLIST
from .. import core

SUMMARY = """
**What it simulates.** A synthetic neighbourhood of residents (by default 50,000, in six GP
practices) in seven patient groups: mild, moderate and severe frailty, severe mental illness,
multimorbidity, anxiety or isolation, and everyone else, spread over the five deprivation
quintiles. Each resident's risk of an emergency admission or a crisis rises in deterioration
episodes and fades again. While risk is raised the resident shows warning signs (a fall, a missed
appointment, carer strain) that some service sees.

**The team.** Professionals in eight roles (GPs, community nurses, therapists, social workers,
mental health practitioners, social prescribers, housing officers and care navigators) work for
different organisations. A sign reaches the integrated neighbourhood team faster and more often
with shared records, an information-sharing agreement, co-location, a GP in the MDT and trust
between colleagues. The MDT reviews the highest-risk cases its protected time allows, and a
reviewed case gets a joint plan whose actions start together, followed through by a care
navigator. Every action waits for a caseload place of its role. Staff spend time keeping in touch
with colleagues (more in a bigger team, less when co-located), build trust through contact, burn
out when overloaded, leave, and are replaced after a vacancy. Short-term funding ends at a cliff.

**The counterfactual.** Every configuration is measured against its own *no-INT counterfactual*:
the same residents and the same staff, working apart. There is no MDT, no co-location, no shared
records or agreement, no care navigators and no pooled budget. Each service still responds to the
signs it sees, later and one referral at a time, and some referrals are lost. Both run on the same
random numbers (common random numbers), so *admissions avoided* is a paired difference, not a
difference of two noisy totals.

**Calibration.** You set each group's emergency admission and crisis rates *without* an INT. The
model normalises every resident's hazard by the counterfactual's average on the same day, so the
counterfactual reproduces those base rates exactly in expectation, whatever else you change. An
INT that acts earlier and more jointly lowers risk below them. The size of the effect of a
completed plan (`care.intervention_effect`, 15% by default) is deliberately modest: reviews
(Stokes et al. 2015; Baxter et al. 2018) find small and inconsistent effects of integrated care
on admissions.

**What it is for.** Thinking through trade-offs: which of the review's 13 checklist factors
matter most in a given setting, how big a team and how wide a reach work best, and what a change
costs. It is not a forecast for any real place. The review found little evidence on team size and
reach, and the model's answers on those questions follow from its assumptions. Sweep them.
"""

RUNS = """
**Runs and uncertainty.** A run simulates a warm-up (120 days by default, excluded from every metric,
so that queues, trust and risk settle) and then the measured period (365 days). Each replication
uses fresh random numbers. The app reports the mean across replications with a 95% t-interval, and
compares configurations replication by replication against the first configuration. Quick runs
scale the neighbourhood down to 10,000 residents, with staff and practices in proportion, to give
answers in seconds. Use full size for figures you intend to quote. Every download carries the
int-sim version, the seed, the number of replications and a hash of the exact scenario, so any
figure can be re-run.
"""


def render() -> None:
    st.title("About the model")
    st.markdown(SUMMARY)
    st.markdown(RUNS)
    st.subheader("The 13 factors of the review's checklist, and where they are in the model")
    rows = [{"Factor": f"{i}. {factor}", "Scenario keys": ", ".join(keys)}
            for i, (factor, keys) in enumerate(CHECKLIST.items(), start=1)]
    st.dataframe(rows, hide_index=True, width="stretch")
    st.subheader("Headline metrics")
    st.dataframe([{"Metric": METRICS[m].label, "Unit": METRICS[m].unit, "Meaning": METRICS[m].description,
                   "Better": METRICS[m].better} for m in HEADLINE if m in METRICS], hide_index=True, width="stretch")
    st.subheader("Sources")
    st.write("Every parameter carries a unit, a range, a description and a source or a stated assumption. These "
             "appear as help text beside each lever in the app, and docs/parameters.md lists them all. "
             + core.ILLUSTRATIVE_NOTE)
    st.caption(f"int-sim {__version__}. Evidence base: a rapid evidence synthesis of 26 studies on the factors "
               "that help or hinder integrated neighbourhood teams (commissioned for Trafford Council).")
