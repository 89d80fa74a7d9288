from django.shortcuts import render
from django.utils.cache import add_never_cache_headers


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


class RefuseNulInQuery:
    """A NUL character in a page's query string (?team=%00) is never a real filter, and
    PostgreSQL refuses it in a query: answer 400 in the user's language before any view
    runs, instead of a server error. The API answers such input itself (problem+json)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/") and any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            return render(request, "400.html", status=400)
        return self.get_response(request)
