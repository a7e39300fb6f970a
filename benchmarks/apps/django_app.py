"""Django as ``startproject`` sets it up (default apps and MIDDLEWARE), in one module.

DEBUG is off and no view touches the session, the user or the database, so the default
middleware runs its per-request code without any query. Served over WSGI.
"""

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    SECRET_KEY="benchmark-only-not-secret",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
        "django.contrib.staticfiles",
    ],
    MIDDLEWARE=[
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ],
    TEMPLATES=[
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "DIRS": [],
            "APP_DIRS": True,
            "OPTIONS": {
                "context_processors": [
                    "django.template.context_processors.request",
                    "django.contrib.auth.context_processors.auth",
                    "django.contrib.messages.context_processors.messages",
                ],
            },
        },
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    USE_TZ=True,
    STATIC_URL="static/",
)


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
