"""curl commands in and out: ``parse_curl`` imports one (as browsers' "Copy as cURL" gives
it) into a ``RequestSpec``; ``to_curl`` prints a spec as the equivalent curl command.

Import reads the command as a POSIX shell would split it (single and double quotes, ``$'...'``
ANSI-C strings as Chrome and Firefox write them, backslash line continuations, ``#``
comments), without expanding anything: ``$HOME`` stays as it is written. Windows "Copy as
cURL (cmd)" (``^`` escapes) and PowerShell commands are not read.

Bodies, so that ``parse_curl(to_curl(spec))`` gives back an equivalent spec:

- a JSON Content-Type (``--json``, ``application/json``, ``*/*+json``) with valid JSON data
  gives ``json``; a plain ``Content-Type: application/json`` header is then left out (the
  client sets it for a JSON body), any other one is kept;
- data given only as ``--data-urlencode name=value`` options gives ``form`` (what ``to_curl``
  prints for forms);
- any other data is ``content``: the exact bytes curl would send, with curl's default
  ``Content-Type: application/x-www-form-urlencoded`` as a header unless one is given
  (``-H 'Content-Type:'`` removes it, as in curl);
- ``-F``/``--form-string`` give ``files`` and ``form`` (a multipart body).

This module only re-exports: the shell-word lexer is ``_shell_words``, the parser
``_curl_parse`` (with the option table and handlers in ``_curl_options``), the writer
``_curl_write``, and the media types they share ``_curl_media``.
"""

from __future__ import annotations

from ._curl_media import is_json_type
from ._curl_options import IGNORED_OPTIONS
from ._curl_parse import parse_curl
from ._curl_write import to_curl
from ._shell_words import Word, shell_words

__all__ = ["IGNORED_OPTIONS", "Word", "is_json_type", "parse_curl", "shell_words", "to_curl"]
