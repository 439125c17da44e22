"""Who did it: every journal entry names an actor, a person or a system process."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """The authenticated user (user_id set) or a named system process (user_id None)."""

    label: str
    user_id: int | None = None

    @classmethod
    def system(cls, process: str) -> Actor:
        return cls(label=f"system:{process}")

    @classmethod
    def for_user(cls, user: object) -> Actor:
        return cls(label=str(user.get_username()), user_id=int(user.pk))  # type: ignore[attr-defined]

    def __str__(self) -> str:
        return self.label
