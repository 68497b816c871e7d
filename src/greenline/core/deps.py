"""Request-scoped dependencies shared by every router: runtime and the unit-of-work session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from greenline.core.errors import AppError
from greenline.core.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:
    # async: no I/O here, and sync dependencies each cost a threadpool hop.
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    """One unit of work per request: commit on success, roll back on any error."""
    session = runtime.session()
    try:
        yield session
        session.commit()
    except AppError as exc:
        if exc.keep_changes:
            session.commit()
        else:
            session.rollback()
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# scope="function": the commit runs before the response is sent, so a client never sees a 2xx
# for a write that did not commit, and reads its own writes on the next request.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
