"""Writes of the duties app (R9). Each service is one transaction that journals what it
changed (journal kinds `duty.*`); a refusal by the rostering rules is an answer with reasons,
journaled as `duty.assignment_refused`, never a half-written roster."""

from muster.duties.services.assignments import (
    AssignOutcome,
    accept_roster,
    assign_person,
    cancel_assignment,
    check_in,
    check_out,
    correct_assignment,
    record_no_show,
)
from muster.duties.services.availability import record_availability, withdraw_availability
from muster.duties.services.equipment import issue_for_shift
from muster.duties.services.setup import (
    NewRequirement,
    cancel_shift,
    create_post,
    create_shift,
    create_shifts,
    define_duty_type,
)

__all__ = [
    "AssignOutcome",
    "NewRequirement",
    "accept_roster",
    "assign_person",
    "cancel_assignment",
    "cancel_shift",
    "check_in",
    "check_out",
    "correct_assignment",
    "create_post",
    "create_shift",
    "create_shifts",
    "define_duty_type",
    "issue_for_shift",
    "record_availability",
    "record_no_show",
    "withdraw_availability",
]
