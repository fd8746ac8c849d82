"""The check every engine's exception map must pass: each class of its library has a deliberate mapping.

An engine's ``EXCEPTION_MAP`` (a ``kclient.engines._errors.ErrorMap``) maps by the most specific
type; a class mapped only through a generic base (a catch-all) has no decided mapping, and a
class whose own or nearest entry is not what ``kclient_error_for`` gives means the map is wrong.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeVar

from kclient import KClientError

E = TypeVar("E", bound=BaseException)


def all_subclasses(cls: type[E]) -> list[type[E]]:
    """Every subclass of ``cls``, recursively (``cls`` excluded)."""
    found: list[type[E]] = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(all_subclasses(sub))
    return found


def make_instance(cls: type[E], attempts: Sequence[Callable[[type[E]], E]]) -> E:
    """An instance of ``cls`` from the first of ``attempts`` (calls with the arguments it may need) that works."""
    errors = []
    for attempt in attempts:
        try:
            return attempt(cls)
        except Exception as exc:
            errors.append(repr(exc))
    raise AssertionError(f"cannot construct {cls.__qualname__}: {errors}")


def mapping_problems(
    classes: Iterable[type[BaseException]],
    error_map: Mapping[type[BaseException], type[KClientError]],
    error_for: Callable[[type[BaseException]], type[KClientError]],
    *,
    generic: tuple[type[BaseException], ...],
    own_entry: bool = False,
) -> list[str]:
    """What is wrong with the mapping of each of ``classes`` (nothing, when each has a decided one).

    ``error_for(cls)`` is what the engine maps an instance of ``cls`` to. A class is decided by its
    nearest entry in its MRO, the ``generic`` bases (catch-alls) skipped; with ``own_entry`` only an
    entry of its own decides it (for libraries that raise their base classes themselves).
    """
    mapped = dict(error_map)
    problems = []
    for cls in classes:
        error_class = error_for(cls)
        if not (issubclass(error_class, KClientError) and error_class is not KClientError):
            problems.append(f"{cls.__qualname__} -> {error_class!r} is not a specific KClientError subclass")
        if own_entry:
            decided = cls if cls in mapped else None
        else:
            decided = next((base for base in cls.__mro__ if base in mapped and base not in generic), None)
        if decided is None:
            nearest = next((base.__name__ for base in cls.__mro__ if base in mapped), "nothing")
            problems.append(
                f"{cls.__qualname__} is only mapped by a catch-all (the entry of {nearest}): add it to EXCEPTION_MAP"
            )
        elif error_class is not mapped[decided]:
            which = "own entry" if decided is cls else f"nearest entry {decided.__name__}"
            problems.append(
                f"{cls.__qualname__} -> {error_class.__name__}, but its {which} says {mapped[decided].__name__}: "
                "EXCEPTION_MAP is out of order"
            )
    return problems


def assert_catches_unmapped(
    problems_of: Callable[[list[type[BaseException]]], list[str]],
    unmapped: Mapping[type[BaseException], str],
    decided: Sequence[type[BaseException]],
    *,
    subclass_decided: bool = True,
) -> None:
    """The check reports a new subclass of each base of ``unmapped`` (only a catch-all, the entry its
    name says, maps it) and nothing for ``decided`` (new subclasses of them, or, without
    ``subclass_decided``, the classes themselves): what a future version of the library could add.

    The subclasses are made here and collected afterwards, so that no walk of ``__subclasses__()``
    (the tests of the whole library) ever sees them.
    """
    future: list[type[BaseException]] = [type(f"Future{base.__name__}", (base,), {}) for base in unmapped]
    if subclass_decided:
        future.extend(type(f"Future{base.__name__}", (base,), {}) for base in decided)
    try:
        problems = problems_of(future if subclass_decided else [*future, *decided])
        assert len(problems) == len(unmapped), problems
        for problem, cls, nearest in zip(problems, future, unmapped.values(), strict=False):
            assert f"{cls.__qualname__} is only mapped by a catch-all (the entry of {nearest})" in problem, problem
    finally:
        future.clear()
        gc.collect()


def assert_all_decided(
    classes: list[type[BaseException]],
    expected: Iterable[type[BaseException]],
    problems_of: Callable[[list[type[BaseException]]], list[str]],
    library: str,
) -> None:
    """The walk of ``library``'s exception classes found each of ``expected``, and each class it found is decided."""
    missing = [cls.__qualname__ for cls in expected if cls not in classes]
    assert not missing, f"the walk of {library}'s exceptions misses {missing}"
    problems = problems_of(classes)
    assert not problems, f"EXCEPTION_MAP misses {library} exceptions:\n" + "\n".join(problems)
