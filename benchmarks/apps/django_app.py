"""Django as ``startproject`` sets it up (default apps and MIDDLEWARE), in one module.

DEBUG is off and no view touches the session, the user or the database, so the default
middleware runs its per-request code without any query. Served over WSGI.
"""

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

from benchmarks.apps.django_settings import STARTPROJECT

settings.configure(**{**STARTPROJECT, "ROOT_URLCONF": __name__})


def plaintext(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Hello, World!", content_type="text/plain; charset=utf-8")


def json(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"message": "Hello, World!"})


def user(request: HttpRequest, user_id: int) -> JsonResponse:
    return JsonResponse({"id": user_id})


def query(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"name": request.GET.get("name")})


urlpatterns = [
    path("plaintext", plaintext),
    path("json", json),
    path("users/<int:user_id>", user),
    path("query", query),
]

application = get_wsgi_application()
