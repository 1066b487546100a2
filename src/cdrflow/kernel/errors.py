"""One error model for every service (issue 13, item 5).

A service raises one of these; it never speaks of CLI flags or HTTP. Each class has a stable ``code``
that the interfaces map: the CLI to an exit code and one ``error:`` line, a web layer to an HTTP
status (``http_status``). ``field`` names the input at fault and ``resource`` the record, when known.

=================  ===============  ====  =====================================================
class              code             HTTP  meaning
=================  ===============  ====  =====================================================
NotFound           not_found        404   no such case, provider, person, ...
Forbidden          forbidden        403   this person may not do this to this resource
Conflict           conflict         409   someone changed it first (version), or it exists
InvalidState       invalid_state    409   the resource is not in a state or stage for this
InvalidInput       invalid_input    422   a value is wrong; ``field`` names it
Unauthenticated    unauthenticated  401   no identity, or one the people table does not know
Unavailable        unavailable      503   the database or a file cannot be reached
=================  ===============  ====  =====================================================
"""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """The root of every error a service raises on purpose."""

    code: ClassVar[str] = "error"
    http_status: ClassVar[int] = 400
    exit_code: ClassVar[int] = 2

    def __init__(self, message: str, *, field: str | None = None, resource: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.resource = resource

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "field": self.field, "resource": self.resource}


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class Forbidden(DomainError):
    """Deny by default: the one "not allowed" error (never a wrong stage or a conflict)."""

    code = "forbidden"
    http_status = 403
    exit_code = 4


class Unauthenticated(DomainError):
    code = "unauthenticated"
    http_status = 401
    exit_code = 4


class Conflict(DomainError):
    code = "conflict"
    http_status = 409
    exit_code = 3


class InvalidState(DomainError):
    """The command does not apply to the resource as it is now (state, stage)."""

    code = "invalid_state"
    http_status = 409


class InvalidInput(DomainError):
    code = "invalid_input"
    http_status = 422


class Unavailable(DomainError):
    code = "unavailable"
    http_status = 503
