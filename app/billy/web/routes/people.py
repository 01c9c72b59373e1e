"""The People page: whom Billy talks with and what he remembers of each (persona/people.py), to read, correct,
add to and forget."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from billy.persona.people import People, PeopleError, profile_name
from billy.settings.kinds import ConfigError
from billy.web.auth import Session
from billy.web.core import Web, action, back, page, render


def _people(web: Web) -> People:
    try:
        default_user = web.runtime_settings().default_user
    except ConfigError:
        default_user = "guest"
    return People(web.state_dir, default_user)


async def people_page(web: Web, request: Request, session: Session) -> Response:
    people = _people(web)
    listed = [
        {"name": name, "display_name": people.display_name(name), "memories": people.memories(name)}
        for name in people.names()
    ]
    current = profile_name(people.current()) if people.current() else ""
    return render(web, request, "people.html", session, people=listed, current=current)


def _known(people: People, form) -> str:
    """The person a form names: one of the profiles there are, never a path."""
    name = form.get("person", "")
    if profile_name(name) not in people.names():
        raise PeopleError(f"nobody called {name!r:.40}: the people are {', '.join(people.names()) or 'none yet'}")
    return name


async def remember(web: Web, request: Request, session: Session, form) -> Response:
    people = _people(web)
    try:
        name = form.get("person", "")
        people.meet(name)
        people.remember(name, form.get("text", ""))
    except PeopleError as error:
        return back(session, "/people", f"Not kept: {error}")
    return back(session, "/people", f"Billy remembers it for {people.display_name(name)}.")


def _on_person(web: Web, session: Session, form, refused: str, act) -> Response:
    """`act(people, name)` on the person the form names, its message shown; a PeopleError shown after `refused`."""
    people = _people(web)
    try:
        said = act(people, _known(people, form))
    except PeopleError as error:
        return back(session, "/people", f"{refused}: {error}")
    return back(session, "/people", said)


async def edit(web: Web, request: Request, session: Session, form) -> Response:
    def change(people: People, name: str) -> str:
        people.edit(name, form.get("memory_id", ""), form.get("text", ""))
        return "Changed."

    return _on_person(web, session, form, "Not changed", change)


async def forget(web: Web, request: Request, session: Session, form) -> Response:
    def forget_one(people: People, name: str) -> str:
        memory_id = form.get("memory_id", "")
        forgotten = people.forget(name, memory_id) if memory_id else []
        return "Forgotten." if forgotten else "There was no such memory."

    return _on_person(web, session, form, "Not forgotten", forget_one)


async def talk_with(web: Web, request: Request, session: Session, form) -> Response:
    """As if they had said "I'm Sam": Billy talks with them (and uses their memories) from the next turn on."""

    def make_current(people: People, name: str) -> str:
        people.set_current(name)
        return f"Billy talks with {people.display_name(name)} now."

    return _on_person(web, session, form, "Not changed", make_current)


async def delete(web: Web, request: Request, session: Session, form) -> Response:
    def delete_them(people: People, name: str) -> str:
        people.delete(name)
        return f"{name} and their memories are deleted."

    return _on_person(web, session, form, "Not deleted", delete_them)


def routes(web: Web) -> list[Route]:
    return [
        Route("/people", page(web, people_page), methods=["GET"]),
        Route("/people/remember", action(web, remember), methods=["POST"]),
        Route("/people/edit", action(web, edit), methods=["POST"]),
        Route("/people/forget", action(web, forget), methods=["POST"]),
        Route("/people/current", action(web, talk_with), methods=["POST"]),
        Route("/people/delete", action(web, delete), methods=["POST"]),
    ]
