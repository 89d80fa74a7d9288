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
