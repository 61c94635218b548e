from django.http import HttpResponse


def ceiling(request):
    """The cheapest Django page: same server and middleware, no template, no query.

    What every other case is measured against.
    """
    return HttpResponse("ok")
