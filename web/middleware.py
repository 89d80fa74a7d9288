import json

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpResponse, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from core import memo, untrusted


class NoStoreWhenSignedIn:
    """Pages for a signed-in user carry client data: no browser or proxy keeps a copy
    (a shared computer's back button shows nothing after sign-out)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            add_never_cache_headers(response)
        return response


class IgnoreNulCookies:
    """Before the session middleware: a cookie that carries a NUL character is not one
    Silta set (PostgreSQL refuses it in a query: the session lookup was a server error).
    It is dropped, and the request goes on as if it were absent (signed out)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        cookies = request.COOKIES
        for name in [name for name, value in cookies.items() if "\x00" in name + value]:
            del cookies[name]
        return self.get_response(request)


class RefuseNul:
    """A NUL character is never real input: no one types it, and PostgreSQL can neither
    store it in text nor take it in a query (it was a server error). In the path, a query
    parameter, a form field or anywhere in a JSON body it is answered 400 before any view
    runs, so nothing is written: pages with the 400 page in the user's language, the API
    with problem+json naming each parameter or field. A page marked
    names_nul_beside_the_field gets a NUL in its form body and names it beside the field.
    A body too large or malformed to be read is refused here too (413 or 400), never a
    server error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            found = _find_nul(request)
        except (SuspiciousOperation, MultiPartParserError) as exc:
            return _unreadable(request, too_large=isinstance(exc, RequestDataTooBig))
        if found is None:
            return self.get_response(request)
        part, names = found
        if part == "form" and _names_nul_beside_the_field(request):
            return self.get_response(request)
        return _refused(request, part, names)


def names_nul_beside_the_field(view):
    """Marks a page whose form (web.forms.SiltaForm) takes a NUL out of what was typed and
    names it beside the field: RefuseNul lets a NUL in its form body through, never one in
    the path or the query. For a public form whose sender cannot go back to fix it."""
    view.names_nul_beside_the_field = True
    return view


def _names_nul_beside_the_field(request) -> bool:
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return False
    return getattr(match.func, "names_nul_beside_the_field", False)


def _find_nul(request) -> tuple[str, list[str]] | None:
    """(part, names): the first part of the request that carries a NUL ("path", "query",
    "form" or "json"), and the name of every parameter, field or JSON path that does (""
    where there is no name); or None."""
    found: list[tuple[str, str]] = [("path", "")] if "\x00" in request.path else []
    for part, data in (("query", request.GET), ("form", _form_body(request))):
        found += [
            (part, untrusted.printable_name(key))
            for key, values in data.lists()
            if "\x00" in key or any("\x00" in value for value in values)
        ]
    if request.content_type == "application/json" or request.content_type.endswith("+json"):
        raw = request.body
        if untrusted.json_has_nul(raw):
            found += [("json", place) for place in _json_places(raw)]
    return (found[0][0], [name for _part, name in found]) if found else None


def _form_body(request) -> QueryDict:
    if request.path_info.startswith("/api/"):
        # The API reads JSON only and answers any other body 415: parsing it here would
        # leave DRF an empty body (and a 400 for every field) instead.
        return QueryDict()
    if request.method == "POST":
        return request.POST  # parsed once, for the view too (urlencoded and multipart)
    if request.content_type == "application/x-www-form-urlencoded":
        return QueryDict(request.body, encoding=request.encoding)
    return QueryDict()


def _json_places(raw: bytes) -> list[str]:
    """Where in a JSON body the NULs are, when the body can be read; else [""]."""
    if untrusted.json_nests_deeper_than(raw):
        return [""]
    try:
        return untrusted.where_not_text(json.loads(raw)) or [""]
    except ValueError:
        return [""]


def _problem(status: int, code: str, detail: str, **extra) -> JsonResponse:
    """The API's problem+json shape (api.errors.problem; web and api are sibling layers)."""
    body = {
        "type": "about:blank",
        "title": code.replace("_", " "),
        "status": status,
        "code": code,
        "detail": detail,
        **extra,
    }
    return JsonResponse(body, status=status, content_type="application/problem+json")


def _refused(request, part: str, names: list[str]) -> HttpResponse:
    if request.path.startswith("/api/"):
        message = _("Text may not contain the NUL character (U+0000).")
        return _problem(
            400,
            "invalid",
            _("Check the fields marked."),
            errors={name or "non_field_errors": [message] for name in names},
        )
    if part in ("path", "query"):
        return render(request, "400.html", status=400)
    return render(
        request,
        "400.html",
        {
            "heading": _("The form could not be sent"),
            "message": _(
                "What was sent contains a character that Silta cannot store (the NUL "
                "character). Go back, remove it and send the form again."
            ),
        },
        status=400,
    )


def _unreadable(request, *, too_large: bool) -> HttpResponse:
    status = 413 if too_large else 400
    message = (
        _("The request is larger than Silta accepts.")
        if too_large
        else _("The request could not be read.")
    )
    if request.path.startswith("/api/"):
        return _problem(status, "request_too_large" if too_large else "parse_error", message)
    return render(
        request,
        "400.html",
        {"heading": _("The form could not be sent"), "message": message},
        status=status,
    )


class ReadOnce:
    """Opens the request's memo (core.memo): what a request reads once, such as the
    actor's memberships, is remembered until its response is made."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with memo.read_once():
            return self.get_response(request)
